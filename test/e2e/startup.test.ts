// Start-up is a feature (DESIGN.md): a plain run must not load the Node modules only rare paths
// need. Checked on the built CLI through process.moduleLoadList, not by timing.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCerts } from '../fixtures/certs.js';
import { echoServer, tlsWsServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';
import { tracker } from '../helpers/spawn.js';

const track = tracker();

/** Runs the CLI and returns what it printed and the Node modules it loaded. */
async function modulesOf(
  args: string[],
  env: Record<string, string> = {},
  stdinFile?: { path: string },
) {
  const dir = mkdtempSync(join(tmpdir(), 'wsx-startup-'));
  const out = join(dir, 'modules.txt');
  const preload = join(dir, 'record.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`,
  );
  const r = await runCli(args, {
    env: { NODE_OPTIONS: `--require ${preload}`, ...env },
    stdinFile,
  });
  return { ...r, loaded: readFileSync(out, 'utf8').split('\n') };
}

describe('start-up loads only what the run needs', () => {
  it('a plain ws:// -x run loads no TLS, crypto, zlib, child_process, perf_hooks, fs/promises, v8 or module', async () => {
    const s = await track(echoServer());
    const r = await modulesOf([s.url, '-x', 'hello', '-w', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('hello\n');
    // tls and https: ws requires them at its top, the build makes them lazy (scripts/build.mts).
    // v8 and module: bin/wsx.js checks the code cache itself and passes its own require.
    // crypto and zlib: ws gets random bytes and SHA-1 from src/crypto-lite.ts, zlib when it
    // compresses (the server here offers no permessage-deflate).
    for (const name of [
      'crypto',
      'zlib',
      'tls',
      'https',
      '_tls_wrap',
      'child_process',
      'perf_hooks',
      'fs/promises',
      'dgram',
      'v8',
      'module',
    ]) {
      expect(r.loaded, name).not.toContain(`NativeModule ${name}`);
    }
    // The proof that the list is real: what the run does need is in it.
    expect(r.loaded).toContain('NativeModule net');
    expect(r.loaded).toContain('NativeModule http');
  });

  it('stdin from a file is read without fs streams (and so without the thread pool)', async () => {
    const s = await track(echoServer());
    const dir = mkdtempSync(join(tmpdir(), 'wsx-startup-in-'));
    const path = join(dir, 'in.txt');
    writeFileSync(path, 'one\ntwo\n');
    const r = await modulesOf([s.url, '-w', '0'], {}, { path });
    expect(r.stderr).toBe('');
    expect(r.out).toBe('one\ntwo\n');
    expect(r.loaded).not.toContain('NativeModule internal/fs/streams');
  });

  it('a wss:// run loads TLS where ws needs it, and works', async () => {
    const certs = makeCerts();
    const s = await track(
      tlsWsServer({ cert: certs.server.certPem, key: certs.server.keyPem }, (ws) =>
        ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b })),
      ),
    );
    const r = await modulesOf([s.url, '--ca', certs.ca, '-x', 'over tls', '-w', '0']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('over tls\n');
    expect(r.loaded).toContain('NativeModule tls');
    expect(r.loaded).toContain('NativeModule https');
  });
});

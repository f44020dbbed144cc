// Start-up is a feature (DESIGN.md): a plain run must not load the Node modules only rare paths
// need. Checked on the built CLI through process.moduleLoadList, not by timing.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeCerts } from '../fixtures/certs.js';
import { echoServer, tlsWsServer } from '../fixtures/servers.js';
import { BIN, runCli } from '../helpers/cli.js';
import { tracker } from '../helpers/spawn.js';

const track = tracker();
const execFileP = promisify(execFile);

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
  it('a plain ws:// -x run loads no TLS, crypto, child_process, perf_hooks, fs/promises, v8 or module', async () => {
    const s = await track(echoServer());
    const r = await modulesOf([s.url, '-x', 'hello', '-w', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('hello\n');
    // tls and https: ws requires them at its top, the build makes them lazy (scripts/build.mts).
    // v8 and module: bin/wsx.js checks the code cache itself and passes its own require.
    // crypto: ws gets random bytes and SHA-1 from src/crypto-lite.ts. (zlib: ws loads it only
    // when it compresses, but bin/wsx.js checks the code cache with zlib's native CRC-32.)
    for (const name of [
      'crypto',
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
    // Without a code cache to check, zlib is not loaded at all (ws's require of it is lazy).
    const plain = await modulesOf([s.url, '-x', 'hello', '-w', '0'], { WSX_NO_CODE_CACHE: '1' });
    expect(plain.out).toBe('hello\n');
    expect(plain.loaded).not.toContain('NativeModule zlib');
    expect(plain.loaded).toContain('NativeModule net');
  });

  it('a code cache is checked with native code, so V8 never optimizes a hash loop at start-up', async () => {
    // A JS hash over the 300 KB cache was hot enough for TurboFan: 4–6 ms and 4 MiB of RSS.
    const s = await track(echoServer());
    const cache = mkdtempSync(join(tmpdir(), 'wsx-startup-cc-'));
    // V8 keys a code cache to its flags: both runs trace optimizations (on stdout).
    const env = { ...process.env, XDG_CACHE_HOME: cache, WSX_CODE_CACHE_DEBUG: '1' };
    const traced = () =>
      execFileP(process.execPath, ['--trace-opt', BIN, s.url, '-x', 'hello', '-w', '0'], {
        env,
        timeout: 20_000,
      });
    expect((await traced()).stderr).toContain('code cache: written');
    const r = await traced();
    expect(r.stderr).toContain('code cache: used');
    expect(r.stdout).toMatch(/^hello$/m);
    expect(r.stdout).not.toMatch(/marking .*checksum/);
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

// The npm package as users get it: packed, then run with `npm exec --offline --package <tgz>`.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer, type WsTestServer } from '../fixtures/servers.js';
import { type Collected, collect } from '../helpers/spawn.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let tarball: string;
let server: WsTestServer;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsx-pack-'));
  // --ignore-scripts: dist/ is already built by `npm test`; rebuilding here would rewrite the
  // bundle under the feet of tests running in parallel.
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {
    cwd: root,
    stdio: 'ignore',
  });
  const file = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!file) throw new Error('npm pack made no tarball');
  tarball = join(dir, file);
  server = await echoServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

function npmExec(args: string[], cwd: string): Promise<Collected> {
  return collect(
    'npm',
    ['exec', '--offline', '--yes', '--package', tarball, '--', 'wsx', ...args],
    {
      cwd,
      env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' },
      timeoutMs: 60_000,
    },
  );
}

describe('npm package', () => {
  it('holds the bin shim, the bundle, README and licenses, and has no runtime dependencies', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
    // The lazily loaded sub-bundles: exactly the files the build wrote to dist/lazy/.
    const lazy = readdirSync(join(root, 'dist', 'lazy')).map((f) => `package/dist/lazy/${f}`);
    expect(lazy.length).toBeGreaterThan(5);
    expect(files).toEqual(
      [
        'package/LICENSE',
        'package/README.md',
        'package/THIRD-PARTY-LICENSES',
        'package/bin/wsx.js',
        'package/dist/wsx.cjs',
        ...lazy,
        'package/package.json',
      ].sort(),
    );
    const pkg = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    );
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.bin).toEqual({ wsx: 'bin/wsx.js' });
    expect(pkg.engines.node).toBe('>=20');
    const licenses = execFileSync('tar', ['-xzOf', tarball, 'package/THIRD-PARTY-LICENSES'], {
      encoding: 'utf8',
    });
    for (const bundled of [
      'ws@',
      'commander@',
      'chalk@',
      'enquirer@',
      'https-proxy-agent@',
      'socks-proxy-agent@',
      'proxy-from-env@',
    ]) {
      expect(licenses).toContain(bundled);
    }
  });

  it('runs with npm exec --offline: --version and a real connection', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsx-npx-'));
    const version = await npmExec(['--version'], cwd);
    expect(version.code).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const echo = await npmExec([server.url, '-x', 'packed', '-w', '0.2'], cwd);
    expect(echo.code).toBe(0);
    expect(echo.out).toBe('packed\n');
    // The lazily loaded sub-bundles (dist/lazy/) are in the package: jq and msgpack load.
    const lazy = await npmExec(
      [
        server.url,
        '-x',
        '{"a":{"b":42}}',
        '--encode',
        'msgpack',
        '--decode',
        'msgpack',
        '--decode-raw',
        '--filter',
        '.a.b',
        '-w',
        '0.3',
      ],
      cwd,
    );
    expect(lazy.code, lazy.err).toBe(0);
    expect(lazy.out).toBe('42\n');
  }, 120_000);
});

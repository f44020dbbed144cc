// The standalone binary (npm run build:binary): from an empty directory with no Node on PATH,
// it connects, pipes, and reports endings with the same exit codes.

import { copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { has, microsocks } from '../fixtures/proxies.js';
import { echoServer, type WsTestServer } from '../fixtures/servers.js';
import { type Collected, collect } from '../helpers/spawn.js';

const built = fileURLToPath(
  new URL(`../../dist/${process.platform === 'win32' ? 'wsx.exe' : 'wsx'}`, import.meta.url),
);
// CI (.ci/run) always builds the binary first, so there this suite can never be skipped.
const enabled = process.env.CI === 'true' || existsSync(built);

let bin: string;
let server: WsTestServer;

function runBin(
  args: string[],
  input?: string,
  env: Record<string, string> = {},
): Promise<Collected> {
  // No Node anywhere on PATH: the binary must carry everything.
  return collect(bin, args, {
    cwd: join(bin, '..'),
    env: { PATH: '/nonexistent', NO_COLOR: '1', HOME: join(bin, '..'), ...env },
    input,
  });
}

describe.runIf(enabled)('standalone binary', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-bin-'));
    bin = join(dir, 'wsx');
    copyFileSync(built, bin);
    server = await echoServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('--version, with no Node on PATH', async () => {
    const r = await runBin(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(r.err).toBe('');
  });

  it('pipes lines through losslessly', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n');
    const r = await runBin([server.url, '-w', '0.3'], `${input}\n`);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${input}\n`);
  });

  it('runs through a code cache made after its first run, kept apart from node bin/wsx.js', async () => {
    const debug = { WSX_CODE_CACHE_DEBUG: '1', XDG_CACHE_HOME: join(bin, '..', 'cc') };
    const notes = (r: Collected) =>
      r.err
        .split('\n')
        .filter((l) => l.startsWith('code cache: '))
        .map((l) => l.slice('code cache: '.length));
    const first = await runBin([server.url, '-x', 'cached', '-w', '0'], undefined, debug);
    expect(first.out).toBe('cached\n');
    expect(notes(first)).toEqual(['missing or stale', 'written']);
    const second = await runBin([server.url, '-x', 'cached', '-w', '0'], undefined, debug);
    expect(second.out).toBe('cached\n');
    expect(notes(second)).toEqual(['found', 'used']);
    expect(readdirSync(join(bin, '..', 'cc', 'wsx'))).toEqual([
      expect.stringMatching(/^execute-sea-v\d+/),
    ]);
  });

  it('exit codes: 3 for a 4001 close, 1 for refused, 2 for usage', async () => {
    expect((await runBin([server.url, '-x', 'bye'])).code).toBe(3);
    const refused = await runBin(['ws://127.0.0.1:1/', '-x', 'x']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error: connection refused/);
    expect((await runBin(['--bogus'])).code).toBe(2);
  });

  it.runIf(has('microsocks'))(
    'loads the lazily compiled modules too: through a SOCKS5 proxy',
    async () => {
      const proxy = await microsocks();
      try {
        const r = await runBin([
          server.url,
          '--proxy',
          proxy.url(),
          '-x',
          'via socks',
          '-w',
          '0.2',
        ]);
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        expect(r.out).toBe('via socks\n');
      } finally {
        await proxy.close();
      }
    },
  );
});

// bin/wsx.js's start-up caches (the V8 code cache per kind of run, the --help text): used when
// valid, and ignored then rewritten when the bundle changes or the file is corrupt.

import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer } from '../fixtures/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let pkg: string;
let cache: string;

/** Runs the copied package's bin; returns stdout and the code cache's debug lines. */
/** bin/wsx.js's checksum function, taken from its source (the script exports nothing). */
function binChecksum(): (data: Buffer) => string {
  const src = readFileSync(join(root, 'bin', 'wsx.js'), 'utf8');
  const fn = /\nfunction checksum\(data\) \{[\s\S]*?\n\}/.exec(src)?.[0];
  if (!fn) throw new Error('bin/wsx.js has no checksum function');
  return new Function('require', `${fn}\nreturn checksum;`)(createRequire(import.meta.url)) as (
    data: Buffer,
  ) => string;
}

function run(...args: string[]): { out: string; notes: string[] } {
  const r = spawnSync(process.execPath, [join(pkg, 'bin', 'wsx.js'), ...args], {
    env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, WSX_CODE_CACHE_DEBUG: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const notes = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('code cache: '))
    .map((l) => l.slice('code cache: '.length));
  return { out: r.stdout, notes };
}

/** run(), without blocking this process (a server of the test answers it), with `input` on stdin. */
function runWith(input: Buffer, ...args: string[]): Promise<{ bytes: number; notes: string[] }> {
  const child = spawn(process.execPath, [join(pkg, 'bin', 'wsx.js'), ...args], {
    env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, WSX_CODE_CACHE_DEBUG: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let bytes = 0;
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d;
  });
  child.stdin.end(input);
  return new Promise((resolve) =>
    child.on('close', () =>
      resolve({
        bytes,
        notes: err
          .split('\n')
          .filter((l) => l.startsWith('code cache: '))
          .map((l) => l.slice('code cache: '.length)),
      }),
    ),
  );
}

const codeCacheFile = () =>
  join(cache, 'wsx', readdirSync(join(cache, 'wsx')).find((f) => f.startsWith('help-v')) ?? 'none');

describe('bin/wsx.js start-up caches', () => {
  beforeAll(() => {
    // A copy of the package (bin, dist, package.json), so the bundle can be changed safely.
    pkg = mkdtempSync(join(tmpdir(), 'wsx-cc-'));
    cache = join(pkg, 'cache');
    mkdirSync(join(pkg, 'bin'));
    mkdirSync(join(pkg, 'dist'));
    copyFileSync(join(root, 'bin', 'wsx.js'), join(pkg, 'bin', 'wsx.js'));
    copyFileSync(join(root, 'dist', 'wsx.cjs'), join(pkg, 'dist', 'wsx.cjs'));
    copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  });
  afterAll(() => rmSync(pkg, { recursive: true, force: true }));

  it('--version prints the package version without the bundle', () => {
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    expect(run('--version').out).toBe(`${version}\n`);
  });

  it('writes the caches on the first run and uses them on the next, with the same output', () => {
    const first = run('--help');
    expect(first.out).toContain('Usage: wsx');
    expect(first.notes).toEqual(['missing or stale', 'written']);
    const second = run('--help');
    expect(second.notes).toEqual(['help text used']);
    expect(second.out).toBe(first.out);
    // Another argument list goes through the bundle and its code cache.
    const third = run('--help', '--no-color');
    expect(third.notes).toEqual(['found', 'used']);
    expect(third.out).toBe(first.out);
  });

  it('a corrupt code cache is rejected, the run still works, and the file is rewritten', () => {
    run('-h', '-q');
    const file = codeCacheFile();
    const data = readFileSync(file);
    // Flip bits in the middle of V8's data, leaving the header (the bundle key) intact.
    for (let i = Math.floor(data.length / 2); i < data.length; i += 997)
      data[i] = (data[i] as number) ^ 0x5a;
    writeFileSync(file, data);
    const r = run('-h', '-q');
    expect(r.out).toContain('Usage: wsx');
    expect(r.notes).toEqual(['found', 'rejected', 'written']);
    expect(run('-h', '-q').notes).toEqual(['found', 'used']);
    // Data that passes wsx's checksum but is not V8's (as if another Node had written it) is
    // rejected by V8 itself, and rewritten too. The checksum is bin/wsx.js's own function.
    const good = readFileSync(file);
    const keyEnd = good.indexOf(10) + 1;
    const foreign = Buffer.alloc(good.length - keyEnd - 17, 0x37);
    const line = `${binChecksum()(foreign)}\n`;
    writeFileSync(file, Buffer.concat([good.subarray(0, keyEnd), Buffer.from(line), foreign]));
    expect(run('-h', '-q').notes).toEqual(['found', 'rejected', 'written']);
    expect(run('-h', '-q').notes).toEqual(['found', 'used']);
    // Garbage, or an empty file, is a stale cache.
    writeFileSync(file, 'not a cache');
    expect(run('-h', '-q').notes).toEqual(['missing or stale', 'written']);
    writeFileSync(file, '');
    expect(run('-h', '-q').notes).toEqual(['missing or stale', 'written']);
    expect(run('-h', '-q').notes).toEqual(['found', 'used']);
  });

  it('a changed bundle invalidates both caches', () => {
    run('--help');
    expect(run('--help').notes).toEqual(['help text used']);
    expect(run('-h', '-q').notes).toEqual(['found', 'used']);
    // A rebuild: new content (and a new build hash on the first line), new help text.
    const bundle = readFileSync(join(pkg, 'dist', 'wsx.cjs'), 'latin1');
    const changed = bundle
      .replace(/^\/\/ wsx \S+/, '// wsx 0123456789abcdef')
      .replace('interactive console', 'interactive CONSOLE');
    expect(changed).not.toBe(bundle);
    writeFileSync(join(pkg, 'dist', 'wsx.cjs'), changed, 'latin1');
    // The old help text is not printed, and the code cache of the old bundle is not used.
    const help = run('--help');
    expect(help.notes).toEqual(['missing or stale', 'written']);
    expect(help.out).toContain('interactive CONSOLE');
    const again = run('--help');
    expect(again.notes).toEqual(['help text used']);
    expect(again.out).toBe(help.out);
    expect(run('-h', '-q').notes).toEqual(['found', 'used']);
    // Same content, new mtime (copied over, touched): the cache is made again too.
    writeFileSync(join(pkg, 'dist', 'wsx.cjs'), changed, 'latin1');
    expect(run('-h', '-q').notes).toEqual(['missing or stale', 'written']);
  });

  it('a run that turned on gc() (past 4 MiB of traffic) writes a cache the next run accepts', async () => {
    // V8 keys a code cache on its flags: one written while --expose-gc was still set (src/
    // memory.ts turns it on to get gc()) was rejected by every later run.
    const server = await echoServer();
    try {
      const line = `${'x'.repeat(1023)}\n`;
      const big = Buffer.from(line.repeat(6 * 1024));
      const first = await runWith(big, server.url, '-w', '1');
      expect(first.bytes).toBe(big.length);
      expect(first.notes).toEqual(['missing or stale', 'written']);
      const second = await runWith(Buffer.from('hello\n'), server.url, '-w', '1');
      expect(second.bytes).toBe(6);
      expect(second.notes).toEqual(['found', 'used']);
    } finally {
      await server.close();
    }
  });

  it('an unwritable cache directory costs only speed', () => {
    writeFileSync(join(pkg, 'not-a-dir'), '');
    const r = spawnSync(process.execPath, [join(pkg, 'bin', 'wsx.js'), '--help'], {
      env: { PATH: process.env.PATH, XDG_CACHE_HOME: join(pkg, 'not-a-dir') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: wsx');
    expect(r.stderr).toBe('');
  });
});

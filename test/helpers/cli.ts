// Spawn the built CLI (dist/wsx.cjs) the way a user runs it, and always kill it.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

// WSX_TEST_BIN runs the tests against another build (a private copy of the tree, say).
export const BIN =
  process.env.WSX_TEST_BIN ?? fileURLToPath(new URL('../../bin/wsx.js', import.meta.url));
const BUNDLE = process.env.WSX_TEST_BIN
  ? join(dirname(dirname(BIN)), 'dist', 'wsx.cjs')
  : fileURLToPath(new URL('../../dist/wsx.cjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as UTF-8 */
  out: string;
}

export interface CliOptions {
  /** Written to stdin then closed; a Readable is piped; undefined = /dev/null ('ignore'). */
  input?: string | Buffer | Readable;
  /** stdin redirected from this file (`wsx … < file`), read from `offset` on. */
  stdinFile?: { path: string; offset?: number };
  env?: Record<string, string | undefined>;
  /** Hard limit: the child is killed (SIGKILL) after this. */
  timeoutMs?: number;
  /** Called once the child is running (e.g. to send it a signal later). */
  onSpawn?: (child: ChildProcess) => void;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(BUNDLE)) throw new Error('dist/wsx.cjs is missing: run npm run build first');
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...opts.env };
  delete env.FORCE_COLOR;
  let fd: number | undefined;
  if (opts.stdinFile) {
    fd = openSync(opts.stdinFile.path, 'r');
    // The shell's `<` may hand over a file whose offset is not 0 (`{ head -c 10; wsx; } < f`).
    if (opts.stdinFile.offset) readSync(fd, Buffer.alloc(opts.stdinFile.offset));
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    env: env as NodeJS.ProcessEnv,
    stdio: [fd ?? (opts.input === undefined ? 'ignore' : 'pipe'), 'pipe', 'pipe'],
  });
  if (fd !== undefined) closeSync(fd);
  live.add(child);
  opts.onSpawn?.(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  if (opts.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {});
    if (typeof opts.input === 'string' || Buffer.isBuffer(opts.input)) child.stdin.end(opts.input);
    else opts.input.pipe(child.stdin);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const stdout = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout,
        out: stdout.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

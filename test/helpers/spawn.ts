// Spawn any command, collect its output, and always end it (SIGKILL after a deadline).

import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach } from 'vitest';

export interface Collected {
  code: number | null;
  out: string;
  err: string;
}

export function collect(
  cmd: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    input?: string;
    timeoutMs?: number;
    onSpawn?: (c: ChildProcess) => void;
  } = {},
): Promise<Collected> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? { ...process.env, NO_COLOR: '1' },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    opts.onSpawn?.(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input);
    }
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

/** Things with close() made by a test, all closed after it: `const track = tracker();` */
export function tracker(): <T extends { close(): unknown }>(p: Promise<T>) => Promise<T> {
  const open: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (p) => {
    const x = await p;
    open.push(x);
    return x;
  };
}

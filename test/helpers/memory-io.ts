// An Io made of in-memory streams, for running sessions in-process.

import { PassThrough } from 'node:stream';
import type { Io } from '../../src/io.js';

export interface MemoryIo extends Io {
  input: PassThrough;
  out(): string;
  err(): string;
}

export function memoryIo(opts: { tty?: boolean; env?: Record<string, string> } = {}): MemoryIo {
  const input = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (d: Buffer) => outChunks.push(d));
  stderr.on('data', (d: Buffer) => errChunks.push(d));
  const tty = opts.tty ?? false;
  return {
    input,
    stdin: () => input,
    stdout,
    stderr,
    stdinIsTTY: tty,
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
    env: opts.env ?? {},
    out: () => Buffer.concat(outChunks).toString('utf8'),
    err: () => Buffer.concat(errChunks).toString('utf8'),
  };
}

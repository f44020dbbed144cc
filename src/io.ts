// The process's streams and environment behind one interface, so sessions and tests can inject
// their own. The only module that refers to process.stdin/stdout/stderr/env.

import { fstatSync, readSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { builtin } from './builtin.js';

export interface OutStream extends Writable {
  isTTY?: boolean;
  columns?: number;
}

export interface InStream extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

export interface Io {
  /** Created on first use: execute mode never touches stdin (cron, nohup, closed fd 0). */
  stdin(): InStream;
  stdout: OutStream;
  stderr: OutStream;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** Stop reading stdin if it was ever opened, so it does not keep the process alive. */
  releaseStdin?(): void;
  /** Register what to do when stdout's reader goes away (EPIPE: `wsx … | head -1`). */
  onStdoutClosed?(handler: () => void): void;
}

export async function processIo(): Promise<Io> {
  // A terminal is a character device: anything else (a pipe, a file, no fd 0) is known without
  // node:tty, which pipes and scripts then never load. /dev/null is one too: ask tty then.
  const stdinIsTTY = isCharDevice(0) && (await import('node:tty')).isatty(0);
  let stdin: InStream | undefined;
  const closedHandlers: Array<() => void> = [];
  // A reader that stops reading (`| head -1`) is not a crash: tell the run, and write nothing more.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      for (const h of closedHandlers.splice(0)) h();
    }
  });
  process.stderr.on('error', () => {});
  return {
    onStdoutClosed: (handler) => {
      closedHandlers.push(handler);
    },
    stdin: () => {
      stdin ??= isRegularFile(0) ? fileReader(0) : process.stdin;
      return stdin;
    },
    releaseStdin: () => {
      stdin?.destroy();
    },
    stdout: process.stdout,
    stderr: process.stderr,
    // isatty(0) does not create process.stdin, unlike process.stdin.isTTY.
    stdinIsTTY,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
  };
}

/** What a file stdin is read in: as much as Node's own file streams read at a time. */
const FILE_CHUNK = 64 * 1024;

/**
 * stdin redirected from a file (`wsx … < messages.txt`), read with read(2) on the main thread, a
 * chunk per event-loop turn. process.stdin would be an fs.ReadStream, whose every read goes through
 * libuv's thread pool: starting the pool and a round trip per chunk cost a few ms of a short run
 * (issue 10). A regular file never blocks for long, and one chunk per turn keeps the socket served.
 */
export function fileReader(fd: number, chunkSize = FILE_CHUNK): InStream {
  const { Readable } = builtin<typeof import('node:stream')>('node:stream');
  return new Readable({
    highWaterMark: chunkSize,
    read() {
      setImmediate(() => {
        if (this.destroyed) return;
        let buf: Buffer;
        let n: number;
        try {
          buf = Buffer.allocUnsafe(chunkSize);
          n = readSync(fd, buf, 0, chunkSize, null);
        } catch (err) {
          this.destroy(err as Error);
          return;
        }
        this.push(n > 0 ? buf.subarray(0, n) : null);
      });
    },
  });
}

/** fstat of an fd that may be closed or missing (then undefined). */
function statOf(fd: number): ReturnType<typeof fstatSync> | undefined {
  try {
    return fstatSync(fd);
  } catch {
    return undefined;
  }
}

const isCharDevice = (fd: number) => statOf(fd)?.isCharacterDevice() === true;
const isRegularFile = (fd: number) => statOf(fd)?.isFile() === true;

/** Output is gathered in slabs this large: one copy per message, one write per slab or turn. */
const SLAB = 64 * 1024;
/** Chunks at least this large are written as they are (after what is gathered), not copied. */
const BY_REFERENCE = 16 * 1024;

/**
 * Batches writes to a stream: many small messages become one write per event-loop turn, which
 * matters when stdout is a pipe (synchronous on Linux: one syscall per write). Small chunks are
 * copied into a slab as they come (no list of pieces to concatenate later); a slab is never
 * reused, since the stream may still hold the part already handed to it. Reports back-pressure
 * so the caller can pause the socket feeding it.
 */
export class BatchedWriter {
  private slab: Buffer = Buffer.alloc(0);
  /** Bytes of the slab handed to the stream already, and gathered so far. */
  private start = 0;
  private pos = 0;
  private scheduled = false;
  private blocked = false;
  private drainWaiters: Array<() => void> = [];
  private readonly limit: number;

  constructor(
    private readonly stream: Writable,
    opts: { limit?: number; onPressure?: (blocked: boolean) => void } = {},
  ) {
    this.limit = opts.limit ?? SLAB;
    this.onPressure = opts.onPressure;
  }

  private readonly onPressure: ((blocked: boolean) => void) | undefined;

  write(chunk: string | Buffer): void {
    // Nobody reads a destroyed stream (its reader went away): drop, do not buffer.
    if (chunk.length === 0 || this.stream.destroyed) return;
    if (typeof chunk === 'string') {
      // Up to 3 bytes per UTF-16 unit: a cheap bound before the exact count.
      const max = chunk.length * 3;
      if (max <= this.slab.length - this.pos) {
        this.pos += this.slab.write(chunk, this.pos);
      } else {
        const len = Buffer.byteLength(chunk);
        if (len >= BY_REFERENCE) {
          this.direct(chunk);
          return;
        }
        this.room(len);
        this.pos += this.slab.write(chunk, this.pos);
      }
    } else {
      if (chunk.length >= BY_REFERENCE) {
        this.direct(chunk);
        return;
      }
      this.room(chunk.length);
      chunk.copy(this.slab, this.pos);
      this.pos += chunk.length;
    }
    this.gathered();
  }

  /** `data` and a newline (raw output of a text message), without concatenating them first. */
  writeLine(data: Buffer): void {
    if (this.stream.destroyed) return;
    if (data.length + 1 >= BY_REFERENCE) {
      this.direct(data);
      this.write('\n');
      return;
    }
    this.room(data.length + 1);
    data.copy(this.slab, this.pos);
    this.slab[this.pos + data.length] = 0x0a;
    this.pos += data.length + 1;
    this.gathered();
  }

  private gathered(): void {
    if (this.pos - this.start >= this.limit) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }

  private readonly onImmediate = (): void => this.flush();

  /** Make room for `n` bytes in the slab: a new slab when this one is full. */
  private room(n: number): void {
    if (this.pos + n <= this.slab.length) return;
    this.flush();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB, n));
    this.start = 0;
    this.pos = 0;
  }

  /** A big chunk: what is gathered goes first, then the chunk itself. */
  private direct(chunk: string | Buffer): void {
    this.flush();
    this.hand(chunk);
  }

  /** Write what is buffered now. */
  flush(): void {
    this.scheduled = false;
    if (this.pos === this.start) return;
    const data = this.slab.subarray(this.start, this.pos);
    this.start = this.pos;
    this.hand(data);
  }

  private hand(data: string | Buffer): void {
    let ok = true;
    try {
      ok = this.stream.write(data);
    } catch {
      // EPIPE and friends surface as 'error' events on the stream; nothing to do here.
    }
    if (!ok && !this.blocked) {
      this.blocked = true;
      this.onPressure?.(true);
      this.stream.once('drain', () => {
        this.blocked = false;
        this.onPressure?.(false);
        for (const w of this.drainWaiters.splice(0)) w();
      });
    }
  }

  /** Flush, and resolve once the stream has taken everything (bounded by `ms`). */
  async end(ms = 5000): Promise<void> {
    this.flush();
    // A stream whose reader went away takes nothing more; do not wait for it.
    if (this.stream.destroyed || this.stream.errored) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        // An empty write's callback runs after everything before it has been handed over.
        this.stream.write('', done);
      } catch {
        done();
      }
    });
  }
}

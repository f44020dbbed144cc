// Byte endpoints as Duplexes for pair(): a readable and a writable joined into one (stdin +
// stdout, a child's stdout + stdin), and a child process run through `sh -c`.

import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex, type Readable, type Writable } from 'node:stream';

export interface JoinOptions {
  /** end() ends the writable too (a child's stdin); false for stdout, which is never closed. */
  endWritable: boolean;
  /** Called on destroy: stop the readable (stdin must not keep the process alive). */
  stopReading?: () => void;
}

/** One Duplex reading from `r` and writing to `w`, with back-pressure both ways. */
export class Joined extends Duplex {
  private dead = false;

  constructor(
    private readonly r: Readable,
    private readonly w: Writable,
    private readonly opts: JoinOptions,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024 });
    r.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) r.pause();
    });
    r.once('end', () => this.push(null));
    r.on('error', (err) => this.destroy(err));
    // Writing to a program that has exited (EPIPE) or a reader that went away is not fatal:
    // the other direction still runs; what is written from now on is dropped.
    w.on('error', () => {
      this.dead = true;
    });
    w.once('close', () => {
      this.dead = true;
    });
  }

  override _read(): void {
    this.r.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.dead || this.w.destroyed) {
      cb();
      return;
    }
    if (this.w.write(chunk)) {
      cb();
      return;
    }
    const go = () => {
      this.w.off('drain', go);
      this.w.off('close', go);
      cb();
    };
    this.w.on('drain', go);
    this.w.on('close', go);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.dead || this.w.destroyed) cb();
    else if (this.opts.endWritable) this.w.end(() => cb());
    // stdout stays open (it is the process's): everything written has been handed over once an
    // empty write's callback runs.
    else this.w.write('', () => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.opts.stopReading) this.opts.stopReading();
    else {
      // Keep draining (a child's stdout) so the program is not stuck writing to a full pipe:
      // what it writes from now on is dropped, and it can see its stdin's end and exit.
      this.r.removeAllListeners('data');
      this.r.on('data', () => {});
      this.r.resume();
    }
    cb(err);
  }
}

export interface Child {
  stream: Joined;
  process: ChildProcess;
  /** Resolves with the exit status (128 + n for a signal) once the process has exited. */
  exited: Promise<number>;
  /** Stop it: SIGTERM (and SIGKILL if it ignores that), remembering that wsx did. */
  stop(): void;
  /** wsx stopped it (its status then does not count). */
  readonly stoppedByUs: boolean;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGPIPE: 13,
  SIGTERM: 15,
};

/** Run `command` through `sh -c` with stdin/stdout as a Duplex; stderr is wsx's stderr. */
export function spawnChild(command: string, env: NodeJS.ProcessEnv): Child {
  // Its own process group, so that stopping it stops what `sh -c` started too (a pipeline, a
  // loop's `sleep`) instead of leaving them running.
  const child = spawn('sh', ['-c', command], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env,
    detached: true,
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      child.kill(name);
    }
  };
  let stoppedByUs = false;
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 1) : 1));
    });
    // spawn('sh') failing (no sh on PATH) reports here instead of 'exit'.
    child.once('error', () => resolve(127));
  });
  const stream = new Joined(child.stdout as Readable, child.stdin as Writable, {
    endWritable: true,
  });
  return {
    stream,
    process: child,
    exited,
    get stoppedByUs() {
      return stoppedByUs;
    },
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stoppedByUs = true;
      signal('SIGTERM');
      // A program that ignores SIGTERM must not keep wsx (or a listener's slot) forever.
      const kill = setTimeout(() => signal('SIGKILL'), 5000);
      kill.unref();
      void exited.then(() => clearTimeout(kill));
    },
  };
}

/**
 * SPEC §13: once the WebSocket side is gone, the program's stdin is closed (pair does that);
 * a program still running 2 s later gets SIGTERM.
 */
export function stopAfterGrace(child: Child, ms = 2000): void {
  const timer = setTimeout(() => child.stop(), ms);
  void child.exited.then(() => clearTimeout(timer));
}

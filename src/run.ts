// Orchestration: (Options, Io) → exit code. Picks the peer source (connect, demo) and the session
// driver (REPL, pipe, execute), wires the renderer, and maps the ending to an exit code.
// No process.* here: cli.ts owns the process.

import { connect } from './connection.js';
import type { DemoServer } from './demo.js';
import { type Ending, exitCodeFor, WsxError } from './errors.js';
import type { WsxEvent } from './events.js';
import { BatchedWriter, type Io } from './io.js';
import type { ClientOptions, Options } from './options.js';
import { type PreparedConnect, prepareConnect } from './prepare.js';
import { createRenderer, errorLines, palette } from './render/renderer.js';
import { Controller } from './session/controller.js';
import { historyPath } from './session/history.js';
import { runPipe } from './session/pipe.js';

export type SignalName = 'SIGINT' | 'SIGTERM';

export interface RunContext {
  /** Subscribe to SIGINT/SIGTERM; returns an unsubscribe function. */
  onSignal(handler: (signal: SignalName) => void): () => void;
  /** Ask for a secret without echo (passwords, passphrases). */
  askSecret?(message: string): Promise<string>;
}

interface Sink {
  out(data: string | Buffer): void;
  err(text: string): void;
}

export async function run(options: Options, io: Io, ctx: RunContext): Promise<number> {
  return runClient(options, io, ctx);
}

async function runClient(options: ClientOptions, io: Io, ctx: RunContext): Promise<number> {
  const { output, session } = options;
  const paint = palette(output.color);
  const paintErr = palette(output.colorErr);
  let controller: Controller | undefined;
  const writer = new BatchedWriter(io.stdout, {
    onPressure: (blocked) => (blocked ? controller?.peer?.pause() : controller?.peer?.resume()),
  });
  const defaultSink: Sink = {
    out: (data) => writer.write(data),
    err: (text) => {
      writer.flush();
      io.stderr.write(text);
    },
  };
  let sink: Sink = defaultSink;
  const render = createRenderer(output, { stdoutIsTTY: io.stdoutIsTTY, paint, paintErr });
  const emit = (event: WsxEvent) => {
    const r = render(event);
    if (r.out !== undefined) sink.out(r.out);
    if (r.err !== undefined) sink.err(r.err);
  };

  let demo: DemoServer | undefined;
  let connectOptions: PreparedConnect;
  try {
    let connect = options.connect;
    if (options.demo) {
      const { startDemoServer } = await import('./demo.js');
      demo = await startDemoServer();
      // The demo server is on loopback: never through a proxy.
      connect = { ...connect, url: demo.url, noProxy: true };
    }
    connectOptions = await prepareConnect(connect, ctx.askSecret);
  } catch (err) {
    await demo?.close();
    const e = err instanceof WsxError ? err : new WsxError('io', String(err));
    io.stderr.write(errorLines(e, paintErr));
    return exitCodeFor({ kind: 'error', error: e });
  }

  controller = new Controller({
    connect: (signal) =>
      connect(connectOptions, {
        signal,
        warn: (text) => emit({ time: Date.now(), event: 'note', level: 'warn', text }),
        verbose: output.verbose ? (line) => sink.err(`${paintErr.dim('*')} ${line}\n`) : undefined,
      }),
    emit,
    session,
    showOutgoing: output.format !== 'raw',
  });
  const ctl = controller;
  const unsubscribe = ctx.onSignal((signal) => ctl.interrupt(signal));

  let ending: Ending;
  try {
    if (session.mode === 'repl') {
      // readline and the command table load only for the REPL (start-up is a feature).
      const { runRepl } = await import('./session/repl.js');
      ending = await runRepl(ctl, session, {
        input: io.stdin(),
        output: io.stdout,
        errorOutput: io.stderr,
        historyFile: session.history ? historyPath(io.env) : undefined,
        paintErr,
        setSink: (s) => {
          writer.flush();
          sink = s ?? defaultSink;
        },
      });
    } else {
      ending = await runPipe(ctl, session, {
        stdin: session.mode === 'pipe' ? () => io.stdin() : undefined,
      });
    }
  } finally {
    unsubscribe();
    await writer.end();
    await demo?.close();
  }
  return exitCodeFor(ending);
}

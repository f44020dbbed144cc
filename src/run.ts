// Orchestration: (Options, Io) → exit code. Picks where the peer comes from (connect, demo,
// listen) and the session that drives it (REPL, pipe, execute), wires the renderer, and maps the
// ending to an exit code. No process.* here: cli.ts owns the process.

import { createWriteStream, openSync, readFileSync, type WriteStream } from 'node:fs';
import { connect } from './connection.js';
import type { DemoServer } from './demo.js';
import {
  describeFileError,
  type Ending,
  exitCodeFor,
  toWsxError,
  usageError,
  WsxError,
} from './errors.js';
import type { WsxEvent } from './events.js';
import { BatchedWriter, type Io } from './io.js';
import { featuresFor } from './layers/features.js';
import type { LayerContext, LayerFeature } from './layers/layer.js';
import type {
  ClientOptions,
  ListenOptions,
  Options,
  OutputOptions,
  SessionOptions,
} from './options.js';
import { type AskSecret, loadTlsMaterial, prepareConnect } from './prepare.js';
import { parseRecording, type ReplayMessage } from './recording.js';
import { createRenderer, errorLines, palette } from './render/renderer.js';
import { type Palette, PLAIN } from './render/text.js';
import { Controller } from './session/controller.js';
import type { Driver } from './session/driver.js';
import { historyPath } from './session/history.js';
import { weightier } from './session/lifecycle.js';
import { runPipe } from './session/pipe.js';

export type SignalName = 'SIGINT' | 'SIGTERM';

/** After a signal: how long stdout may take to take what is left. */
const SIGNAL_FLUSH_MS = 500;

export interface RunContext {
  /** Subscribe to SIGINT/SIGTERM; returns an unsubscribe function. */
  onSignal(handler: (signal: SignalName) => void): () => void;
  /** Ask for a secret without echo (passwords, passphrases). */
  askSecret?: AskSecret;
  /** Subscribe to SIGHUP (the --stream bridge: ssh hangs up its ProxyCommand). */
  onHangup?(handler: () => void): () => void;
}

interface Sink {
  out(data: string | Buffer): void;
  err(text: string): void;
}

/** Rendering and writing, shared by every mode. */
class Output {
  readonly paintErr: Palette;
  readonly writer: BatchedWriter;
  private readonly defaultSink: Sink;
  private sink: Sink;
  private readonly render: ReturnType<typeof createRenderer>;
  /** Who to pause when stdout cannot keep up. */
  driver: Driver | undefined;
  /** --record could not be written: the run's exit code is at least 1. */
  recordError: WsxError | undefined;

  /** --record: the json rendering of every event, appended to a file. */
  private recorder:
    | { writer: BatchedWriter; stream: WriteStream; render: ReturnType<typeof createRenderer> }
    | undefined;

  constructor(
    private readonly io: Io,
    readonly options: OutputOptions,
    paint: Palette,
    paintErr: Palette,
  ) {
    if (options.record !== undefined) {
      let fd: number;
      try {
        // A recording can hold secrets (tokens in messages): only its owner reads it.
        fd = openSync(options.record, 'a', 0o600);
      } catch (err) {
        throw usageError(
          `cannot write --record file '${options.record}': ${describeFileError(err)}`,
        );
      }
      const stream = createWriteStream('', { fd });
      const file = options.record;
      stream.on('error', (err) => {
        if (this.recordError) return;
        this.recordError = new WsxError(
          'io',
          `writing the --record file '${file}' failed: ${describeFileError(err)}`,
          { code: (err as NodeJS.ErrnoException).code },
        );
        this.sink.err(errorLines(this.recordError, this.paintErr));
      });
      this.recorder = {
        stream,
        writer: new BatchedWriter(stream),
        render: createRenderer(
          { ...options, format: 'json' },
          { stdoutIsTTY: false, paint: PLAIN, paintErr: PLAIN },
        ),
      };
    }
    this.paintErr = paintErr;
    this.writer = new BatchedWriter(io.stdout, {
      onPressure: (blocked) => this.driver?.setReceiving(!blocked),
    });
    this.defaultSink = {
      out: (data) => this.writer.write(data),
      err: (text) => {
        this.writer.flush();
        io.stderr.write(text);
      },
    };
    this.sink = this.defaultSink;
    this.render = createRenderer(options, {
      stdoutIsTTY: io.stdoutIsTTY,
      paint,
      paintErr: this.paintErr,
    });
  }

  readonly emit = (event: WsxEvent): void => {
    if (this.recorder) {
      const line = this.recorder.render(event).out;
      if (line !== undefined) this.recorder.writer.write(line);
    }
    const r = this.render(event);
    if (r.out !== undefined) this.sink.out(r.out);
    if (r.err !== undefined) this.sink.err(r.err);
  };

  /**
   * The receive fast path (SPEC §16): in raw output to a pipe, without --record, a plain
   * received message is its payload (text + newline, binary as is): write it straight to the
   * batched writer, without building an event. Undefined when events must be built.
   */
  get deliver(): ((data: Buffer, binary: boolean) => void) | undefined {
    const o = this.options;
    if (o.format !== 'raw' || this.recorder || this.io.stdoutIsTTY || o.binaryAs !== 'raw') {
      return undefined;
    }
    return (data, binary) => {
      if (binary) this.writer.write(data);
      else this.writer.writeLine(data);
    };
  }

  /** -v lines on stderr. */
  readonly verbose = (line: string): void => this.sink.err(`${this.paintErr.dim('*')} ${line}\n`);

  /** A `note:` line on stderr in every output mode (the HTTP/2 fallback); -q hides it. */
  readonly note = (text: string): void => {
    if (!this.options.quiet) this.sink.err(`${this.paintErr.cyan('note:')} ${text}\n`);
  };

  setSink(s: Sink | undefined): void {
    this.writer.flush();
    this.sink = s ?? this.defaultSink;
  }

  /** Flush stdout and the recording. */
  /** `ms` bounds the wait for stdout (after a signal the user wants out, not every byte). */
  async end(ms?: number): Promise<void> {
    await this.writer.end(ms);
    if (this.recorder) {
      await this.recorder.writer.end();
      await new Promise((resolve) => this.recorder?.stream.end(resolve));
    }
  }

  fail(err: unknown): number {
    const e = err instanceof WsxError ? err : new WsxError('io', String(err));
    this.io.stderr.write(errorLines(e, this.paintErr));
    return exitCodeFor({ kind: 'error', error: e });
  }
}

export async function run(options: Options, io: Io, ctx: RunContext): Promise<number> {
  // Byte bridges (--stream, --tcp-listen, --to, --exec) pair byte streams, not messages.
  if (options.bridge) return (await import('./bridge/run.js')).runBridge(options, io, ctx);
  let out: Output;
  const [paint, paintErr] = await Promise.all([
    palette(options.output.color),
    palette(options.output.colorErr),
  ]);
  try {
    out = new Output(io, options.output, paint, paintErr);
  } catch (err) {
    io.stderr.write(errorLines(toWsxError(err), paintErr));
    return exitCodeFor({ kind: 'error', error: toWsxError(err) });
  }
  let driver: Driver;
  let cleanup = async () => {};
  let features: LayerFeature[] = [];
  let replay: ReplayMessage[] | undefined;
  try {
    if (options.session.replay) replay = loadReplay(options.session.replay.file);
    const made =
      options.kind === 'listen'
        ? await listenDriver(options, out, ctx)
        : await clientDriver(options, out, ctx);
    driver = made.driver;
    cleanup = made.cleanup;
    features = made.features;
  } catch (err) {
    return out.fail(err);
  }
  out.driver = driver;
  const unsubscribe = ctx.onSignal((signal) => driver.interrupt(signal));
  // The reader of stdout is done (`wsx … | head -1`): so is the run, normally. Output is
  // dropped from now on, so receiving resumes: the close handshake needs the server's reply.
  io.onStdoutClosed?.(() => {
    driver.setReceiving(true);
    driver.quit();
  });
  let ending: Ending | undefined;
  try {
    ending = await drive(driver, options.session, io, out, replay, features);
  } finally {
    unsubscribe();
    // A stdout whose reader has stalled must not keep an interrupted wsx alive (defect 17).
    await out.end(ending?.kind === 'signal' ? SIGNAL_FLUSH_MS : undefined);
    await cleanup();
  }
  if (out.recordError) ending = weightier(ending, { kind: 'error', error: out.recordError });
  return exitCodeFor(ending);
}

function loadReplay(file: string): ReplayMessage[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read --replay file '${file}': ${describeFileError(err)}`);
  }
  return parseRecording(text, file);
}

async function drive(
  driver: Driver,
  session: SessionOptions,
  io: Io,
  out: Output,
  replay: ReplayMessage[] | undefined,
  features: LayerFeature[],
): Promise<Ending> {
  if (session.mode === 'repl') {
    // readline and the command table load only for the REPL (start-up is a feature).
    const { runRepl } = await import('./session/repl.js');
    return runRepl(driver, session, {
      input: io.stdin(),
      // With stdout redirected (`wsx URL > replies.txt`) the console moves to the terminal on
      // stderr, and only the rendered events go to the file.
      output: io.stdoutIsTTY || !io.stderrIsTTY ? io.stdout : io.stderr,
      dataOutput: io.stdout,
      errorOutput: io.stderr,
      historyFile: session.history ? historyPath(io.env) : undefined,
      paintErr: out.paintErr,
      setSink: (s) => out.setSink(s),
      // A dialect may say when a typed line is whole (GraphQL: the braces balance).
      continues: features.find((f) => f.continues)?.continues,
      commands: features.flatMap((f) => f.commands ?? []),
    });
  }
  return runPipe(driver, session, {
    stdin: session.mode === 'pipe' ? () => io.stdin() : undefined,
    replay,
  });
}

async function clientDriver(options: ClientOptions, out: Output, ctx: RunContext) {
  let demo: DemoServer | undefined;
  let target = options.connect;
  if (options.demo) {
    const { startDemoServer } = await import('./demo.js');
    demo = await startDemoServer();
    // The demo server is on loopback: never through a proxy.
    target = { ...target, url: demo.url, noProxy: true };
  }
  const features = await featuresFor(options);
  const layerCtx: LayerContext = {
    now: Date.now,
    note: (level, text) => out.emit({ time: Date.now(), event: 'note', level, text }),
    verbose: options.output.verbose ? out.verbose : undefined,
  };
  let prepared: Awaited<ReturnType<typeof prepareConnect>>;
  try {
    for (const f of features) if (f.prepare) target = await f.prepare(target, layerCtx);
    prepared = await prepareConnect(target, ctx.askSecret);
  } catch (err) {
    await demo?.close();
    throw err;
  }
  const driver = new Controller({
    features,
    deliver: out.deliver,
    maxMessageSize: options.connect.maxMessageSize,
    verbose: options.output.verbose ? out.verbose : undefined,
    connect: (signal) =>
      connect(prepared, {
        signal,
        warn: (text) => out.emit({ time: Date.now(), event: 'note', level: 'warn', text }),
        note: out.note,
        verbose: options.output.verbose ? out.verbose : undefined,
      }),
    // A dialect whose first choice the server refused asks for another connect, once (GraphQL:
    // a subscriptions-transport-ws server that closes on graphql-transport-ws).
    retry: async () => {
      for (const f of features) {
        const again = await f.retry?.(target, layerCtx);
        if (!again) continue;
        target = again;
        prepared = await prepareConnect(target, ctx.askSecret);
        return true;
      }
      return false;
    },
    emit: out.emit,
    session: options.session,
    showOutgoing: options.output.format !== 'raw' || options.output.record !== undefined,
  });
  return { driver, features, cleanup: async () => demo?.close() };
}

async function listenDriver(options: ListenOptions, out: Output, ctx: RunContext) {
  const tls = options.tls.cert ? await loadTlsMaterial(options.tls, ctx.askSecret) : undefined;
  const [{ listen }, { Hub }] = await Promise.all([
    import('./listen.js'),
    import('./session/hub.js'),
  ]);
  const features = await featuresFor(options);
  const driver = new Hub({
    features,
    start: () =>
      listen({
        port: options.port,
        bind: options.bind,
        subprotocols: options.subprotocols,
        compress: options.compress,
        maxMessageSize: options.maxMessageSize,
        tls,
        http2: options.http2,
      }),
    emit: out.emit,
    options,
    showOutgoing: options.output.format !== 'raw' || options.output.record !== undefined,
    verbose: options.output.verbose ? out.verbose : undefined,
  });
  return { driver, features, cleanup: async () => {} };
}

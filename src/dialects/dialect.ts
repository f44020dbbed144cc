// The dialect base (SPEC §12 "Common behaviour"): a Layer that holds user input until its
// handshake completes, answers heartbeats on its own, decodes received frames into views, turns
// typed/piped/-x lines (and slash-command lines) into protocol messages, and counts the requests
// still waiting for their response so the end of input can wait for them.

import { toWsxError, usageError, WsxError } from '../errors.js';
import { Layer, type LayerContext } from '../layers/layer.js';
import type { ConnectOptions } from '../options.js';
import type { CloseInfo, MessagePeer, MessageView, PeerEvents } from '../peer.js';
import { parseHex } from '../session/commands.js';
import type { DialectName, DialectOptions } from './options.js';

/** How long a dialect handshake may take once the WebSocket is open. */
export const DIALECT_HANDSHAKE_MS = 10_000;

/** What a dialect layer is given for one connection. */
export interface DialectEnv<S = unknown> {
  options: DialectOptions;
  /** Per run, shared by every connection of it: what --reconnect must restore (subscriptions). */
  state: S;
  ctx: LayerContext;
  /** A detected dialect's announcement, shown once the connection's events flow. */
  announce?: string;
}

/** A dialect's own REPL command; the same line also works from -x and pipes. */
export interface DialectCommand<D extends Dialect = Dialect> {
  name: string;
  usage: string;
  help: string;
  /**
   * Parse `args` (throw usageError on bad ones) and act on the connection's dialect layer;
   * `print` shows a reply (/ops): the REPL's output, or a note when the line came from a script.
   */
  run(dialect: D, args: string, print: (text: string) => void): void;
}

export interface PrepareEnv<S = unknown> {
  options: DialectOptions;
  state: S;
  ctx: LayerContext;
  /** The user passed --dialect (false: detected from the URL path). */
  explicit: boolean;
}

/** One dialect: its detection, preparation, layer factory and commands. */
export interface DialectSpec<S = unknown> {
  readonly name: DialectName;
  /** Offered with --dialect when no -s was given, in order of preference. */
  readonly subprotocols: readonly string[];
  readonly commands: readonly DialectCommand[];
  /** Fresh per-run state (kept across reconnects). */
  initialState(): S;
  /** Before each connect: rewrite the URL, discover the endpoint, choose subprotocols. */
  prepare?(connect: ConnectOptions, env: PrepareEnv<S>): Promise<ConnectOptions>;
  create(inner: MessagePeer, env: DialectEnv<S>): Dialect;
  /**
   * After a connection ended before its handshake completed: true = connect once more at once,
   * through prepare() again (GraphQL's subprotocol retry, SPEC §17).
   */
  retry?(state: S): boolean;
  /** REPL: whether a typed buffer needs more lines (GraphQL: until the braces balance). */
  continues?(text: string): boolean;
}

/** The commands every dialect has. */
export const COMMON_COMMANDS: readonly DialectCommand[] = [
  {
    name: 'raw',
    usage: '/raw <text>',
    help: 'send a text frame exactly as typed (no dialect encoding)',
    run: (d, args) => d.sendRaw(args, false),
  },
  {
    name: 'raw-binary',
    usage: '/raw-binary <hex>',
    help: 'send a binary frame given as hex bytes, as is',
    run: (d, args) => d.sendRaw(parseHex(args), true),
  },
];

export abstract class Dialect extends Layer {
  readonly name = 'dialect';
  abstract readonly dialect: DialectName;
  /** The handshake completed: input flows. */
  protected ready = false;
  /** Input held until the handshake completes, in order. */
  private held: Array<() => void> = [];
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readonly table: Map<string, DialectCommand>;
  protected readonly options: DialectOptions;
  /**
   * A frame sent as `raw` but shown (json output, --record) as `shown`: a CONNECT with its
   * password masked. Cleared once its 'sent' event has gone out.
   */
  protected secret: { raw: Buffer; shown: Buffer } | undefined;

  constructor(
    inner: MessagePeer,
    protected readonly env: DialectEnv<unknown>,
    commands: readonly DialectCommand[],
  ) {
    super(inner, env.ctx);
    this.options = env.options;
    this.table = new Map([...COMMON_COMMANDS, ...commands].map((c) => [c.name, c]));
  }

  override emit<K>(event: K | keyof PeerEvents, ...args: unknown[]): boolean {
    if (event === 'sent' && this.secret !== undefined && args[0] === this.secret.raw) {
      args[0] = this.secret.shown;
      this.secret = undefined;
    }
    return (super.emit as (e: unknown, ...a: unknown[]) => boolean)(event, ...args);
  }

  // ---- what each dialect implements ----

  /** Start the handshake; called once events flow (start()). */
  protected abstract begin(): void;
  /** A typed/piped/-x text line that is not a slash command; throw usageError if it is bad. */
  protected abstract onLine(text: string): void;
  /** Binary input (-b): sent as a frame as is unless the dialect knows better. */
  protected onBinaryInput(data: Buffer): void {
    this.send(data, true);
  }
  /** Requests sent and not yet answered (acks, operations, ids). */
  protected pending(): number {
    return 0;
  }
  /** The connection is gone: stop timers. */
  protected stop(): void {}
  /** A name for the handshake in the timeout error ("the Engine.IO open packet"). */
  protected handshakeWhat(): string {
    return `the ${this.dialect} handshake`;
  }

  // ---- the Layer contract ----

  override start(): void {
    this.handshakeTimer = setTimeout(() => {
      if (this.ready || this.isClosed) return;
      this.fail(
        new WsxError(
          'protocol',
          `${this.dialect}: ${this.handshakeWhat()} did not complete within ${DIALECT_HANDSHAKE_MS / 1000} s`,
          { code: 'DIALECT_HANDSHAKE_TIMEOUT', hint: '--dialect none shows the plain frames' },
        ),
      );
      this.inner.close(1000, '');
    }, DIALECT_HANDSHAKE_MS);
    this.handshakeTimer.unref?.();
    // After "Connected to …": the session listens for notes by now.
    if (this.env.announce !== undefined) this.emit('note', 'info', this.env.announce);
    this.begin();
    super.start();
  }

  override input(data: Buffer | string, binary: boolean): void {
    if (binary) {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      this.whenReady(() => this.onBinaryInput(buf));
      return;
    }
    const text = typeof data === 'string' ? data : data.toString('utf8');
    // Scripts may send the dialect's slash commands too (SPEC §17); `//x` is the line `/x`.
    if (text.startsWith('//')) {
      this.whenReady(() => this.onLine(text.slice(1)));
      return;
    }
    const m = /^\/([a-z][\w-]*)(?:\s+([\s\S]*))?$/i.exec(text);
    const name = m?.[1]?.toLowerCase();
    if (name !== undefined && this.table.has(name)) {
      try {
        this.command(name, m?.[2] ?? '');
      } catch (err) {
        this.fail(toWsxError(err, 'usage'));
      }
      return;
    }
    this.whenReady(() => this.onLine(text));
  }

  override outstanding(): number {
    return this.held.length + this.pending() + this.inner.outstanding();
  }

  protected override onClose(info: CloseInfo): void {
    this.clearHandshakeTimer();
    this.stop();
    super.onClose(info);
  }

  // ---- for commands and subclasses ----

  /** Whether this dialect has the command `name` (the common ones included). */
  hasCommand(name: string): boolean {
    return this.table.has(name);
  }

  /** Run one of this dialect's commands; throws usageError on bad arguments. */
  command(name: string, args: string, print?: (text: string) => void): void {
    const c = this.table.get(name);
    if (!c) throw usageError(`/${name} is not a ${this.dialect} command`);
    c.run(this, args.trim(), print ?? ((text) => this.emit('note', 'info', text)));
  }

  /** /raw, /raw-binary: one frame as given, even before the handshake completed. */
  sendRaw(data: Buffer | string, binary: boolean): void {
    if (!binary && data === '') throw usageError('/raw needs the text to send');
    this.send(data, binary);
  }

  /** Run `fn` now if the handshake completed, else once it does (input is never sent early). */
  protected whenReady(fn: () => void): void {
    if (this.ready) this.runGuarded(fn);
    else this.held.push(fn);
  }

  /** The handshake completed: send what was held, in order. */
  protected markReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.clearHandshakeTimer();
    const held = this.held;
    this.held = [];
    for (const fn of held) this.runGuarded(fn);
    this.settled();
  }

  /**
   * The protocol refused this connection (an ERROR frame, a refused CONNACK): what was held for
   * the handshake will never be sent, so drop it (the end of input must not wait for it).
   */
  protected abandon(): void {
    this.held = [];
    this.clearHandshakeTimer();
    this.settled();
  }

  /** A message for the user to see. */
  protected show(data: Buffer, binary: boolean, view: MessageView): void {
    this.emit('message', data, binary, view);
  }

  /** -v: one line about the dialect's handshake. */
  protected verbose(line: string): void {
    this.ctx.verbose?.(`${this.dialect}: ${line}`);
  }

  private runGuarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(toWsxError(err, 'usage'));
    }
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }
}

// ---- helpers shared by the dialects ----

/** Round-trip times as in SPEC §12: one decimal, `4.1 ms`. */
export function formatLatency(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

/** Compact JSON for a label or a raw line; undefined shows as nothing. */
export function compact(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

/**
 * Split command arguments into tokens: a JSON object, array or string is one token however many
 * spaces it holds; anything else runs to the next whitespace.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i] ?? '')) i++;
    if (i >= n) break;
    const start = i;
    const first = text[i];
    if (first === '{' || first === '[' || first === '"') {
      let depth = 0;
      let inString = false;
      for (; i < n; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') {
            inString = false;
            if (depth === 0) {
              i++;
              break;
            }
          }
        } else if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
      if (depth !== 0 || inString) {
        throw usageError(`unbalanced JSON in '${text.slice(start, start + 40)}'`);
      }
    } else {
      while (i < n && !/\s/.test(text[i] ?? '')) i++;
    }
    out.push(text.slice(start, i));
  }
  return out;
}

/** A command argument: a JSON value when it parses as one, else the bare word as a string. */
export function argValue(token: string): unknown {
  const first = token[0];
  try {
    return JSON.parse(token);
  } catch (err) {
    if (first === '{' || first === '[' || first === '"') {
      throw usageError(`invalid JSON argument ${token}: ${(err as Error).message}`);
    }
    return token;
  }
}

/**
 * `method [params]` (JSON-RPC, CDP): the method name and its params, a JSON array or object.
 */
export function parseMethodLine(
  text: string,
  what: string,
): { method: string; params: unknown[] | Record<string, unknown> | undefined } {
  const m = /^\s*(\S+)(?:\s+([\s\S]*\S))?\s*$/.exec(text);
  const method = m?.[1];
  if (method === undefined) throw usageError(`${what} needs a method name`);
  const rest = m?.[2];
  if (rest === undefined) return { method, params: undefined };
  let params: unknown;
  try {
    params = JSON.parse(rest);
  } catch (err) {
    throw usageError(
      `the params of ${method} are not JSON: ${(err as Error).message}`,
      'params are a JSON array or object, e.g. eth_getBalance ["0xabc","latest"]',
    );
  }
  if (params === null || typeof params !== 'object') {
    throw usageError(`the params of ${method} must be a JSON array or object`);
  }
  return { method, params: params as unknown[] | Record<string, unknown> };
}

/** Build the context a dialect layer gets, for tests and the feature alike. */
export function dialectEnv<S>(options: DialectOptions, state: S, ctx: LayerContext): DialectEnv<S> {
  return { options, state, ctx };
}

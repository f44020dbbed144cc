// The base of every layer: a MessagePeer that wraps a MessagePeer and forwards everything by
// default. A layer overrides only what its one concern needs (DESIGN.md "layers on a message
// peer"): hold back or encode user input (input), consume or decode received frames
// (onMessage), send frames of its own (sendAuto), say goodbye before closing (close), and count
// the requests still waiting for a response (outstanding).

import { EventEmitter } from 'node:events';
import type { WsxError } from '../errors.js';
import type { ConnectOptions, Options } from '../options.js';
import type {
  CloseInfo,
  HandshakeInfo,
  MessagePeer,
  MessageView,
  PeerEvents,
  PeerStats,
} from '../peer.js';
import type { Command } from '../session/commands.js';

/** What a layer may ask of the run around it. */
export interface LayerContext {
  now(): number;
  /** Tell the user something (a `note:`/`warning:` line; json "note" events are not emitted). */
  note(level: 'info' | 'warn', text: string): void;
  /** -v: one line of detail on stderr (already escaped). Undefined without -v. */
  verbose: ((line: string) => void) | undefined;
}

export abstract class Layer extends EventEmitter<PeerEvents> implements MessagePeer {
  /** The layer's name, for find() and for commands that act on it. */
  abstract readonly name: string;

  constructor(
    protected readonly inner: MessagePeer,
    protected readonly ctx: LayerContext,
  ) {
    super();
    inner.on('message', (data, binary, view) => this.onMessage(data, binary, view));
    inner.on('sent', (data, binary, view) => this.emit('sent', data, binary, view));
    inner.on('note', (level, text) => this.emit('note', level, text));
    inner.on('ping', (data) => this.emit('ping', data));
    inner.on('pong', (data, direction, rtt) => this.emit('pong', data, direction, rtt));
    inner.on('error', (err) => this.emit('error', err));
    inner.on('close', (info) => this.onClose(info));
    inner.on('settled', () => {
      if (this.outstanding() === 0) this.emit('settled');
    });
  }

  // ---- received from below ----

  /** A message from below. Default: pass it up unchanged. */
  protected onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    this.emit('message', data, binary, view);
  }

  /** The connection closed. Default: pass it up. */
  protected onClose(info: CloseInfo): void {
    this.emit('close', info);
  }

  /** Report an error: kind 'application' is exit 5 (SPEC Part II); the run goes on. */
  protected fail(err: WsxError): void {
    this.emit('error', err);
  }

  // ---- sent from above ----

  /** A message the user gave (typed, piped, -x). Default: pass it down. */
  input(data: Buffer | string, binary: boolean): void {
    this.inner.input(data, binary);
  }

  /** A frame as is (/raw, and layers below this one). */
  send(data: Buffer | string, binary: boolean, view?: MessageView): void {
    this.inner.send(data, binary, view);
  }

  sendMany(messages: ReadonlyArray<Buffer | string>, binary: boolean): void {
    this.inner.sendMany(messages, binary);
  }

  /** Send a frame of this layer's own, shown as `> [auto] …` (json "auto":true). */
  protected sendAuto(data: Buffer | string, binary: boolean, view: MessageView = {}): void {
    this.inner.send(data, binary, { ...view, auto: true });
  }

  /** Requests sent and not yet answered, in this layer and below. */
  outstanding(): number {
    return this.inner.outstanding();
  }

  /** Call when this layer's outstanding count reaches 0. */
  protected settled(): void {
    if (this.outstanding() === 0) this.emit('settled');
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }

  // ---- plain forwarding ----

  get info(): HandshakeInfo {
    return this.inner.info;
  }
  get stats(): PeerStats {
    return this.inner.stats;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  get isClosed(): boolean {
    return this.inner.isClosed;
  }
  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }
  waitForDrain(below?: number): Promise<void> {
    return this.inner.waitForDrain(below);
  }
  ping(data?: Buffer): void {
    this.inner.ping(data);
  }
  pong(data?: Buffer): void {
    this.inner.pong(data);
  }
  terminate(): void {
    this.inner.terminate();
  }
  start(): void {
    this.inner.start();
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }

  /** This layer or the nearest one below with that name. */
  find<T extends MessagePeer>(name: string): T | undefined {
    return findLayer<T>(this, name);
  }
}

/** Walk down from `peer` to the layer called `name`. */
export function findLayer<T extends MessagePeer>(peer: MessagePeer, name: string): T | undefined {
  let p: MessagePeer | undefined = peer;
  while (p instanceof Layer) {
    if (p.name === name) return p as unknown as T;
    p = (p as unknown as { inner: MessagePeer }).inner;
  }
  return undefined;
}

/**
 * A feature that plugs layers into a run (a dialect, the conversation steps, a view). run.ts asks
 * each registered feature whether the options want it; those that do wrap every new connection's
 * peer, in the order given, and bring their REPL commands.
 */
export interface LayerFeature {
  readonly name: string;
  /** Before connecting (client mode): rewrite the URL, offer subprotocols, discover endpoints. */
  prepare?(connect: ConnectOptions, ctx: LayerContext): Promise<ConnectOptions>;
  /** Wrap the peer of each new connection (client) or each client (listen). */
  wrap(peer: MessagePeer, ctx: LayerContext): MessagePeer;
  /** REPL commands; they act on the current connection's layer (see CommandContext.layer). */
  commands?: Command[];
  /**
   * A connection closed before this feature's handshake completed: the options to connect again
   * with at once (not counted as a --reconnect), or undefined to end as usual.
   */
  retry?(connect: ConnectOptions, ctx: LayerContext): Promise<ConnectOptions | undefined>;
  /** REPL: whether a typed line continues on the next one (default: until the JSON is whole). */
  continues?: ((text: string) => boolean) | undefined;
}

/** Builds the features the options ask for; undefined = the feature is not used in this run. */
export type FeatureFactory = (options: Options) => Promise<LayerFeature | undefined>;

// Listen mode's driver: a server and its many clients behind the same Driver interface the
// client Controller offers, so the REPL and pipe sessions work unchanged (SPEC §8). Endings go
// through the same Lifecycle as the client's; each client's memory is bounded (SPEC §16).

import { type Ending, usageError, WsxError } from '../errors.js';
import type { LayerContext, LayerFeature } from '../layers/layer.js';
import type { ListenServer } from '../listen.js';
import type { ListenOptions } from '../options.js';
import type { CloseInfo, MessagePeer, MessageView } from '../peer.js';
import { maskHeaderValue } from '../render/mask.js';
import { sanitizeLine } from '../render/sanitize.js';
import { formatUptime, httpVersion } from './describe.js';
import type { Driver } from './driver.js';
import { type Emit, Lifecycle } from './lifecycle.js';
import { type WireDeps, wirePeer } from './wire.js';

/** After quit or a signal: how long clients get to answer our close frame. */
const SHUTDOWN_WAIT_MS = 1000;
/** --echo: stop reading from a client while this much of its echo is unsent. */
const ECHO_HIGH_WATER = 1024 * 1024;

export interface HubDeps {
  start: () => Promise<ListenServer>;
  emit: Emit;
  options: ListenOptions;
  showOutgoing: boolean;
  /** Layers wrapped around every client, innermost first. */
  features?: LayerFeature[];
  /** -v: one line to stderr. */
  verbose?: (line: string) => void;
  now?: () => number;
}

interface Queued {
  data: Buffer | string;
  binary: boolean;
}

export class Hub implements Driver {
  readonly kind = 'listen';
  readonly ended: Promise<Ending>;
  onClosed: (() => void) | undefined;
  private readonly life: Lifecycle;
  private server: ListenServer | undefined;
  private readonly peers = new Map<number, MessagePeer>();
  private nextId = 1;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private queueWaiters: Array<() => void> = [];
  readonly now: () => number;
  private startedAt = 0;
  private receiving = true;
  private typing = false;
  private readonly layerCtx: LayerContext;

  constructor(readonly deps: HubDeps) {
    this.now = deps.now ?? Date.now;
    this.life = new Lifecycle({
      session: deps.options.session,
      emit: deps.emit,
      now: this.now,
      onDeadline: () => this.stop(1000),
    });
    this.ended = this.life.ended;
    this.layerCtx = this.life.layerContext(deps.verbose);
  }

  get isFinished(): boolean {
    return this.life.finished;
  }

  get connected(): boolean {
    return this.peers.size > 0;
  }

  get maxMessageSize(): number {
    return this.deps.options.maxMessageSize;
  }

  get bufferedAmount(): number {
    let max = this.peers.size === 0 ? this.queuedBytes : 0;
    for (const p of this.peers.values()) max = Math.max(max, p.bufferedAmount);
    return max;
  }

  async waitForDrain(below: number): Promise<void> {
    if (this.peers.size === 0 && this.queuedBytes > below && !this.life.finished) {
      // Input waits for the first client (SPEC §10: queued, never dropped).
      await new Promise<void>((resolve) => this.queueWaiters.push(resolve));
    }
    await Promise.all([...this.peers.values()].map((p) => p.waitForDrain(below)));
  }

  async open(): Promise<boolean> {
    if (this.life.finished) return false;
    this.life.to('connecting');
    try {
      this.server = await this.deps.start();
    } catch (err) {
      const error = err instanceof WsxError ? err : new WsxError('connect', String(err));
      this.life.fail(error);
      this.life.finish();
      return false;
    }
    this.life.to('open');
    this.startedAt = this.now();
    this.server.on('peer', (peer) => this.attach(peer));
    this.deps.emit({ time: this.now(), event: 'listening', url: this.server.url });
    return true;
  }

  private attach(transport: MessagePeer): void {
    if (this.life.phase !== 'open') {
      transport.terminate();
      return;
    }
    let peer = transport;
    for (const f of this.deps.features ?? []) peer = f.wrap(peer, this.layerCtx);
    const id = this.nextId++;
    this.peers.set(id, peer);
    const { emit, options } = this.deps;
    emit({
      time: this.now(),
      event: 'open',
      client: id,
      url: peer.info.url,
      protocol: peer.info.protocol,
      extensions: peer.info.extensions,
      remote: peer.info.remoteAddress,
    });
    const verbose = this.deps.verbose;
    const req = peer.info.request;
    if (verbose && req) {
      verbose(`#${id} > ${req.method} ${sanitizeLine(req.path)} ${httpVersion(req.method)}`);
      for (const [k, v] of req.headers)
        verbose(`#${id} > ${sanitizeLine(k)}: ${sanitizeLine(maskHeaderValue(k, v))}`);
    }
    wirePeer(peer, new HubClient(this, id, peer));
    peer.on('close', (info: CloseInfo) => {
      this.peers.delete(id);
      emit({
        time: this.now(),
        event: 'close',
        code: info.code,
        reason: info.reason,
        clean: info.closeFrameReceived,
        client: id,
      });
      if (options.once) this.stop(1000);
    });
    // A client that connects while stdout is backed up waits like the others (defect 16).
    // start() begins delivery; a pause for a backed-up stdout must come after it, not before.
    peer.start();
    if (!this.receiving) peer.pause();
    this.flushQueue();
  }

  /** A message from client `id` (HubClient.onMessage). */
  received(id: number, peer: MessagePeer, data: Buffer, binary: boolean, seen?: MessageView): void {
    const { goal } = this.life;
    if (this.life.finished || goal.met) return;
    const { emit, options } = this.deps;
    const view = goal.limit(seen);
    emit({
      time: this.now(),
      event: 'message',
      direction: 'in',
      binary,
      data,
      client: id,
      ...(view ? { view } : {}),
    });
    if (options.echo) {
      this.sendOne(id, peer, data, binary);
      // A client that does not take its echoes is not read from until it does (SPEC §16).
      if (peer.bufferedAmount > ECHO_HIGH_WATER && peer.isOpen) {
        peer.pause();
        void peer.waitForDrain(ECHO_HIGH_WATER / 4).then(() => {
          if (this.receiving) peer.resume();
        });
      }
    }
    if (options.broadcast) {
      for (const [other, p] of this.peers) if (other !== id) this.sendOne(other, p, data, binary);
    }
    if (goal.record(data, binary, view)) this.stop(1000);
  }

  /** The REPL is sending what the user typed (HubClient.typing). */
  get isTyping(): boolean {
    return this.typing;
  }

  /** An error on client `id`'s connection (HubClient.onError). */
  clientError(err: WsxError, id: number): void {
    this.life.showError(err, id);
  }

  private flushQueue(): void {
    if (this.queue.length === 0 || this.peers.size === 0) return;
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const q of queued) this.send(q.data, q.binary);
    for (const w of this.queueWaiters.splice(0)) w();
  }

  /**
   * Send to one client. A client whose unsent data passes --max-backlog is closed with 1008:
   * memory stays bounded whoever stops reading (SPEC §16).
   */
  private sendOne(id: number, peer: MessagePeer, data: Buffer | string, binary: boolean): void {
    if (!peer.isOpen) return;
    peer.input(data, binary);
    const limit = this.deps.options.maxBacklog;
    if (peer.bufferedAmount > limit) {
      this.life.note(
        'warn',
        `#${id}: more than ${formatBytes(limit)} unsent (the client is not reading); closing it with 1008 (--max-backlog)`,
      );
      peer.close(1008, 'too much unsent data: the client is not reading');
      // It may not read our close frame either: do not wait for it.
      setTimeout(() => peer.terminate(), SHUTDOWN_WAIT_MS).unref();
    }
  }

  send(data: Buffer | string, binary: boolean, typed = false): void {
    if (this.life.finished) return;
    if (this.peers.size === 0) {
      this.queue.push({ data, binary });
      this.queuedBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return;
    }
    this.typing = typed;
    for (const [id, peer] of this.peers) this.sendOne(id, peer, data, binary);
    this.typing = false;
  }

  sendTo(id: number, text: string): void {
    const peer = this.peers.get(id);
    if (!peer) throw usageError(`no client #${id} (see /clients)`);
    this.typing = true;
    this.sendOne(id, peer, text, false);
    this.typing = false;
  }

  kick(id: number, code: number, reason: string): void {
    const peer = this.peers.get(id);
    if (!peer) throw usageError(`no client #${id} (see /clients)`);
    peer.close(code, reason);
  }

  ping(data: Buffer): void {
    for (const p of this.peers.values()) p.ping(data);
  }

  pong(data: Buffer): void {
    for (const p of this.peers.values()) p.pong(data);
  }

  setReceiving(on: boolean): void {
    this.receiving = on;
    for (const p of this.peers.values()) {
      if (on) p.resume();
      else p.pause();
    }
  }

  closeConnection(code: number, reason: string): void {
    for (const p of this.peers.values()) p.close(code, reason);
  }

  /** End of input does not stop the server (SPEC §10). */
  inputDone(): void {}

  quit(): void {
    this.stop(1000);
  }

  interrupt(signal: 'SIGINT' | 'SIGTERM'): void {
    if (this.life.finished) return;
    this.life.signal = signal;
    this.stop(1001);
  }

  note(level: 'info' | 'warn', text: string): void {
    this.life.note(level, text);
  }

  status(now: number): string {
    let inMsgs = 0;
    let outMsgs = 0;
    for (const p of this.peers.values()) {
      inMsgs += p.stats.messagesIn;
      outMsgs += p.stats.messagesOut;
    }
    return [
      `listening    ${this.server?.url ?? '(not yet)'}`,
      `uptime       ${formatUptime(now - this.startedAt)}`,
      `clients      ${this.peers.size} connected, ${this.nextId - 1} in all`,
      `messages     ${inMsgs} in, ${outMsgs} out (connected clients)`,
      `queued       ${this.queue.length} message(s) waiting for a client`,
    ].join('\n');
  }

  headers(): string {
    return '(per client: start wsx -l with -v to see request headers)';
  }

  clients(): string {
    if (this.peers.size === 0) return '(no clients connected)';
    const now = this.now();
    return [...this.peers]
      .map(([id, p]) => {
        const proto = p.info.protocol ? ` subprotocol ${sanitizeLine(p.info.protocol)}` : '';
        return `#${id}  ${p.info.remoteAddress ?? '?'}  ${sanitizeLine(p.info.url)}${proto}  up ${formatUptime(now - p.stats.openedAt)}  ${p.stats.messagesIn} in / ${p.stats.messagesOut} out`;
      })
      .join('\n');
  }

  /** Close every client with `code`, stop listening, and end the run. */
  private stop(code: number): void {
    if (this.life.finished || this.life.phase === 'closing') return;
    if (this.life.phase === 'idle' || this.life.phase === 'connecting') {
      this.life.finish();
      return;
    }
    this.life.to('closing');
    const peers = [...this.peers.values()];
    for (const p of peers) p.close(code, '');
    const allClosed = Promise.all(
      peers.map((p) => (p.isClosed ? undefined : new Promise((r) => p.once('close', r)))),
    );
    const timeout = new Promise((r) => setTimeout(r, SHUTDOWN_WAIT_MS));
    void Promise.race([allClosed, timeout]).then(async () => {
      for (const p of peers) if (!p.isClosed) p.terminate();
      await this.server?.close();
      for (const w of this.queueWaiters.splice(0)) w();
      this.life.finish();
    });
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/**
 * What wirePeer needs for one client: an object of the class (methods on its prototype), not a
 * deps literal with three closures per client.
 */
class HubClient implements WireDeps {
  readonly emit: Emit;
  readonly now: () => number;
  readonly showOutgoing: boolean;
  constructor(
    private readonly hub: Hub,
    readonly client: number,
    private readonly peer: MessagePeer,
  ) {
    const deps = hub.deps;
    this.emit = deps.emit;
    this.now = hub.now;
    this.showOutgoing = deps.showOutgoing;
  }

  typing(): boolean {
    return this.hub.isTyping;
  }

  onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    this.hub.received(this.client, this.peer, data, binary, view);
  }

  onError(err: WsxError): void {
    this.hub.clientError(err, this.client);
  }
}

// Listen mode's driver: a server and its many clients behind the same Driver interface the
// client Controller offers, so the REPL and pipe sessions work unchanged (SPEC §8).

import { type Ending, usageError, WsxError } from '../errors.js';
import type { ListenServer } from '../listen.js';
import type { ListenOptions } from '../options.js';
import type { CloseInfo, Peer } from '../peer.js';
import { maskHeaderValue } from '../render/mask.js';
import { sanitizeLine } from '../render/sanitize.js';
import { type Emit, sendShown } from './controller.js';
import { formatUptime } from './describe.js';
import type { Driver } from './driver.js';
import { Goal } from './goal.js';
import { Timers } from './timers.js';

/** After quit or a signal: how long clients get to answer our close frame. */
const SHUTDOWN_WAIT_MS = 1000;

export interface HubDeps {
  start: () => Promise<ListenServer>;
  emit: Emit;
  options: ListenOptions;
  showOutgoing: boolean;
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
  private resolveEnded!: (e: Ending) => void;
  private finished = false;
  private server: ListenServer | undefined;
  private readonly peers = new Map<number, Peer>();
  private nextId = 1;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private queueWaiters: Array<() => void> = [];
  private readonly goal: Goal;
  private readonly now: () => number;
  private startedAt = 0;
  private readonly timers = new Timers();

  constructor(private readonly deps: HubDeps) {
    this.now = deps.now ?? Date.now;
    this.goal = new Goal(deps.options.session);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    const { timeoutMs } = deps.options.session;
    if (timeoutMs !== undefined)
      this.timers.after(timeoutMs, () =>
        this.stop(this.goal.unmet ? this.unmet() : { kind: 'done' }, 1000),
      );
  }

  get isFinished(): boolean {
    return this.finished;
  }

  get connected(): boolean {
    return this.peers.size > 0;
  }

  get bufferedAmount(): number {
    let max = this.peers.size === 0 ? this.queuedBytes : 0;
    for (const p of this.peers.values()) max = Math.max(max, p.bufferedAmount);
    return max;
  }

  async waitForDrain(below: number): Promise<void> {
    if (this.peers.size === 0 && this.queuedBytes > below && !this.finished) {
      // Input waits for the first client (SPEC §10: queued, never dropped).
      await new Promise<void>((resolve) => this.queueWaiters.push(resolve));
    }
    await Promise.all([...this.peers.values()].map((p) => p.waitForDrain(below)));
  }

  async open(): Promise<boolean> {
    if (this.finished) return false;
    try {
      this.server = await this.deps.start();
    } catch (err) {
      const error = err instanceof WsxError ? err : new WsxError('connect', String(err));
      this.emitError(error);
      this.finish({ kind: 'error', error });
      return false;
    }
    this.startedAt = this.now();
    this.server.on('peer', (peer) => this.attach(peer));
    this.deps.emit({ time: this.now(), event: 'listening', url: this.server.url });
    return true;
  }

  private attach(peer: Peer): void {
    if (this.finished) {
      peer.terminate();
      return;
    }
    const id = this.nextId++;
    this.peers.set(id, peer);
    const { emit, options } = this.deps;
    const at = { client: id };
    emit({
      time: this.now(),
      event: 'open',
      ...at,
      url: peer.info.url,
      protocol: peer.info.protocol,
      extensions: peer.info.extensions,
      remote: peer.info.remoteAddress,
    });
    if (this.deps.verbose) {
      const req = peer.info.request;
      if (req) {
        this.deps.verbose(`#${id} > ${req.method} ${sanitizeLine(req.path)} HTTP/1.1`);
        for (const [k, v] of req.headers)
          this.deps.verbose(`#${id} > ${sanitizeLine(k)}: ${sanitizeLine(maskHeaderValue(k, v))}`);
      }
    }
    peer.on('message', (data, binary) => {
      if (this.finished || this.goal.met) return;
      emit({ time: this.now(), event: 'message', direction: 'in', binary, data, ...at });
      if (options.echo) this.sendOne(id, peer, data, binary);
      if (options.broadcast) {
        for (const [other, p] of this.peers) if (other !== id) this.sendOne(other, p, data, binary);
      }
      if (this.goal.active && this.goal.record(data, binary)) this.stop({ kind: 'done' }, 1000);
    });
    peer.on('ping', (data) =>
      emit({ time: this.now(), event: 'ping', direction: 'in', data, ...at }),
    );
    peer.on('pong', (data, direction, rtt) =>
      emit({
        time: this.now(),
        event: 'pong',
        direction,
        data,
        rtt,
        auto: direction === 'out',
        ...at,
      }),
    );
    peer.on('error', (err) => this.emitError(err, id));
    peer.on('close', (info: CloseInfo) => {
      this.peers.delete(id);
      emit({
        time: this.now(),
        event: 'close',
        code: info.code,
        reason: info.reason,
        clean: info.closeFrameReceived,
        ...at,
      });
      if (options.once && !this.finished) this.stop({ kind: 'done' }, 1000);
    });
    peer.start();
    this.flushQueue();
  }

  private flushQueue(): void {
    if (this.queue.length === 0 || this.peers.size === 0) return;
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const q of queued) this.send(q.data, q.binary);
    for (const w of this.queueWaiters.splice(0)) w();
  }

  private sendOne(
    id: number,
    peer: Peer,
    data: Buffer | string,
    binary: boolean,
    typed = false,
  ): void {
    sendShown(peer, data, binary, {
      typed,
      show: this.deps.showOutgoing,
      emit: this.deps.emit,
      time: this.now(),
      client: id,
    });
  }

  send(data: Buffer | string, binary: boolean, typed = false): void {
    if (this.finished) return;
    if (this.peers.size === 0) {
      this.queue.push({ data, binary });
      this.queuedBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return;
    }
    for (const [id, peer] of this.peers) this.sendOne(id, peer, data, binary, typed);
  }

  sendTo(id: number, text: string): void {
    const peer = this.peers.get(id);
    if (!peer) throw usageError(`no client #${id} (see /clients)`);
    this.sendOne(id, peer, text, false, true);
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
    this.stop(
      this.goal.unmet && this.deps.options.session.timeoutMs !== undefined
        ? this.unmet()
        : { kind: 'done' },
      1000,
    );
  }

  interrupt(signal: 'SIGINT' | 'SIGTERM'): void {
    if (this.finished) return;
    this.stop({ kind: 'signal', signal }, 1001);
  }

  note(level: 'info' | 'warn', text: string): void {
    this.deps.emit({ time: this.now(), event: 'note', level, text });
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

  private unmet(): Ending {
    return { kind: 'unmet', what: this.goal.describe() };
  }

  /** Close every client with `code`, stop listening, and end the run. */
  private stop(ending: Ending, code: number): void {
    if (this.finished) return;
    const peers = [...this.peers.values()];
    for (const p of peers) p.close(code, '');
    const allClosed = Promise.all(
      peers.map((p) => (p.isClosed ? undefined : new Promise((r) => p.once('close', r)))),
    );
    const timeout = new Promise((r) => setTimeout(r, SHUTDOWN_WAIT_MS));
    this.finished = true;
    void Promise.race([allClosed, timeout]).then(async () => {
      for (const p of peers) if (!p.isClosed) p.terminate();
      await this.server?.close();
      this.done(ending);
    });
  }

  private emitError(err: WsxError, client?: number): void {
    this.deps.emit({
      time: this.now(),
      event: 'error',
      message: client === undefined ? err.message : `#${client}: ${err.message}`,
      code: err.code,
      hint: err.hint,
      details: err.details,
    });
  }

  private finish(ending: Ending): void {
    if (this.finished) return;
    this.finished = true;
    this.done(ending);
  }

  private done(ending: Ending): void {
    this.timers.clearAll();
    for (const w of this.queueWaiters.splice(0)) w();
    if (ending.kind === 'unmet')
      this.emitError(new WsxError('io', `not satisfied: ${ending.what}`));
    this.resolveEnded(ending);
  }
}

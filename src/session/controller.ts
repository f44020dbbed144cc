// Drives one client connection for a session (pipe, execute or REPL): wires Peer events to the
// renderer, tracks --count/--expect/--timeout, and decides how the run ended.

import { isNormalClose, isRetryableClose } from '../close-codes.js';
import { type Ending, WsxError } from '../errors.js';
import type { WsxEvent } from '../events.js';
import type { SessionOptions } from '../options.js';
import { CLOSE_WAIT_MS, type CloseInfo, type Peer } from '../peer.js';
import { maskUrl } from '../render/mask.js';
import { describeHeaders, describePeerStatus } from './describe.js';
import type { Driver } from './driver.js';
import { Goal } from './goal.js';
import { Timers } from './timers.js';

/** After a signal: how long to wait for the server to answer our 1001. */
const SIGNAL_CLOSE_WAIT_MS = 1000;

export type Emit = (event: WsxEvent) => void;

/**
 * Send on one peer and, when wanted, emit the outgoing message event (raw mode shows none, so it
 * skips the work; REPL-typed messages are marked so pretty mode does not repeat them).
 */
export function sendShown(
  peer: Peer,
  data: Buffer | string,
  binary: boolean,
  o: { typed: boolean; show: boolean; emit: Emit; time: number; client?: number },
): void {
  if (!peer.isOpen) return;
  peer.send(data, binary);
  if (!o.show && !o.typed) return;
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const client = o.client === undefined ? {} : { client: o.client };
  o.emit({
    time: o.time,
    event: 'message',
    direction: 'out',
    binary,
    data: buf,
    typed: o.typed,
    ...client,
  });
}

export interface ControllerDeps {
  /** Opens the connection; rejects with a WsxError. */
  connect: (signal: AbortSignal) => Promise<Peer>;
  emit: Emit;
  session: SessionOptions;
  /** Build events for outgoing messages (raw mode shows none, so it skips the work). */
  showOutgoing: boolean;
  now?: () => number;
}

type OurClose = 'done' | 'timeout' | 'signal';

export class Controller implements Driver {
  readonly kind = 'client';
  peer: Peer | undefined;
  readonly ended: Promise<Ending>;
  private resolveEnded!: (e: Ending) => void;
  private finished = false;
  private readonly goal: Goal;
  private error: WsxError | undefined;
  private signal: 'SIGINT' | 'SIGTERM' | undefined;
  private ourClose: OurClose | undefined;
  private readonly timers = new Timers();
  private connectAbort: AbortController | undefined;
  private readonly now: () => number;
  /** --reconnect: reconnects made so far. */
  private reconnects = 0;
  /** True while waiting to reconnect: the session keeps its input (sends are queued). */
  private reconnecting = false;
  private pending: Array<{ data: Buffer | string; binary: boolean }> = [];
  private pendingBytes = 0;
  private reopenWaiters: Array<() => void> = [];
  private sleepers: Array<() => void> = [];
  /** Called after a --reconnect succeeds (the session re-sends its -x messages). */
  onReopened: (() => void) | undefined;
  /** Called when the connection closes (the REPL stops reading). */
  onClosed: (() => void) | undefined;

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? Date.now;
    this.goal = new Goal(deps.session);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    const { timeoutMs } = deps.session;
    if (timeoutMs !== undefined) this.timers.after(timeoutMs, () => this.onTimeout());
  }

  get isFinished(): boolean {
    return this.finished;
  }

  get connected(): boolean {
    return this.peer?.isOpen === true || this.reconnecting;
  }

  get bufferedAmount(): number {
    return this.reconnecting ? this.pendingBytes : (this.peer?.bufferedAmount ?? 0);
  }

  async waitForDrain(below: number): Promise<void> {
    if (this.reconnecting && this.pendingBytes > below) {
      await new Promise<void>((resolve) => this.reopenWaiters.push(resolve));
    }
    await (this.peer?.waitForDrain(below) ?? Promise.resolve());
  }

  ping(data: Buffer): void {
    this.peer?.ping(data);
  }

  pong(data: Buffer): void {
    this.peer?.pong(data);
  }

  setReceiving(on: boolean): void {
    if (on) this.peer?.resume();
    else this.peer?.pause();
  }

  closeConnection(code: number, reason: string): void {
    this.close('done', code, reason);
  }

  status(now: number): string {
    return this.peer ? describePeerStatus(this.peer, now) : '(not connected)';
  }

  headers(): string {
    return this.peer ? describeHeaders(this.peer) : '(not connected)';
  }

  /** Connect (again). False when the run is over. */
  async open(): Promise<boolean> {
    return (await this.openPeer()) !== undefined;
  }

  private async openPeer(): Promise<Peer | undefined> {
    if (this.finished) return undefined;
    this.connectAbort = new AbortController();
    let peer: Peer;
    try {
      peer = await this.deps.connect(this.connectAbort.signal);
    } catch (err) {
      this.connectAbort = undefined;
      if (this.finished) return undefined;
      if (this.signal) return this.finish({ kind: 'signal', signal: this.signal });
      const error = err instanceof WsxError ? err : new WsxError('connect', String(err));
      if (this.ourClose === 'timeout') {
        this.endAfterTimeoutBeforeOpen();
        return undefined;
      }
      if (await this.backOff(`connecting failed: ${error.message}`)) return this.openPeer();
      if (this.finished) return undefined;
      this.emitError(error);
      return this.finish({ kind: 'error', error });
    }
    this.connectAbort = undefined;
    if (this.finished) {
      peer.terminate();
      return undefined;
    }
    const again = this.reconnects > 0;
    this.attach(peer);
    if (again) this.onReopened?.();
    return peer;
  }

  /**
   * --reconnect: if the budget allows, say why, wait (0.5 s doubling to 30 s, ±20% jitter) and
   * return true; the caller then connects again.
   */
  private async backOff(why: string): Promise<boolean> {
    const budget = this.deps.session.reconnect;
    if (budget === undefined || this.reconnects >= budget || this.finished || this.signal)
      return false;
    this.reconnects++;
    const base = Math.min(30_000, 500 * 2 ** (this.reconnects - 1));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    const of = Number.isFinite(budget) ? ` of ${budget}` : '';
    this.reconnecting = true;
    this.note(
      'warn',
      `${why}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.reconnects}${of})`,
    );
    // finish() wakes sleepers too, so a run that ends meanwhile (Ctrl-C) never leaves this hanging.
    await new Promise<void>((resolve) => {
      this.timers.after(delay, resolve);
      this.sleepers.push(resolve);
    });
    return !this.finished;
  }

  private flushPending(): void {
    this.reconnecting = false;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const p of pending) this.send(p.data, p.binary);
    for (const w of this.reopenWaiters.splice(0)) w();
  }

  private attach(peer: Peer): void {
    this.peer = peer;
    this.ourClose = undefined;
    const { emit } = this.deps;
    emit({
      time: this.now(),
      event: 'open',
      // The URL may carry a password (ws://user:pass@host/): never print it.
      url: maskUrl(peer.info.url),
      protocol: peer.info.protocol,
      extensions: peer.info.extensions,
    });
    peer.on('message', (data, binary) => this.onMessage(data, binary));
    peer.on('ping', (data) => emit({ time: this.now(), event: 'ping', direction: 'in', data }));
    peer.on('pong', (data, direction, rtt) =>
      emit({ time: this.now(), event: 'pong', direction, data, rtt, auto: direction === 'out' }),
    );
    peer.on('error', (err) => {
      this.error ??= err;
      this.emitError(err);
    });
    peer.on('close', (info) => this.onClose(peer, info));
    peer.start();
    this.keepAlive(peer);
    if (this.reconnecting) this.flushPending();
  }

  /** --ping-interval / --ping-timeout: ping regularly; a ping unanswered in time means a dead link. */
  private keepAlive(peer: Peer): void {
    const { pingIntervalMs, pingTimeoutMs } = this.deps.session;
    if (pingIntervalMs === undefined) return;
    let lastPong = 0;
    const deadlines = new Set<NodeJS.Timeout>();
    peer.on('pong', (_data, direction) => {
      if (direction === 'in') lastPong = performance.now();
    });
    const interval = setInterval(() => {
      if (!peer.isOpen) return;
      const sentAt = performance.now();
      peer.ping(Buffer.alloc(0));
      this.deps.emit({ time: this.now(), event: 'ping', direction: 'out', data: Buffer.alloc(0) });
      if (pingTimeoutMs === undefined) return;
      const deadline = setTimeout(() => {
        deadlines.delete(deadline);
        if (lastPong >= sentAt || !peer.isOpen) return;
        this.error ??= new WsxError(
          'protocol',
          `no pong within ${pingTimeoutMs / 1000} s: the connection is dead`,
          {
            code: 'PING_TIMEOUT',
          },
        );
        this.emitError(this.error);
        peer.terminate();
      }, pingTimeoutMs);
      deadlines.add(deadline);
    }, pingIntervalMs);
    peer.once('close', () => {
      clearInterval(interval);
      for (const d of deadlines) clearTimeout(d);
    });
  }

  private onMessage(data: Buffer, binary: boolean): void {
    // --count n prints exactly n messages; anything after the goal is not shown.
    if (this.goal.met || this.finished) return;
    this.deps.emit({ time: this.now(), event: 'message', direction: 'in', binary, data });
    if (this.goal.record(data, binary)) this.close('done');
  }

  private onClose(peer: Peer, info: CloseInfo): void {
    this.deps.emit({
      time: this.now(),
      event: 'close',
      code: info.code,
      reason: info.reason,
      clean: info.closeFrameReceived,
    });
    // A connection replaced by /reconnect ends quietly.
    if (peer !== this.peer) return;
    if (this.ourClose === undefined && !this.error && isRetryableClose(info.code)) {
      void this.backOff(`the connection ended (${info.code})`).then(async (retry) => {
        if (retry) {
          this.clearWaitTimer();
          if (await this.openPeer()) return;
          if (this.finished) return;
        }
        this.onClosed?.();
        this.finish(this.endingFor(info));
      });
      return;
    }
    this.onClosed?.();
    this.finish(this.endingFor(info));
  }

  private endingFor(info: CloseInfo): Ending {
    if (this.error) return { kind: 'error', error: this.error };
    if (this.signal) return { kind: 'signal', signal: this.signal };
    const unmet: Ending = { kind: 'unmet', what: this.goal.describe() };
    if (this.ourClose !== undefined) {
      if (!info.closeFrameReceived) {
        this.note(
          'warn',
          `the server did not answer the close frame within ${CLOSE_WAIT_MS / 1000} s`,
        );
      }
      return this.goal.unmet ? unmet : { kind: 'done' };
    }
    if (!info.closeFrameReceived || !isNormalClose(info.code)) {
      return {
        kind: 'closed',
        code: info.code,
        reason: info.reason,
        closeFrameReceived: info.closeFrameReceived,
      };
    }
    return this.goal.unmet ? unmet : { kind: 'done' };
  }

  /** Send a message the session read (stdin line, -x, REPL line). */
  send(data: Buffer | string, binary: boolean, typed = false): void {
    if (this.reconnecting) {
      this.pending.push({ data, binary });
      this.pendingBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return;
    }
    if (this.peer)
      sendShown(this.peer, data, binary, {
        typed,
        show: this.deps.showOutgoing,
        emit: this.deps.emit,
        time: this.now(),
      });
  }

  /**
   * Input is over (stdin EOF, last -x). With a goal, the run waits for it; otherwise it keeps
   * receiving for --wait, then closes.
   */
  inputDone(): void {
    if (this.finished || this.goal.active) return;
    const { waitMs } = this.deps.session;
    if (waitMs < 0) return;
    if (waitMs === 0) this.close('done');
    else this.waitTimer = this.timers.after(waitMs, () => this.close('done'));
  }

  private waitTimer: NodeJS.Timeout | undefined;

  /** A reconnect starts the --wait period again (the session calls inputDone after re-sending). */
  private clearWaitTimer(): void {
    if (this.waitTimer === undefined) return;
    this.timers.clear(this.waitTimer);
    this.waitTimer = undefined;
  }

  /** REPL /reconnect: close this connection (1000) and open a new one with the same options. */
  async reconnect(): Promise<void> {
    const old = this.peer;
    this.peer = undefined;
    if (old && !old.isClosed) {
      const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));
      old.close(1000, '');
      const guard = setTimeout(() => old.terminate(), CLOSE_WAIT_MS);
      await closed;
      clearTimeout(guard);
    }
    this.note('info', 'reconnecting…');
    await this.open();
  }

  /** The user is done (REPL /quit, Ctrl-D). */
  quit(): void {
    if (!this.peer) {
      this.finish({ kind: 'done' });
      return;
    }
    this.close('done');
  }

  /** SIGINT / SIGTERM outside the REPL: try a 1001 close, then end with 130 / 143. */
  interrupt(signal: 'SIGINT' | 'SIGTERM'): void {
    if (this.finished) return;
    if (this.signal) {
      // Second signal: stop waiting.
      this.peer?.terminate();
      this.finish({ kind: 'signal', signal });
      return;
    }
    this.signal = signal;
    if (this.connectAbort) {
      this.connectAbort.abort();
      return;
    }
    this.close('signal', 1001, '');
    this.timers.after(SIGNAL_CLOSE_WAIT_MS, () => {
      this.peer?.terminate();
      this.finish({ kind: 'signal', signal });
    });
  }

  private onTimeout(): void {
    if (this.finished) return;
    if (this.connectAbort) {
      this.ourClose = 'timeout';
      this.connectAbort.abort();
      return;
    }
    this.close('timeout');
  }

  private endAfterTimeoutBeforeOpen(): void {
    const before = '--timeout reached before the connection opened';
    if (this.goal.active) {
      this.finish({ kind: 'unmet', what: `${this.goal.describe()} (${before})` });
      return;
    }
    const error = new WsxError('connect', before, { code: 'TIMEOUT' });
    this.emitError(error);
    this.finish({ kind: 'error', error });
  }

  private close(why: OurClose, code = 1000, reason = ''): void {
    if (this.finished) return;
    const peer = this.peer;
    if (!peer) return;
    if (this.ourClose === undefined) this.ourClose = why;
    if (peer.isClosed) return;
    peer.close(code, reason);
    // ws's closeTimeout ends the socket after CLOSE_WAIT_MS; this guards the rest.
    this.timers.after(CLOSE_WAIT_MS + 1000, () => {
      peer.terminate();
    });
  }

  private emitError(err: WsxError): void {
    this.deps.emit({
      time: this.now(),
      event: 'error',
      message: err.message,
      code: err.code,
      hint: err.hint,
      details: err.details,
    });
  }

  note(level: 'info' | 'warn', text: string): void {
    this.deps.emit({ time: this.now(), event: 'note', level, text });
  }

  private finish(ending: Ending): undefined {
    if (this.finished) return undefined;
    this.finished = true;
    this.timers.clearAll();
    for (const w of [...this.reopenWaiters.splice(0), ...this.sleepers.splice(0)]) w();
    if (ending.kind === 'unmet') {
      this.emitError(new WsxError('io', `not satisfied: ${ending.what}`));
    }
    this.resolveEnded(ending);
    return undefined;
  }
}

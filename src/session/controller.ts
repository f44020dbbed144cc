// Drives one client connection for a session (pipe, execute or REPL): opens it (again, with
// --reconnect), wraps it in the run's layers, queues input while it is not open, and feeds
// every ending into the Lifecycle, which alone decides how the run ended.

import { isNormalClose, isRetryableClose } from '../close-codes.js';
import { type Ending, WsxError } from '../errors.js';
import { KeepaliveLayer } from '../layers/keepalive.js';
import { findLayer, Layer, type LayerContext, type LayerFeature } from '../layers/layer.js';
import type { SessionOptions } from '../options.js';
import { CLOSE_WAIT_MS, type CloseInfo, type MessagePeer, type MessageView } from '../peer.js';
import { maskUrl } from '../render/mask.js';
import { describeHeaders, describePeerStatus } from './describe.js';
import type { Driver } from './driver.js';
import type { MessageBatch } from './framing.js';
import { type Emit, Lifecycle } from './lifecycle.js';
import { wirePeer } from './wire.js';

export type { Emit } from './lifecycle.js';

/** After a signal: how long to wait for the server to answer our 1001. */
const SIGNAL_CLOSE_WAIT_MS = 1000;

export interface ControllerDeps {
  /** Opens the transport connection; rejects with a WsxError. */
  connect: (signal: AbortSignal) => Promise<MessagePeer>;
  emit: Emit;
  session: SessionOptions;
  /** Build events for outgoing messages (raw mode shows none, so it skips the work). */
  showOutgoing: boolean;
  /** Layers wrapped around every new connection, innermost first. */
  features?: LayerFeature[];
  /** -v lines, for layers. */
  verbose?: (line: string) => void;
  /** --max-message-size. */
  maxMessageSize?: number;
  /** Raw output to a pipe: write a plain received message's payload without an event. */
  deliver?: (data: Buffer, binary: boolean) => void;
  /** A layer asks to connect again at once with other options; true = connect again (once). */
  retry?: () => Promise<boolean>;
  now?: () => number;
}

/** Why we started the close handshake. */
/** 'layer': a layer closed on purpose (a dialect whose handshake was refused). */
type OurClose = 'done' | 'timeout' | 'signal' | 'reconnect' | 'layer';

export class Controller implements Driver {
  readonly kind = 'client';
  /** The current connection, wrapped in its layers (undefined before the first open). */
  peer: MessagePeer | undefined;
  readonly ended: Promise<Ending>;
  private readonly life: Lifecycle;
  private ourClose: OurClose | undefined;
  private connectAbort: AbortController | undefined;
  private readonly now: () => number;
  private readonly layerCtx: LayerContext;
  /** --reconnect: reconnects made so far. */
  private reconnects = 0;
  /** Input held while no connection is open but one may come (connecting, back-off). */
  private pending: Array<{ data: Buffer | string; binary: boolean }> = [];
  private pendingBytes = 0;
  private reopenWaiters: Array<() => void> = [];
  /** stdin EOF / last -x seen: every new connection runs the end-of-input rule again. */
  private inputEnded = false;
  private waitTimer: NodeJS.Timeout | undefined;
  private typing = false;
  /** Bumped on every new connection: senders of the old one (replay, -x) stop. */
  generation = 0;
  /** Called after a --reconnect succeeds (the session re-sends its -x messages). */
  onReopened: (() => void) | undefined;
  /** Called when the connection closes for good (the REPL stops reading). */
  onClosed: (() => void) | undefined;
  private receiving = true;
  /** This connection had a protocol or connection error: no reconnect after it. */
  private fatal = false;

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? Date.now;
    this.life = new Lifecycle({
      session: deps.session,
      emit: deps.emit,
      now: this.now,
      onDeadline: () => this.onDeadline(),
    });
    this.ended = this.life.ended;
    this.layerCtx = this.life.layerContext(deps.verbose);
  }

  get isFinished(): boolean {
    return this.life.finished;
  }

  get maxMessageSize(): number | undefined {
    return this.deps.maxMessageSize;
  }

  get connected(): boolean {
    return this.peer?.isOpen === true || this.mayReopen;
  }

  /** Input given now will go out on a later connection. */
  private get mayReopen(): boolean {
    const p = this.life.phase;
    if (p === 'connecting' || p === 'backoff') return true;
    // Open or closing but the socket is not open: the server is closing it; a retry may follow.
    return (p === 'open' || p === 'closing') && this.ourClose === undefined && this.reconnectsLeft;
  }

  private get reconnectsLeft(): boolean {
    const budget = this.deps.session.reconnect;
    return budget !== undefined && this.reconnects < budget;
  }

  /** The current connection is open (senders of -x and --replay rounds stop when it is not). */
  get live(): boolean {
    return this.peer?.isOpen === true;
  }

  get bufferedAmount(): number {
    return this.peer?.isOpen ? this.peer.bufferedAmount : this.pendingBytes;
  }

  async waitForDrain(below: number): Promise<void> {
    while (!this.peer?.isOpen && this.pendingBytes > below && !this.life.finished) {
      await new Promise<void>((resolve) => this.reopenWaiters.push(resolve));
    }
    if (this.peer?.isOpen) await this.peer.waitForDrain(below);
  }

  ping(data: Buffer): void {
    this.peer?.ping(data);
  }

  pong(data: Buffer): void {
    this.peer?.pong(data);
  }

  setReceiving(on: boolean): void {
    this.receiving = on;
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

  layer<T extends MessagePeer>(name: string): T | undefined {
    return this.peer?.isOpen ? findLayer<T>(this.peer, name) : undefined;
  }

  note(level: 'info' | 'warn', text: string): void {
    this.life.note(level, text);
  }

  /** Connect (again). False when the run is over. */
  async open(): Promise<boolean> {
    for (;;) {
      if (this.life.finished) return false;
      this.life.to('connecting');
      this.connectAbort = new AbortController();
      let transport: MessagePeer;
      try {
        transport = await this.deps.connect(this.connectAbort.signal);
      } catch (err) {
        this.connectAbort = undefined;
        if (this.life.finished) return false;
        const error = err instanceof WsxError ? err : new WsxError('connect', String(err));
        if (this.life.signal) {
          this.life.finish();
          return false;
        }
        if (this.life.deadlinePassed) {
          this.endAfterDeadlineBeforeOpen();
          return false;
        }
        if (await this.backOff(`connecting failed: ${error.message}`)) continue;
        if (this.life.finished) return false;
        this.life.fail(error);
        this.life.finish();
        return false;
      }
      this.connectAbort = undefined;
      if (this.life.finished) {
        transport.terminate();
        return false;
      }
      this.attach(transport);
      return true;
    }
  }

  /**
   * --reconnect: if the budget allows, say why, wait (0.5 s doubling to 30 s, ±20% jitter) and
   * return true; the caller then connects again. --timeout, a signal or /quit end the wait.
   */
  private async backOff(why: string): Promise<boolean> {
    if (!this.reconnectsLeft || this.life.finished || this.life.signal) return false;
    this.reconnects++;
    const base = Math.min(30_000, 500 * 2 ** (this.reconnects - 1));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    const budget = this.deps.session.reconnect ?? 0;
    const of = Number.isFinite(budget) ? ` of ${budget}` : '';
    this.life.to('backoff');
    this.life.note(
      'warn',
      `${why}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.reconnects}${of})`,
    );
    await this.life.sleep(delay);
    return !this.life.finished;
  }

  private attach(transport: MessagePeer): void {
    let top = transport;
    const { session } = this.deps;
    if (session.pingIntervalMs !== undefined) {
      top = new KeepaliveLayer(top, this.layerCtx, {
        intervalMs: session.pingIntervalMs,
        timeoutMs: session.pingTimeoutMs,
        showPing: () =>
          this.deps.emit({
            time: this.now(),
            event: 'ping',
            direction: 'out',
            data: Buffer.alloc(0),
          }),
      });
    }
    for (const f of this.deps.features ?? []) top = f.wrap(top, this.layerCtx);
    const peer = top;
    const again = this.generation > 0;
    this.generation++;
    this.peer = peer;
    this.ourClose = undefined;
    this.fatal = false;
    this.life.to('open');
    this.deps.emit({
      time: this.now(),
      event: 'open',
      // The URL may carry a password (ws://user:pass@host/): never print it.
      url: maskUrl(peer.info.url),
      protocol: peer.info.protocol,
      extensions: peer.info.extensions,
    });
    wirePeer(peer, {
      emit: this.deps.emit,
      now: this.now,
      showOutgoing: this.deps.showOutgoing,
      typing: () => this.typing,
      onMessage: (data, binary, view) => this.onMessage(data, binary, view),
      onError: (err) => this.onError(err),
    });
    peer.on('close', (info) => this.onClose(peer, info));
    // start() begins delivery; a pause for a backed-up stdout must come after it, not before.
    peer.start();
    if (!this.receiving) peer.pause();
    this.flushPending();
    if (again) this.onReopened?.();
    if (this.inputEnded) this.armEndOfInput();
  }

  private flushPending(): void {
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const p of pending) this.send(p.data, p.binary);
    for (const w of this.reopenWaiters.splice(0)) w();
  }

  private onError(err: WsxError): void {
    // An application error (exit 5) is shown and remembered; the run goes on. A protocol or
    // connection error means this connection is broken: no reconnect after it.
    // A line the user typed that a layer could not use: say so; the session goes on (SPEC §5).
    if (err.kind === 'usage' && this.deps.session.mode === 'repl') {
      this.life.showError(err);
      return;
    }
    if (err.kind !== 'application' && err.kind !== 'unmet' && err.kind !== 'usage') {
      this.fatal = true;
    }
    this.life.fail(err);
  }

  private onMessage(data: Buffer, binary: boolean, seen: MessageView | undefined): void {
    const { goal } = this.life;
    // --count n prints exactly n messages; anything after the goal is not shown.
    if (goal.met || this.life.finished) return;
    const deliver = this.deps.deliver;
    if (deliver !== undefined && seen === undefined) {
      deliver(data, binary);
      if (goal.active && goal.record(data, binary)) this.close('done');
      return;
    }
    const view = goal.limit(seen);
    this.deps.emit({
      time: this.now(),
      event: 'message',
      direction: 'in',
      binary,
      data,
      ...(view ? { view } : {}),
    });
    if (goal.record(data, binary, view)) this.close('done');
  }

  private onClose(peer: MessagePeer, info: CloseInfo): void {
    this.deps.emit({
      time: this.now(),
      event: 'close',
      code: info.code,
      reason: info.reason,
      clean: info.closeFrameReceived,
    });
    // A connection replaced by /reconnect ends quietly.
    if (peer !== this.peer || this.life.finished) return;
    this.clearWaitTimer();
    // A layer asking to start over with other options (once, not counted as a reconnect).
    if (this.ourClose === undefined && !this.retried && !this.fatal && this.deps.retry) {
      const retry = this.deps.retry;
      this.retried = true;
      void retry().then(async (again) => {
        if (this.life.finished) return;
        if (again) {
          this.life.to('backoff');
          if (await this.open()) return;
          if (this.life.finished) return;
        }
        this.afterClose(info);
      });
      return;
    }
    this.afterClose(info);
  }

  /** Whether the one retry a layer may ask for was used. */
  private retried = false;

  private afterClose(info: CloseInfo): void {
    // A layer that closed on purpose (a dialect whose handshake the broker refused) ended it.
    if (this.ourClose === undefined && info.initiatedByUs) this.ourClose = 'layer';
    if (this.ourClose === undefined && isRetryableClose(info.code) && !this.fatal) {
      void this.backOff(`the connection ended (${info.code})`).then(async (retry) => {
        if (retry) {
          if (await this.open()) return;
          if (this.life.finished) return;
        }
        this.end(info);
      });
      return;
    }
    this.end(info);
  }

  private end(info: CloseInfo): void {
    this.onClosed?.();
    if (this.ourClose !== undefined && this.ourClose !== 'reconnect') {
      // A layer's own close after a refusal: the refusal was reported; the drop says nothing new.
      if (!info.closeFrameReceived && !this.fatal && this.ourClose !== 'layer') {
        this.life.note(
          'warn',
          // Either CLOSE_WAIT_MS passed without data, or the server just dropped TCP.
          `the server did not answer our close frame (within ${CLOSE_WAIT_MS / 1000} s of its last message, or it dropped the connection)`,
        );
      }
    } else if (!info.closeFrameReceived || !isNormalClose(info.code)) {
      this.life.record({
        kind: 'closed',
        code: info.code,
        reason: info.reason,
        closeFrameReceived: info.closeFrameReceived,
      });
    }
    this.life.finish();
  }

  /** Send a message the session read (stdin line, -x, REPL line) through the layers. */
  send(data: Buffer | string, binary: boolean, typed = false): void {
    const peer = this.peer;
    if (peer?.isOpen) {
      this.typing = typed;
      peer.input(data, binary);
      this.typing = false;
      return;
    }
    // Not open: keep it for the next connection if one may come (SPEC §6: queued, not dropped).
    if (this.life.finished || !(this.life.phase === 'idle' || this.mayReopen)) return;
    this.pending.push({ data, binary });
    this.pendingBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }

  sendMany(messages: Buffer[], binary: boolean): void {
    const peer = this.peer;
    // Without layers the transport frames a whole chunk at once; layers take one at a time.
    if (peer?.isOpen && !(peer instanceof Layer)) peer.sendMany(messages, binary);
    else for (const m of messages) this.send(m, binary);
  }

  sendBatch(batch: MessageBatch, binary: boolean): void {
    const peer = this.peer;
    if (peer?.isOpen && !(peer instanceof Layer) && peer.sendBatch) peer.sendBatch(batch, binary);
    else this.sendMany(batch.toBuffers(), binary);
  }

  /**
   * Input is over (stdin EOF, last -x). With a goal, the run waits for it; otherwise it waits for
   * the layers' outstanding responses and then keeps receiving for --wait, then closes.
   */
  inputDone(): void {
    this.inputEnded = true;
    if (this.peer?.isOpen) this.armEndOfInput();
  }

  private armEndOfInput(): void {
    if (this.life.finished || this.life.goal.active) return;
    const peer = this.peer;
    if (!peer) return;
    const { waitMs, waitGiven } = this.deps.session;
    const afterSettled = () => {
      if (peer !== this.peer || this.life.finished) return;
      // Dialects: once every response is in, close at once unless -w was given (SPEC §12).
      const ms = outstanding && !waitGiven ? 0 : waitMs;
      if (ms < 0) return;
      this.clearWaitTimer();
      if (ms === 0) this.close('done');
      else this.waitTimer = this.life.timers.after(ms, () => this.close('done'));
    };
    const outstanding = peer.outstanding() > 0;
    if (!outstanding) {
      afterSettled();
      return;
    }
    // Bounded by --await-timeout without progress: each response (or finished step) that
    // lowers the count starts the wait again, so a long conversation is not cut off.
    const limit = this.deps.session.awaitTimeoutMs;
    let left = peer.outstanding();
    let guard: NodeJS.Timeout | undefined;
    const arm = () => {
      if (guard !== undefined) this.life.timers.clear(guard);
      guard = this.life.timers.after(limit, () => {
        peer.off('settled', onSettled);
        peer.off('message', onProgress);
        if (peer !== this.peer || this.life.finished) return;
        this.life.fail(
          new WsxError(
            'unmet',
            `${peer.outstanding()} response(s) still outstanding after ${limit / 1000} s`,
            { hint: 'raise --await-timeout' },
          ),
        );
        this.close('done');
      });
    };
    const onProgress = () => {
      const now = peer.outstanding();
      if (now < left) arm();
      left = now;
    };
    const onSettled = () => {
      if (guard !== undefined) this.life.timers.clear(guard);
      peer.off('message', onProgress);
      afterSettled();
    };
    arm();
    peer.on('message', onProgress);
    peer.once('settled', onSettled);
  }

  /** A reconnect starts the --wait period again (armEndOfInput runs on the new connection). */
  private clearWaitTimer(): void {
    if (this.waitTimer === undefined) return;
    this.life.timers.clear(this.waitTimer);
    this.waitTimer = undefined;
  }

  /** REPL /reconnect: close this connection (1000) and open a new one with the same options. */
  async reconnect(): Promise<void> {
    const old = this.peer;
    this.peer = undefined;
    if (old && !old.isClosed) {
      this.ourClose = 'reconnect';
      this.life.to('closing');
      const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));
      old.close(1000, '');
      // An outer bound only: the Peer's own wait counts from the last data received.
      const guard = setTimeout(() => old.terminate(), 6 * CLOSE_WAIT_MS);
      await closed;
      clearTimeout(guard);
    }
    this.life.note('info', 'reconnecting…');
    await this.open();
  }

  /** The user is done (REPL /quit, Ctrl-D), also while connecting or backing off. */
  quit(): void {
    const { phase } = this.life;
    if (this.peer && !this.peer.isClosed && (phase === 'open' || phase === 'closing')) {
      this.close('done');
      return;
    }
    this.connectAbort?.abort();
    this.life.finish();
  }

  /** SIGINT / SIGTERM outside the REPL: try a 1001 close, then end with 130 / 143. */
  interrupt(signal: 'SIGINT' | 'SIGTERM'): void {
    if (this.life.finished) return;
    if (this.life.signal) {
      // Second signal: stop waiting.
      this.peer?.terminate();
      this.life.finish();
      return;
    }
    this.life.signal = signal;
    if (!this.peer?.isOpen) {
      this.connectAbort?.abort();
      if (this.life.phase === 'backoff' || this.life.phase === 'idle') this.life.finish();
      return;
    }
    this.close('signal', 1001, '');
    this.life.timers.after(SIGNAL_CLOSE_WAIT_MS, () => {
      this.peer?.terminate();
      this.life.finish();
    });
  }

  private onDeadline(): void {
    switch (this.life.phase) {
      case 'connecting':
        this.connectAbort?.abort();
        return;
      case 'open':
        this.close('timeout');
        return;
      case 'closing':
        // The close handshake is under way (and bounded); let it finish.
        if (this.ourClose === undefined) this.ourClose = 'timeout';
        return;
      default:
        // Backing off, or not started: the deadline ends the run now (defect 6).
        this.endAfterDeadlineBeforeOpen();
    }
  }

  private endAfterDeadlineBeforeOpen(): void {
    const before = this.generation === 0 ? 'before the connection opened' : 'while reconnecting';
    const { goal } = this.life;
    if (goal.active) {
      this.life.finish({ kind: 'unmet', what: `${goal.describe()} (--timeout reached ${before})` });
      return;
    }
    if (this.generation === 0) {
      this.life.fail(new WsxError('connect', `--timeout reached ${before}`, { code: 'TIMEOUT' }));
    } else {
      this.life.note('warn', `--timeout reached ${before}`);
    }
    this.life.finish();
  }

  private close(why: OurClose, code = 1000, reason = ''): void {
    if (this.life.finished) return;
    const peer = this.peer;
    if (!peer) return;
    if (this.ourClose === undefined) this.ourClose = why;
    if (peer.isClosed) return;
    if (this.life.phase === 'open') this.life.to('closing');
    // The Peer waits CLOSE_WAIT_MS for the server's close frame, counted from the last data
    // received: a server still sending its echoes is never cut off (SPEC §16, issue 10).
    peer.close(code, reason);
  }
}

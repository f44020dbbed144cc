// The message-peer contract (MessagePeer) and its transport implementation over ws (WsPeer).
// A MessagePeer is one open WebSocket, from either side (a client connection or a server's
// client), with typed events, statistics and RTT tracking. Layers (src/layers/) wrap one
// MessagePeer in another; sessions drive the outermost one and never see ws.

import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { WsxError } from './errors.js';

export interface CloseInfo {
  code: number;
  reason: string;
  /** A close frame came from the other side (code 1006 means none did). */
  closeFrameReceived: boolean;
  /** We sent the first close frame. */
  initiatedByUs: boolean;
}

export interface HandshakeInfo {
  url: string;
  protocol: string;
  extensions: string;
  /** Request line and headers as sent, and the status line and headers as received. */
  request?: { method: string; path: string; headers: Array<[string, string]> };
  response?: { status: number; statusText: string; headers: Array<[string, string]> };
  remoteAddress?: string;
}

export interface PeerStats {
  openedAt: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  lastRtt: number | undefined;
}

/**
 * What a layer knows about a message beyond its bytes: how to show it and what it counts as.
 * Renderers, --expect/--count, --await/--reply and --filter read this instead of re-parsing.
 */
export interface MessageView {
  /**
   * The text that raw output writes, and that --expect, --await, --reply and --filter see, in
   * place of the payload (a dialect's decoded line, a decoder's JSON). Undefined = the payload.
   */
  text?: string;
  /** Pretty output: a label before the body, e.g. `[1 next]`, `chat`, `MESSAGE /topic/x (sub 1)`. */
  label?: string;
  /** Pretty output: the body after the label (JSON is indented); undefined = `text` or payload. */
  body?: string;
  /** json output: the decoded frame, written as the event's "dialect" object. */
  dialect?: Record<string, unknown>;
  /** json output: a decoder's result (SPEC §17: "decoded" with "codec"). */
  decoded?: { codec: string; value: unknown };
  /** A filter's output values (json "filtered"; raw/pretty show these instead of the message). */
  filtered?: unknown[];
  /**
   * Not an application message: heartbeats, acks, receipts, handshake frames. --count does not
   * count it, --expect does not match it, and --hide-ping-pong hides it.
   */
  control?: boolean;
  /** Hide entirely (e.g. a consumed heartbeat that --hide-ping-pong would hide anyway). */
  hidden?: boolean;
  /** A one-line note shown with the message (e.g. "did not decode as msgpack: …"). */
  note?: string;
  /** Outgoing: sent by a layer on its own (heartbeat answer, auto-reply), not by the user. */
  auto?: boolean;
}

export interface PeerEvents {
  /** A received message; `view` is set by layers that decoded or classified it. */
  message: [data: Buffer, binary: boolean, view?: MessageView];
  /**
   * A frame a layer sent on its own (a heartbeat answer, a handshake, an auto-reply): shown as
   * `> [auto] …` (json "auto":true), hidden by --hide-ping-pong when `view.control`.
   */
  sent: [data: Buffer, binary: boolean, view?: MessageView];
  /** A layer's note for the user (a dialect announced, a decoder's warning). */
  note: [level: 'info' | 'warn', text: string];
  /** outstanding() dropped to 0: every request has its response. */
  settled: [];
  ping: [data: Buffer];
  /** `auto` = the pong ws sent in answer to a ping. `rtt` = ms, for pongs to our own pings. */
  pong: [data: Buffer, direction: 'in' | 'out', rtt: number | undefined];
  close: [info: CloseInfo];
  error: [err: WsxError];
}

const OPEN = 1;

/** How long to wait for the other side's close frame after we send ours. */
export const CLOSE_WAIT_MS = 5000;

/** Protocol errors from ws's receiver, with words a user understands. */
function describeWsError(err: Error & { code?: string }): WsxError {
  const map: Record<string, string> = {
    WS_ERR_INVALID_UTF8: 'the server sent a text message that is not valid UTF-8',
    WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 'the server sent a message larger than --max-message-size',
    WS_ERR_INVALID_CLOSE_CODE: 'the server sent a close frame with an invalid code',
    WS_ERR_INVALID_OPCODE: 'the server sent a frame with an invalid opcode',
    WS_ERR_EXPECTED_MASK: 'the peer sent an unmasked frame',
    WS_ERR_UNEXPECTED_MASK: 'the server sent a masked frame',
    WS_ERR_UNEXPECTED_RSV_1: 'the server sent a frame with RSV1 set but no extension allows it',
    WS_ERR_UNEXPECTED_RSV_2_3: 'the server sent a frame with RSV2/RSV3 set',
    WS_ERR_EXPECTED_FIN: 'the server sent a fragmented control frame',
    WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: 'the server sent a control frame longer than 125 bytes',
  };
  const known = err.code ? map[err.code] : undefined;
  if (known) {
    const status =
      err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
        ? 1009
        : err.code === 'WS_ERR_INVALID_UTF8'
          ? 1007
          : 1002;
    const hint = status === 1009 ? 'raise the limit, e.g. --max-message-size 1G' : undefined;
    return new WsxError('protocol', `protocol error: ${known} (closing with ${status})`, {
      code: err.code,
      hint,
    });
  }
  const code = err.code;
  return new WsxError('protocol', err.message, { code });
}

/**
 * The interface every transport implements and every layer wraps (DESIGN.md "layers on a message
 * peer"). Events: see PeerEvents. All methods are safe to call in any state.
 */
export interface MessagePeer extends EventEmitter<PeerEvents> {
  readonly info: HandshakeInfo;
  readonly stats: PeerStats;
  readonly isOpen: boolean;
  readonly isClosed: boolean;
  /** Bytes queued locally and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /**
   * A message the user gave (a typed or piped line, -x): layers may template it, encode it in
   * their protocol, or hold it until their handshake is done. The transport sends it as is.
   */
  input(data: Buffer | string, binary: boolean): void;
  /**
   * Send one message as is (a frame on the wire for the transport). Emits 'sent' (when anyone
   * listens) with `view`, so layers can say how their frames are shown.
   */
  send(data: Buffer | string, binary: boolean, view?: MessageView): void;
  /** Send several messages in one go (one socket write where the transport can). */
  sendMany(messages: ReadonlyArray<Buffer | string>, binary: boolean): void;
  /** Requests sent and not yet answered (dialects); end of input waits for 0 ('settled'). */
  outstanding(): number;
  /** Resolves once bufferedAmount ≤ `below` (or the peer closed). */
  waitForDrain(below?: number): Promise<void>;
  ping(data?: Buffer): void;
  pong(data?: Buffer): void;
  /** Start the close handshake. Code and reason must already be valid (see close-codes.ts). */
  close(code?: number, reason?: string): void;
  terminate(): void;
  /** Begin delivering events (peers are handed over paused). */
  start(): void;
  /** Stop / resume delivering messages (output back-pressure). */
  pause(): void;
  resume(): void;
}

export class Peer extends EventEmitter<PeerEvents> implements MessagePeer {
  readonly stats: PeerStats;
  private pendingPings: Array<{ key: string; at: number }> = [];
  private closeSent = false;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly info: HandshakeInfo,
  ) {
    super();
    this.stats = {
      openedAt: Date.now(),
      messagesIn: 0,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      lastRtt: undefined,
    };
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      this.stats.messagesIn++;
      this.stats.bytesIn += buf.length;
      this.emit('message', buf, isBinary);
    });
    ws.on('ping', (data) => {
      this.emit('ping', data);
      // ws has already answered (autoPong); report the pong it sent.
      this.emit('pong', data, 'out', undefined);
    });
    ws.on('pong', (data) => {
      const rtt = this.matchPong(data);
      if (rtt !== undefined) this.stats.lastRtt = rtt;
      this.emit('pong', data, 'in', rtt);
    });
    ws.on('error', (err) => this.emit('error', describeWsError(err)));
    ws.on('close', (code, reason) => {
      this.closed = true;
      this.wakeDrainWaiters();
      this.emit('close', {
        code,
        reason: reason.toString('utf8'),
        closeFrameReceived: code !== 1006,
        initiatedByUs: this.closeSent,
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === OPEN;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes queued locally and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  input(data: Buffer | string, binary: boolean): void {
    this.send(data, binary);
  }

  outstanding(): number {
    return 0;
  }

  /** Send a message. Use waitForDrain() when bufferedAmount grows past what you accept. */
  send(data: Buffer | string, binary: boolean, view?: MessageView): void {
    if (!this.isOpen) return;
    this.stats.messagesOut++;
    this.stats.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.unwritten++;
    this.ws.send(data, { binary }, this.onSent);
    if (this.listenerCount('sent') > 0) {
      this.emit('sent', typeof data === 'string' ? Buffer.from(data) : data, binary, view);
    }
  }

  /** Sends handed to ws whose write callback has not run yet. */
  private unwritten = 0;
  private drainWaiters: Array<{ below: number; resolve: () => void }> = [];

  private readonly onSent = (): void => {
    this.unwritten--;
    if (this.drainWaiters.length > 0) this.wakeDrainWaiters();
  };

  private wakeDrainWaiters(): void {
    const buffered = this.ws.bufferedAmount;
    const done = this.closed || this.unwritten === 0;
    this.drainWaiters = this.drainWaiters.filter((w) => {
      if (done || buffered <= w.below) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** Resolves once the local send buffer is at or below `below` bytes (0 = all written). */
  waitForDrain(below = 0): Promise<void> {
    if (this.closed || this.unwritten === 0 || this.ws.bufferedAmount <= below) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.drainWaiters.push({ below, resolve }));
  }

  sendMany(messages: ReadonlyArray<Buffer | string>, binary: boolean): void {
    for (const m of messages) this.send(m, binary);
  }

  ping(data: Buffer = Buffer.alloc(0)): void {
    if (!this.isOpen) return;
    this.pendingPings.push({ key: data.toString('hex'), at: performance.now() });
    if (this.pendingPings.length > 100) this.pendingPings.shift();
    this.ws.ping(data);
  }

  pong(data: Buffer = Buffer.alloc(0)): void {
    if (this.isOpen) this.ws.pong(data);
  }

  /** Start the close handshake. Code and reason must already be valid (see close-codes.ts). */
  close(code = 1000, reason = ''): void {
    if (this.closed || this.closeSent) return;
    if (this.ws.readyState !== OPEN) {
      this.ws.terminate();
      return;
    }
    this.closeSent = true;
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Begin delivering events (connections are handed over paused). */
  start(): void {
    this.ws.resume();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  private matchPong(data: Buffer): number | undefined {
    const key = data.toString('hex');
    const i = this.pendingPings.findIndex((p) => p.key === key);
    if (i === -1) return undefined;
    const at = this.pendingPings[i]?.at ?? 0;
    this.pendingPings.splice(0, i + 1);
    return performance.now() - at;
  }
}

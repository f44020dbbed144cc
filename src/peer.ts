// A Peer is one open WebSocket, from either side (a client connection or a server's client),
// with typed events, statistics and RTT tracking. Sessions drive Peers; they never see ws.

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

export interface PeerEvents {
  message: [data: Buffer, binary: boolean];
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

export class Peer extends EventEmitter<PeerEvents> {
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

  /** Send a message. Use waitForDrain() when bufferedAmount grows past what you accept. */
  send(data: Buffer | string, binary: boolean): void {
    if (!this.isOpen) return;
    this.stats.messagesOut++;
    this.stats.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.outstanding++;
    this.ws.send(data, { binary }, this.onSent);
  }

  private outstanding = 0;
  private drainWaiters: Array<{ below: number; resolve: () => void }> = [];

  private readonly onSent = (): void => {
    this.outstanding--;
    if (this.drainWaiters.length > 0) this.wakeDrainWaiters();
  };

  private wakeDrainWaiters(): void {
    const buffered = this.ws.bufferedAmount;
    const done = this.closed || this.outstanding === 0;
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
    if (this.closed || this.outstanding === 0 || this.ws.bufferedAmount <= below) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.drainWaiters.push({ below, resolve }));
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

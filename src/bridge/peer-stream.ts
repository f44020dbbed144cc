// A WebSocket as a byte stream: a Node Duplex over a MessagePeer (never ws internals), so pair()
// can join it to stdio, a TCP socket or a child process (SPEC §13, §17 "--stream framing",
// "Half-close over a WebSocket").

import { isUtf8 } from 'node:buffer';
import { Duplex } from 'node:stream';
import type { Ending, WsxError } from '../errors.js';
import type { CloseInfo, MessagePeer } from '../peer.js';

/** Largest message sent: a longer read is cut into pieces this size (SPEC §13). */
export const MAX_CHUNK = 64 * 1024;
/** Local send buffer above which writes wait for the socket to drain. */
const SEND_HIGH_WATER = 1024 * 1024;
const NL = Buffer.from('\n');

export interface PeerStreamOptions {
  /**
   * 'bytes': every write is one binary message, every message's bytes are pushed unchanged.
   * 'lines' (websocketd): every line written is one text message (without its \n); every
   * message is pushed followed by \n.
   */
  framing: 'bytes' | 'lines';
  /** After end(): ms to keep receiving before the close (−1 = until the other side closes). */
  closeDelayMs?: number;
}

export class PeerStream extends Duplex {
  /** How the WebSocket ended, once it has. */
  closeInfo: CloseInfo | undefined;
  /** A protocol error seen on the connection (the close follows it). */
  error: WsxError | undefined;
  /** Resolves when the WebSocket has closed (whatever the streams are doing). */
  readonly wsClosed: Promise<CloseInfo>;
  private partial: Buffer[] = [];
  private readonly framing: 'bytes' | 'lines';
  private readonly closeDelayMs: number;

  constructor(
    readonly peer: MessagePeer,
    opts: PeerStreamOptions,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, decodeStrings: true });
    this.framing = opts.framing;
    this.closeDelayMs = opts.closeDelayMs ?? 0;
    let onClosed: (info: CloseInfo) => void = () => {};
    this.wsClosed = new Promise((resolve) => {
      onClosed = resolve;
    });
    peer.on('message', (data) => {
      if (this.readableEnded || this.destroyed) return;
      const more =
        this.framing === 'lines' ? this.push(Buffer.concat([data, NL])) : this.push(data);
      if (!more) peer.pause();
    });
    peer.on('error', (err) => {
      this.error ??= err;
    });
    peer.on('close', (info) => {
      this.closeInfo = info;
      onClosed(info);
      this.push(null);
    });
    // Once everything received has been consumed, nothing more can come or go: tell pair().
    this.once('end', () => this.destroy());
    peer.start();
  }

  /** The run's ending as far as this connection goes (SPEC §7). */
  ending(): Ending {
    if (this.error) return { kind: 'error', error: this.error };
    const c = this.closeInfo;
    if (!c) return { kind: 'closed', code: 1006, reason: '', closeFrameReceived: false };
    return {
      kind: 'closed',
      code: c.code,
      reason: c.reason,
      closeFrameReceived: c.closeFrameReceived,
    };
  }

  /** Close the WebSocket now with this code (signals: 1001; a failed target: 1011). */
  closeWith(code: number, reason = ''): void {
    this.peer.close(code, cutReason(reason));
  }

  override _read(): void {
    this.peer.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.peer.isOpen) {
      // The WebSocket is gone: what is still written has nowhere to go.
      cb();
      return;
    }
    if (this.framing === 'lines') this.sendLines(chunk);
    else
      for (let i = 0; i < chunk.length; i += MAX_CHUNK) {
        this.peer.send(chunk.length <= MAX_CHUNK ? chunk : chunk.subarray(i, i + MAX_CHUNK), true);
      }
    if (this.peer.bufferedAmount <= SEND_HIGH_WATER) cb();
    else this.peer.waitForDrain(SEND_HIGH_WATER).then(() => cb());
  }

  private sendLines(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line =
        this.partial.length > 0 ? Buffer.concat([...this.partial.splice(0), piece]) : piece;
      this.sendLine(line);
      start = nl + 1;
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  private sendLine(line: Buffer): void {
    // websocketd strips the line ending; \r\n programs (Windows-style) lose the \r as well.
    const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    const text = line.subarray(0, end);
    // A text frame must be UTF-8 (a client closes with 1007 otherwise): other bytes go binary.
    this.peer.send(text, !isUtf8(text));
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.framing === 'lines' && this.partial.length > 0 && this.peer.isOpen) {
      this.sendLine(Buffer.concat(this.partial.splice(0)));
    }
    let called = false;
    const close = () => {
      if (called) return;
      called = true;
      this.peer.close(1000, '');
      cb();
    };
    if (this.closeDelayMs === 0 || !this.peer.isOpen) close();
    else if (this.closeDelayMs < 0) this.wsClosed.then(() => cb());
    else {
      const timer = setTimeout(close, this.closeDelayMs);
      void this.wsClosed.then(() => {
        clearTimeout(timer);
        close();
      });
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.peer.isClosed) {
      if (err) this.peer.close(1011, cutReason(err.message));
      else this.peer.close(1000, '');
    }
    cb(err);
  }
}

/** A close reason is at most 123 bytes of UTF-8. */
export function cutReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

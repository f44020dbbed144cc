// The message-peer contract (MessagePeer) and its transport implementation over ws (WsPeer).
// A MessagePeer is one open WebSocket, from either side (a client connection or a server's
// client), with typed events, statistics and RTT tracking. Layers (src/layers/) wrap one
// MessagePeer in another; sessions drive the outermost one and never see ws.

import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { monotonicMs } from './clock.js';
import { WsxError } from './errors.js';
import { noteTraffic } from './memory.js';
import type { MessageBatch } from './session/framing.js';
import { FrameEncoder, headerSize } from './wire.js';

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
  /** Which side we are: 'server' in listen mode (errors then say "the client sent …"). */
  role?: 'client' | 'server';
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
   * count it; --expect, --await, --reply and --filter do not see it; raw output does not write
   * it. Still shown in pretty and json output (unless `heartbeat` and --hide-ping-pong).
   */
  control?: boolean;
  /**
   * A heartbeat/keep-alive frame (Engine.IO ping/pong, STOMP heart-beat, MQTT PINGREQ/PINGRESP,
   * GraphQL ping/pong/ka, --heartbeat): shown like a ping, so --hide-ping-pong hides it (SPEC
   * §12, §17). Set together with `control` (a heartbeat is not an application message).
   */
  heartbeat?: boolean;
  /**
   * Not written in raw output, but still an application message (counted, matched): a CDP
   * event without --events, a JSON-RPC/CDP/GraphQL error (its error line goes to stderr).
   */
  rawHidden?: boolean;
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
   * `> [auto] …` (json "auto":true), hidden by --hide-ping-pong.
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

/**
 * How long to wait for the other side's close frame after we send ours, counted from the last
 * data received (a server still sending its echoes is never cut off).
 */
export const CLOSE_WAIT_MS = 5000;

/** ws's own close timer (counted from our close frame): only an outer bound, ~24 days. */
export const CLOSE_TIMEOUT_OUTER_MS = 2 ** 31 - 1;

/** Protocol errors from ws's receiver, with words a user understands. */
export function describeWsError(
  err: Error & { code?: string },
  who: 'the server' | 'the client' = 'the server',
): WsxError {
  const payloadLength = /invalid payload length (\d+)$/.exec(err.message)?.[1];
  const map: Record<string, string> = {
    // ws says the same for a text message and a close reason: name both.
    WS_ERR_INVALID_UTF8: `${who} sent text (a message or a close reason) that is not valid UTF-8`,
    WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: `${who} sent a message larger than --max-message-size`,
    WS_ERR_INVALID_CLOSE_CODE: `${who} sent a close frame with an invalid code`,
    WS_ERR_INVALID_OPCODE: `${who} sent a frame with an invalid opcode`,
    WS_ERR_EXPECTED_MASK: `${who} sent an unmasked frame`,
    WS_ERR_UNEXPECTED_MASK: `${who} sent a masked frame`,
    WS_ERR_UNEXPECTED_RSV_1: `${who} sent a frame with RSV1 set but no extension allows it`,
    WS_ERR_UNEXPECTED_RSV_2_3: `${who} sent a frame with RSV2/RSV3 set`,
    WS_ERR_EXPECTED_FIN: `${who} sent a fragmented control frame`,
    WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH:
      payloadLength === '1'
        ? `${who} sent a close frame with a 1-byte payload (a close code takes 2)`
        : `${who} sent a control frame longer than 125 bytes`,
  };
  const known = err.code ? map[err.code] : undefined;
  if (known) {
    const status = closeStatusFor(err.code);
    const hint = status === 1009 ? 'raise the limit, e.g. --max-message-size 1G' : undefined;
    return new WsxError('protocol', `protocol error: ${known} (closing with ${status})`, {
      code: err.code,
      hint,
    });
  }
  const code = err.code;
  return new WsxError('protocol', err.message, { code });
}

/** The close code ws sends after one of its protocol errors. */
function closeStatusFor(code: string | undefined): number {
  return code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
    ? 1009
    : code === 'WS_ERR_INVALID_UTF8'
      ? 1007
      : 1002;
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
  /** sendMany for the messages of one input chunk, framed from the chunk where it can. */
  sendBatch?(batch: MessageBatch, binary: boolean): void;
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

/** Data messages of at least this many bytes are compressed when permessage-deflate is on. */
export const COMPRESS_THRESHOLD = 1024;
/**
 * The zlib level wsx compresses with (client and listen mode). Level 1 compresses 80 KB of JSON
 * 2.5 times faster than zlib's default 6, for output 10 % larger: on a fast link the sender's
 * CPU, not the bytes, limits a WebSocket (the 64 KiB deflate bench row: 1.0× → 1.4×).
 */
export const DEFLATE_LEVEL = 1;
/** Single sends under this size wait for the end of the turn, to leave in one frame buffer. */
const QUEUE_LIMIT = 16 * 1024;
/** Queued single sends are framed and handed to the socket once they reach this many bytes. */
const QUEUE_FLUSH_AT = 64 * 1024;
/** The turn's arrays (see `turn`) are kept for the next turn up to this many entries. */
const QUEUE_KEEP = 1024;

/**
 * The single sends every Peer queued this turn, in order, with their byte lengths: each Peer
 * holds a range of them (queuedStart, queuedCount). A relay queues each message it received for
 * every other client; they all share its one entry here. With an array pair per Peer instead,
 * a broadcast to 100 clients kept 100 × 2 arrays sized for a turn's messages alive for good
 * (~120 KB at 50 messages a turn), and what a scavenge finds alive makes V8 grow its young
 * generation. Emptied (the messages let go) once no Peer holds a range.
 */
const turn: Array<Buffer | string | undefined> = [];
const turnLens: number[] = [];
let turnLength = 0;
let turnHolders = 0;

/** For tests: the turn's queue now (`kept`: its slots; `alive`: messages it refers to). */
export function queuedThisTurn(): { length: number; holders: number; kept: number; alive: number } {
  const alive = turn.reduce<number>((n, m) => (m === undefined ? n : n + 1), 0);
  return { length: turnLength, holders: turnHolders, kept: turn.length, alive };
}

/** What a transport needs of the TCP/TLS socket under a WebSocket for the send fast path. */
export interface FrameSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  end(...args: unknown[]): unknown;
  on(event: 'data' | 'finish', listener: (...args: unknown[]) => void): unknown;
  readonly destroyed: boolean;
  /** Bytes written and not yet handed to the kernel (0 right after a write it took whole). */
  readonly writableLength: number;
}

export interface PeerOptions {
  /**
   * The socket ws reads and writes (from public API: the 'upgrade' response's `res.socket`, the
   * server request's `req.socket`). Given, data frames are encoded here and written straight to
   * it, corked per turn of the event loop; otherwise every message goes through ws.send.
   */
  socket?: FrameSocket;
  /** Client side: frames are masked (RFC 6455 §5.3). */
  client?: boolean;
}

export class Peer extends EventEmitter<PeerEvents> implements MessagePeer {
  readonly stats: PeerStats;
  private pendingPings: Array<{ key: string; at: number }> = [];
  private closeSent = false;
  private closed = false;
  /** The code ws closed with after a protocol error it found (1002, 1007, 1009). */
  private protocolClose: number | undefined;
  private readonly socket: FrameSocket | undefined;
  private readonly encoder: FrameEncoder | undefined;
  /** permessage-deflate was negotiated: large messages go through ws to be compressed. */
  private readonly deflate: boolean;
  /**
   * Messages handed to ws.send whose callback has not run. While any are pending (a compression
   * in progress queues later frames inside ws), every send goes through ws to keep the order.
   */
  private viaWs = 0;
  /** The socket is corked until the end of this turn (one writev for everything sent in it). */
  private corked = false;
  private paused = true;
  /** Waiting for the other side's close frame or TCP close: counts from the last data in. */
  private closeTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /**
   * Single sends of this turn (all text or all binary), framed together at its end: one buffer
   * and one socket write per turn, where a relay to many clients would otherwise make a write
   * request per message per client. Flushed before anything else reaches the socket.
   * They are the entries queuedStart … queuedStart + queuedCount − 1 of the shared `turn`.
   */
  private queuedStart = 0;
  private queuedCount = 0;
  /**
   * This turn's single sends once they could not go on as a range of `turn` (each client is sent
   * a message of its own, e.g. --encode makes one per client): arrays for the rest of the turn.
   */
  private own: { msgs: Array<Buffer | string | undefined>; lens: number[] } | undefined;
  private queuedBinary = false;
  private queuedBytes = 0;
  /** The socket's own write and end (the instance's are wrapped to flush `queued` first). */
  private socketWrite: FrameSocket['write'] | undefined;
  private socketEnd: FrameSocket['end'] | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly info: HandshakeInfo,
    opts: PeerOptions = {},
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
    this.socket = opts.socket;
    this.encoder = opts.socket ? new FrameEncoder(opts.client === true) : undefined;
    this.deflate = /(^|,)\s*permessage-deflate/.test(ws.extensions);
    // The listeners are shared functions that find their Peer on the emitter (`this` is ws or
    // the socket), not closures: a server keeps one Peer per client, and a dozen closures and
    // their context each are most of what it costs beyond ws's own objects (SPEC §16).
    const owner = ws as WebSocket & PeerOwned;
    owner[PEER] = this;
    ws.on('message', Peer.onWsMessage);
    ws.on('ping', Peer.onWsPing);
    ws.on('pong', Peer.onWsPong);
    ws.on('error', Peer.onWsError);
    ws.on('close', Peer.onWsClose);
    if (opts.socket) {
      const socket = opts.socket as FrameSocket & PeerOwned;
      // ws writes its own frames (a close or a pong in answer, a compressed message) to this
      // socket: whatever we queued before must go first. The wrap is on this one instance.
      // A socket a Peer wrapped before: its own write and end, not the wrappers (which would
      // call themselves).
      const before = socket.write === Peer.flushingWrite ? peerOf(socket) : undefined;
      this.socketWrite = before ? before.socketWrite : socket.write;
      this.socketEnd = before ? before.socketEnd : socket.end;
      socket[PEER] = this;
      socket.write = Peer.flushingWrite;
      socket.end = Peer.flushingEnd;
      socket.on('data', Peer.onSocketData);
      socket.on('finish', Peer.onSocketFinish);
    }
  }

  private static readonly onWsMessage = function (
    this: WebSocket,
    data: WebSocket.RawData,
    isBinary: boolean,
  ): void {
    const p = peerOf(this);
    const buf = data as Buffer;
    p.stats.messagesIn++;
    p.stats.bytesIn += buf.length;
    noteTraffic(buf.length);
    if (p.closing && p.socket === undefined) p.armCloseTimer();
    p.emit('message', buf, isBinary);
  };

  private static readonly onWsPing = function (this: WebSocket, data: Buffer): void {
    const p = peerOf(this);
    p.emit('ping', data);
    // ws has already answered (autoPong); report the pong it sent.
    p.emit('pong', data, 'out', undefined);
  };

  private static readonly onWsPong = function (this: WebSocket, data: Buffer): void {
    const p = peerOf(this);
    const rtt = p.matchPong(data);
    if (rtt !== undefined) p.stats.lastRtt = rtt;
    p.emit('pong', data, 'in', rtt);
  };

  private static readonly onWsError = function (
    this: WebSocket,
    err: Error & { code?: string },
  ): void {
    const p = peerOf(this);
    // After its own protocol error ws closes the socket itself: that is our close, not a drop.
    if (err.code?.startsWith('WS_ERR_')) p.protocolClose = closeStatusFor(err.code);
    p.emit('error', describeWsError(err, p.info.role === 'server' ? 'the client' : 'the server'));
  };

  private static readonly onWsClose = function (
    this: WebSocket,
    wsCode: number,
    reason: Buffer,
  ): void {
    const p = peerOf(this);
    const code = wsCode === 1006 && p.protocolClose !== undefined ? p.protocolClose : wsCode;
    p.closed = true;
    p.closing = false;
    if (p.closeTimer) clearTimeout(p.closeTimer);
    p.wakeDrainWaiters();
    p.emit('close', {
      code,
      reason: reason.toString('utf8'),
      closeFrameReceived: wsCode !== 1006,
      initiatedByUs: p.closeSent || p.protocolClose !== undefined,
    });
  };

  /** The socket's write, as ws and everyone else call it: our queued frames go first. */
  private static readonly flushingWrite = function (
    this: FrameSocket,
    ...args: unknown[]
  ): boolean {
    const p = peerOf(this);
    p.flushQueued();
    return (p.socketWrite as (...a: unknown[]) => boolean).apply(this, args);
  };

  private static readonly flushingEnd = function (this: FrameSocket, ...args: unknown[]): unknown {
    const p = peerOf(this);
    p.flushQueued();
    return (p.socketEnd as (...a: unknown[]) => unknown).apply(this, args);
  };

  /** Data still arriving after our close frame: the other side is alive, keep waiting. */
  private static readonly onSocketData = function (this: FrameSocket): void {
    const p = peerOf(this);
    if (p.closing) p.armCloseTimer();
  };

  /** ws ends our side once both close frames are exchanged: now only the TCP close is due. */
  private static readonly onSocketFinish = function (this: FrameSocket): void {
    const p = peerOf(this);
    if (!p.closed) {
      p.closing = true;
      p.armCloseTimer();
    }
  };

  get isOpen(): boolean {
    return this.ws.readyState === OPEN;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes queued locally and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.queuedBytes;
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
    one[0] = data;
    this.transmit(one, binary);
    one[0] = EMPTY;
    if (this.listenerCount('sent') > 0) {
      this.emit('sent', typeof data === 'string' ? Buffer.from(data) : data, binary, view);
    }
  }

  /** Send several messages in one go: one buffer of frames, one socket write where possible. */
  sendMany(messages: ReadonlyArray<Buffer | string>, binary: boolean): void {
    if (!this.isOpen || messages.length === 0) return;
    this.transmit(messages, binary);
    if (this.listenerCount('sent') > 0) {
      for (const m of messages)
        this.emit('sent', typeof m === 'string' ? Buffer.from(m) : m, binary);
    }
  }

  sendBatch(batch: MessageBatch, binary: boolean): void {
    const encoder = this.encoder;
    if (
      encoder === undefined ||
      this.viaWs > 0 ||
      !this.isOpen ||
      this.listenerCount('sent') > 0 ||
      (this.deflate && !allBelow(batch, COMPRESS_THRESHOLD))
    ) {
      this.sendMany(batch.toBuffers(), binary);
      return;
    }
    this.stats.messagesOut += batch.count;
    this.cork();
    this.flushQueued();
    let bytes = 0;
    if (batch.head.length > 0) bytes += encoder.encode(batch.head, binary, this.writePiece);
    bytes += encoder.encodeRanges(batch.chunk, batch.starts, batch.ends, binary, this.writePiece);
    this.stats.bytesOut += bytes;
    noteTraffic(bytes);
  }

  private transmit(messages: ReadonlyArray<Buffer | string>, binary: boolean): void {
    this.stats.messagesOut += messages.length;
    const before = this.stats.bytesOut;
    // A single send queued for the turn is framed into a pooled batch buffer, which leaves no
    // garbage (a relayed message was counted when it arrived): only the rest counts as traffic.
    if (this.frame(messages, binary)) return;
    noteTraffic(this.stats.bytesOut - before);
  }

  /** Frames or hands on `messages`; true if they were queued for the end of the turn. */
  private frame(messages: ReadonlyArray<Buffer | string>, binary: boolean): boolean {
    const encoder = this.encoder;
    if (encoder === undefined || this.socket === undefined) {
      for (const m of messages) this.sendViaWs(m, binary);
      return false;
    }
    this.cork();
    if (messages.length === 1 && this.viaWs === 0) {
      const m = messages[0] as Buffer | string;
      const len = typeof m === 'string' ? Buffer.byteLength(m) : m.length;
      if (len < QUEUE_LIMIT && (!this.deflate || len < COMPRESS_THRESHOLD)) {
        this.queue(m, len, binary);
        return true;
      }
    }
    this.flushQueued();
    if (!this.deflate && this.viaWs === 0) {
      this.stats.bytesOut += encoder.encode(messages, binary, this.writePiece);
      return false;
    }
    // permessage-deflate: small messages skip zlib (framed here, uncompressed, which RFC 7692
    // allows per message); large ones are compressed by ws. Runs of small ones stay batched.
    let from = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as Buffer | string;
      const len = typeof m === 'string' ? Buffer.byteLength(m) : m.length;
      if (len < COMPRESS_THRESHOLD && this.viaWs === 0) continue;
      if (i > from)
        this.stats.bytesOut += encoder.encode(messages.slice(from, i), binary, this.writePiece);
      from = i + 1;
      this.sendViaWs(m, binary);
    }
    if (from < messages.length) {
      this.stats.bytesOut += encoder.encode(
        from === 0 ? messages : messages.slice(from),
        binary,
        this.writePiece,
      );
    }
    return false;
  }

  private queue(m: Buffer | string, len: number, binary: boolean): void {
    if (this.queuedCount > 0) {
      const own = this.own;
      const next = this.queuedStart + this.queuedCount;
      if (binary !== this.queuedBinary) {
        // A switch of type: what is queued is framed now, and a new batch begins.
        this.flushQueued();
      } else if (own !== undefined) {
        own.msgs.push(m);
        own.lens.push(len);
        this.queuedCount++;
      } else if (next === turnLength || turn[next] === m) {
        // The range goes on: the next entry is this message (another Peer queued it) or is
        // still to be added.
        if (next === turnLength) pushTurn(m, len);
        this.queuedCount++;
      } else {
        // Others' messages in between: the range is copied out (once a turn) and goes on in
        // arrays of its own, still one batch.
        this.own = {
          msgs: turn.slice(this.queuedStart, next),
          lens: turnLens.slice(this.queuedStart, next),
        };
        this.own.msgs.push(m);
        this.own.lens.push(len);
        this.queuedCount++;
        if (--turnHolders === 0) clearTurn();
      }
    }
    if (this.queuedCount === 0) {
      if (turnHolders === 0) clearTurn();
      turnHolders++;
      if (turnLength === 0 || turn[turnLength - 1] !== m) pushTurn(m, len);
      this.queuedStart = turnLength - 1;
      this.queuedCount = 1;
    }
    this.queuedBinary = binary;
    this.queuedBytes += headerSize(len, this.encoder?.masked === true) + len;
    this.stats.bytesOut += len;
    if (this.queuedBytes >= QUEUE_FLUSH_AT) this.flushQueued();
  }

  /** Frame the queued single sends into one buffer and hand it to the socket. */
  private flushQueued(): void {
    const n = this.queuedCount;
    if (n === 0 || this.encoder === undefined) return;
    const own = this.own;
    const buf = own
      ? this.encoder.encodeBatch(own.msgs, own.lens, 0, n, this.queuedBinary)
      : this.encoder.encodeBatch(turn, turnLens, this.queuedStart, n, this.queuedBinary);
    this.queuedCount = 0;
    this.queuedBytes = 0;
    if (own) this.own = undefined;
    else if (--turnHolders === 0) clearTurn();
    this.writePiece(buf, true);
  }

  /**
   * Pieces of the encoder's own memory whose write has not finished, in write order (undefined:
   * released already, see uncork).
   */
  private readonly owned: Array<Buffer | undefined> = [];

  /** Write callbacks run in write order: the first owned piece is written, its memory free. */
  private readonly onOwnedSent = (err?: Error | null): void => {
    const piece = this.owned.shift();
    if (piece !== undefined && !err) this.encoder?.release(piece);
    this.onSent();
  };

  private sendViaWs(m: Buffer | string, binary: boolean): void {
    this.flushQueued();
    const len = typeof m === 'string' ? Buffer.byteLength(m) : m.length;
    this.stats.bytesOut += len;
    this.unwritten++;
    this.viaWs++;
    this.ws.send(m, { binary, compress: this.deflate && len >= COMPRESS_THRESHOLD }, this.onWsSent);
  }

  private readonly writePiece = (piece: Buffer, owned: boolean): void => {
    this.unwritten++;
    const write = this.socketWrite as FrameSocket['write'];
    const socket = this.socket as FrameSocket;
    if (owned) {
      this.owned.push(piece);
      write.call(socket, piece, this.onOwnedSent);
    } else write.call(socket, piece, this.onSent);
  };

  /** Cork until the end of this turn: everything sent meanwhile leaves in one writev. */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    (this.socket as FrameSocket).cork();
    if (corkedCount === 0) process.nextTick(Peer.uncorkAll);
    corkedPeers[corkedCount++] = this;
  }

  /**
   * The end of the turn for every Peer corked in it, in the order they corked: one tick, where
   * a relay to 100 clients had 100 (each a tick object alive until it ran, and a scavenge in
   * the middle of a turn found them all). A Peer corked while this runs waits for the next tick.
   */
  private static readonly uncorkAll = (): void => {
    const peers = corkedPeers;
    const n = corkedCount;
    corkedPeers = spareCorked;
    corkedCount = 0;
    spareCorked = peers;
    // One Peer's failure must not leave the others corked (and their ranges held): all are
    // uncorked, then the first error goes on.
    let failure: { error: unknown } | undefined;
    for (let i = 0; i < n; i++) {
      try {
        (peers[i] as Peer).uncorkNow();
      } catch (error) {
        failure ??= { error };
      }
    }
    // Its slots are kept for a later turn (a new backing store per turn would be garbage).
    if (peers.length > QUEUE_KEEP) peers.length = 0;
    else peers.fill(undefined, 0, n);
    if (failure) throw failure.error;
  };

  private uncorkNow(): void {
    this.corked = false;
    this.flushQueued();
    const socket = this.socket;
    if (socket === undefined) return;
    socket.uncork();
    // The kernel took everything at once (nothing is left queued on the socket): the pieces are
    // free now, not only when their write callbacks run on the next tick, so the next client's
    // batch in this turn can reuse the same buffer. Their entries in `owned` stay, as holes,
    // for those callbacks.
    if (socket.writableLength === 0) {
      const owned = this.owned;
      for (let i = 0; i < owned.length; i++) {
        const piece = owned[i];
        if (piece === undefined) continue;
        owned[i] = undefined;
        this.encoder?.release(piece);
      }
    }
  }

  /** Writes handed to the socket or to ws whose callback has not run yet. */
  private unwritten = 0;
  private drainWaiters: Array<{ below: number; resolve: () => void }> = [];

  private readonly onSent = (): void => {
    this.unwritten--;
    if (this.drainWaiters.length > 0) this.wakeDrainWaiters();
  };

  private readonly onWsSent = (): void => {
    this.viaWs--;
    this.onSent();
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
    this.flushQueued();
    if (this.closed || this.unwritten === 0 || this.ws.bufferedAmount <= below) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.drainWaiters.push({ below, resolve }));
  }

  ping(data: Buffer = Buffer.alloc(0)): void {
    if (!this.isOpen) return;
    this.pendingPings.push({ key: data.toString('hex'), at: monotonicMs() });
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
    this.closing = true;
    this.armCloseTimer();
  }

  /**
   * CLOSE_WAIT_MS from now (re-armed by every chunk received), then give up on the other side.
   * Not while we are paused: then it is our reading that stalls, not the other side.
   */
  private armCloseTimer(): void {
    if (this.closed || this.paused) return;
    if (this.closeTimer) this.closeTimer.refresh();
    else this.closeTimer = setTimeout(() => this.ws.terminate(), CLOSE_WAIT_MS);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Begin delivering events (connections are handed over paused). */
  start(): void {
    this.resume();
  }

  pause(): void {
    this.paused = true;
    if (this.closeTimer) {
      clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    }
    this.ws.pause();
  }

  resume(): void {
    this.paused = false;
    this.ws.resume();
    if (this.closing) this.armCloseTimer();
  }

  private matchPong(data: Buffer): number | undefined {
    const key = data.toString('hex');
    const i = this.pendingPings.findIndex((p) => p.key === key);
    if (i === -1) return undefined;
    const at = this.pendingPings[i]?.at ?? 0;
    this.pendingPings.splice(0, i + 1);
    return monotonicMs() - at;
  }
}

/**
 * Every message of `batch` is shorter than `limit` bytes. With permessage-deflate such a batch
 * (a chunk of short lines, the common case) is framed uncompressed from the chunk itself, as
 * without compression; a batch with a longer one goes message by message (see frame).
 */
function allBelow(batch: MessageBatch, limit: number): boolean {
  for (const m of batch.head) if (m.length >= limit) return false;
  const { starts, ends } = batch;
  for (let i = 0; i < starts.length; i++)
    if ((ends[i] as number) - (starts[i] as number) >= limit) return false;
  return true;
}

/** Where a Peer is found on the ws and the socket it listens to (see the constructor). */
const PEER: unique symbol = Symbol('wsx.peer');
interface PeerOwned {
  [PEER]?: Peer;
}
function peerOf(emitter: object): Peer {
  return (emitter as PeerOwned)[PEER] as Peer;
}

/** Peers corked this turn, the first corkedCount (see Peer.uncorkAll), and the last turn's. */
let corkedPeers: Array<Peer | undefined> = [];
let corkedCount = 0;
let spareCorked: Array<Peer | undefined> = [];

function pushTurn(m: Buffer | string, len: number): void {
  turn[turnLength] = m;
  turnLens[turnLength] = len;
  turnLength++;
}

/** No Peer holds a range: the messages are let go; after a long turn the arrays start small. */
function clearTurn(): void {
  if (turn.length > QUEUE_KEEP) {
    turn.length = 0;
    turnLens.length = 0;
  } else turn.fill(undefined, 0, turnLength);
  turnLength = 0;
}

const EMPTY = Buffer.alloc(0);
/** send()'s one-message batch, reused so a send allocates no array. */
const one: Array<Buffer | string> = [EMPTY];

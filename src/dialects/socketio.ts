// The socketio dialect (SPEC §12, §17): Socket.IO over the websocket transport. Maps the URL to
// the Engine.IO endpoint and the namespace, joins the namespace with --init as auth, keeps the
// Engine.IO heartbeat (answered for EIO 4, sent for EIO 3), turns lines and /emit into events
// with optional acks and binary attachments, and shows events as `< chat "hi" {…}`.

import { readFileSync } from 'node:fs';
import { monotonicMs } from '../clock.js';
import { describeFileError, usageError, WsxError } from '../errors.js';
import type { ConnectOptions } from '../options.js';
import type { MessagePeer, MessageView } from '../peer.js';
import { parseHex } from '../session/commands.js';
import {
  argValue,
  Dialect,
  type DialectCommand,
  type DialectEnv,
  type DialectSpec,
  formatLatency,
  type PrepareEnv,
  splitArgs,
} from './dialect.js';
import {
  type EnginePacket,
  SIO,
  type SioPacket,
  type SocketIoCodec,
  socketIoCodec,
} from './socketio-codec.js';

/** Decided once before connecting (prepare), used by every connection of the run. */
export interface SocketIoState {
  eio: 3 | 4;
  namespace: string;
}

/** An Engine.IO ping or pong: not an application message, hidden by --hide-ping-pong. */
const HEARTBEAT: MessageView = { body: '', control: true, heartbeat: true };

/** JSON for display and raw lines: binary values as {"binary":"<base64>"}. */
function toJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const orig = this[key];
    if (Buffer.isBuffer(orig) || orig instanceof Uint8Array) {
      return { binary: Buffer.from(orig).toString('base64') };
    }
    return v;
  });
}

/** One argument for the pretty line: JSON, or a short hex preview for binary. */
function showArg(v: unknown): string {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
    const b = Buffer.from(v);
    const hex = b.subarray(0, 32).toString('hex');
    return `<binary ${b.length} B: ${hex}${b.length > 32 ? '…' : ''}>`;
  }
  return v === undefined ? 'undefined' : toJson(v);
}

/**
 * The raw line for an event, in a form input accepts: `["chat","hi"]`, or `/emit chat @hex:…`
 * when an argument is binary (so `wsx … | wsx …` round-trips attachments too).
 */
function rawLine(event: string, args: unknown[]): string {
  const top = args.some((a) => Buffer.isBuffer(a) || a instanceof Uint8Array);
  if (!top) return toJson([event, ...args]);
  const parts = args.map((a) =>
    Buffer.isBuffer(a) || a instanceof Uint8Array
      ? `@hex:${Buffer.from(a).toString('hex')}`
      : toJson(a),
  );
  return `/emit ${JSON.stringify(event)} ${parts.join(' ')}`;
}

/** The payload a connect_error carries: a string (Socket.IO 2) or {message, data} (3/4). */
function errorMessage(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data !== null && typeof data === 'object' && 'message' in data) {
    const m = (data as { message: unknown; data?: unknown }).message;
    const extra = (data as { data?: unknown }).data;
    return `${String(m)}${extra === undefined ? '' : ` ${toJson(extra)}`}`;
  }
  return toJson(data);
}

/** /emit and /ack arguments: JSON values, bare words, @file:PATH and @hex:BYTES attachments. */
function parseEmitArg(token: string): unknown {
  if (token.startsWith('@file:')) {
    const path = token.slice(6);
    try {
      return readFileSync(path);
    } catch (err) {
      throw usageError(`cannot read '${path}': ${describeFileError(err)}`);
    }
  }
  if (token.startsWith('@hex:')) return parseHex(token.slice(5));
  return argValue(token);
}

export class SocketIoDialect extends Dialect {
  readonly dialect = 'socketio' as const;
  private readonly codec: SocketIoCodec;
  private readonly nsp: string;
  /** Our emits waiting for their ack: id → event and when it was sent. */
  private readonly acks = new Map<number, { event: string; sentAt: number }>();
  private nextAck = 0;
  private opened = false;
  private pingInterval = 25_000;
  private pingTimeout = 20_000;
  private watchdog: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private pongDeadline: NodeJS.Timeout | undefined;

  constructor(inner: MessagePeer, env: DialectEnv<SocketIoState>) {
    super(inner, env, SOCKETIO_COMMANDS);
    this.codec = socketIoCodec(env.state.eio);
    this.nsp = env.state.namespace;
  }

  protected begin(): void {
    this.verbose(`Engine.IO ${this.codec.eio}, namespace ${this.nsp}; waiting for the open packet`);
  }

  protected override handshakeWhat(): string {
    return this.opened ? `joining namespace ${this.nsp}` : 'the Engine.IO open packet';
  }

  protected override pending(): number {
    return this.acks.size;
  }

  protected override stop(): void {
    clearTimeout(this.watchdog);
    clearInterval(this.pinger);
    clearTimeout(this.pongDeadline);
  }

  // ---- sending ----

  private sendEngine(packet: EnginePacket, view: MessageView, auto: boolean): void {
    const f = this.codec.encodeFrame(packet);
    if (auto) this.sendAuto(f.data, f.binary, view);
    else this.send(f.data, f.binary, view);
  }

  /** A Socket.IO packet: its text frame with `view`, then its binary attachments. */
  private sendPacket(packet: SioPacket, view: MessageView, auto = false): void {
    const parts = this.codec.encode(packet);
    parts.forEach((part, i) => {
      const v: MessageView =
        i === 0
          ? view
          : { label: `[attachment ${i}/${parts.length - 1}]`, body: showArg(part), control: true };
      this.sendEngine({ type: 'message', data: part }, v, auto);
    });
  }

  emitEvent(event: string, args: unknown[], wantAck: boolean): void {
    this.whenReady(() => {
      const packet: SioPacket = { type: SIO.EVENT, nsp: this.nsp, data: [event, ...args] };
      let label = event;
      if (wantAck) {
        packet.id = this.nextAck++;
        this.acks.set(packet.id, { event, sentAt: monotonicMs() });
        label = `${event} [ack ${packet.id}]`;
      }
      this.sendPacket(packet, {
        label,
        body: args.map(showArg).join(' '),
        text: rawLine(event, args),
        dialect: {
          type: 'event',
          nsp: this.nsp,
          event,
          args: JSON.parse(toJson(args)),
          ...(packet.id === undefined ? {} : { ackId: packet.id }),
        },
      });
    });
  }

  answerAck(id: number, args: unknown[]): void {
    this.whenReady(() => {
      this.sendPacket(
        { type: SIO.ACK, nsp: this.nsp, id, data: args },
        {
          label: `[ack ${id}]`,
          body: args.map(showArg).join(' '),
          dialect: { type: 'ack', nsp: this.nsp, id, args: JSON.parse(toJson(args)) },
        },
      );
    });
  }

  protected onLine(text: string): void {
    const t = text.trim();
    if (t.startsWith('[')) {
      let value: unknown;
      try {
        value = JSON.parse(t);
      } catch {
        value = undefined;
      }
      if (Array.isArray(value) && typeof value[0] === 'string') {
        this.emitEvent(value[0], value.slice(1), false);
        return;
      }
    }
    // SPEC §12: any other line is a `message` event with the text.
    this.emitEvent('message', [text], false);
  }

  protected override onBinaryInput(data: Buffer): void {
    this.emitEvent('message', [data], false);
  }

  // No namespace DISCONNECT (41) before the close, unlike socket.io-client: socket.io servers
  // dispatch an event a tick after reading it, so a 41 in the same read as the last events
  // disconnects the socket first and those events are dropped. The transport's close frame
  // arrives later, after they ran.

  // ---- receiving ----

  protected override onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    let packet: EnginePacket;
    try {
      packet = this.codec.decodeFrame(data, binary);
    } catch {
      packet = { type: 'error' };
    }
    if (!this.opened && packet.type !== 'open') {
      // Not an Engine.IO server (or not its websocket endpoint): say so now, not after 10 s.
      this.show(data, binary, { ...view, note: 'not an Engine.IO open packet' });
      this.fail(
        new WsxError(
          'protocol',
          `socketio: the server's first message is not an Engine.IO open packet: ${JSON.stringify(data.subarray(0, 40).toString('utf8'))}`,
          { code: 'NOT_SOCKETIO', hint: '--dialect none shows the plain frames' },
        ),
      );
      this.abandon();
      this.inner.close(1000, '');
      return;
    }
    switch (packet.type) {
      case 'open':
        this.onOpen(data, packet.data);
        return;
      case 'ping':
        this.onPing(data, packet.data);
        return;
      case 'pong':
        clearTimeout(this.pongDeadline);
        this.pongDeadline = undefined;
        this.show(data, binary, {
          label: '[pong]',
          body: '',
          control: true,
          heartbeat: true,
          dialect: { type: 'pong' },
        });
        return;
      case 'close':
        this.show(data, binary, {
          label: '[engine.io close]',
          body: '',
          control: true,
          dialect: { type: 'close' },
        });
        return;
      case 'noop':
      case 'upgrade':
        this.show(data, binary, { hidden: true, control: true, dialect: { type: packet.type } });
        return;
      case 'message':
        this.onPayload(data, binary, packet.data ?? '');
        return;
      default:
        this.show(data, binary, { ...view, note: 'not an Engine.IO packet' });
    }
  }

  private onOpen(data: Buffer, payload: string | Buffer | undefined): void {
    let info: Record<string, unknown> = {};
    try {
      info = JSON.parse(String(payload ?? '{}')) as Record<string, unknown>;
    } catch {
      // A broken open packet: the defaults still give a working heartbeat.
    }
    if (typeof info.pingInterval === 'number') this.pingInterval = info.pingInterval;
    if (typeof info.pingTimeout === 'number') this.pingTimeout = info.pingTimeout;
    this.opened = true;
    this.verbose(
      `open: sid ${String(info.sid)}, ping interval ${this.pingInterval} ms, timeout ${this.pingTimeout} ms`,
    );
    this.show(data, false, { hidden: true, control: true, dialect: { type: 'open', ...info } });
    if (this.codec.eio === 4) this.armWatchdog();
    else this.startPinging();
    // Socket.IO 2 joins "/" by itself; every other case asks (with --init as the auth payload).
    if (this.codec.eio === 4 || this.nsp !== '/') {
      const auth = this.codec.eio === 4 ? this.options.init : undefined;
      this.verbose(
        `joining namespace ${this.nsp}${auth === undefined ? '' : ' with --init as auth'}`,
      );
      const packet: SioPacket = { type: SIO.CONNECT, nsp: this.nsp };
      if (auth !== undefined) packet.data = auth;
      this.sendPacket(
        packet,
        {
          label: `[connect ${this.nsp}]`,
          // The auth payload may hold a secret: not shown.
          body: auth === undefined ? '' : '(auth from --init)',
          control: true,
        },
        true,
      );
    }
  }

  /** EIO 4: the server pings; answer with a pong and expect the next ping in time. */
  private onPing(data: Buffer, payload: string | Buffer | undefined): void {
    this.show(data, false, { ...HEARTBEAT, label: '[ping]', dialect: { type: 'ping' } });
    const pong: EnginePacket = { type: 'pong' };
    if (payload !== undefined) pong.data = payload;
    this.sendEngine(pong, { ...HEARTBEAT, label: '[pong]' }, true);
    this.armWatchdog();
  }

  private heartbeatStopped(what: string): void {
    this.fail(
      new WsxError('protocol', `socketio: the Engine.IO heartbeat stopped: ${what}`, {
        code: 'HEARTBEAT_TIMEOUT',
      }),
    );
    this.inner.terminate();
  }

  // While delivery is paused (stdout cannot keep up) pings wait unread in the socket: the
  // heartbeat deadlines stop, and start afresh once reading resumes.
  private paused = false;

  override pause(): void {
    this.paused = true;
    clearTimeout(this.watchdog);
    clearTimeout(this.pongDeadline);
    this.pongDeadline = undefined;
    super.pause();
  }

  override resume(): void {
    super.resume();
    if (!this.paused) return;
    this.paused = false;
    if (this.opened && this.codec.eio === 4 && !this.isClosed) this.armWatchdog();
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    if (this.paused) return;
    const ms = this.pingInterval + this.pingTimeout;
    this.watchdog = setTimeout(
      () => this.heartbeatStopped(`no ping from the server within ${ms / 1000} s`),
      ms,
    );
  }

  /** EIO 3: the client pings every pingInterval and expects a pong within pingTimeout. */
  private startPinging(): void {
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      if (!this.inner.isOpen) return;
      this.sendEngine({ type: 'ping' }, { ...HEARTBEAT, label: '[ping]' }, true);
      if (this.pongDeadline !== undefined || this.paused) return;
      this.pongDeadline = setTimeout(
        () => this.heartbeatStopped(`no pong within ${this.pingTimeout / 1000} s`),
        this.pingTimeout,
      );
    }, this.pingInterval);
  }

  private onPayload(data: Buffer, binary: boolean, payload: string | Buffer): void {
    let packet: SioPacket | undefined;
    try {
      packet = this.codec.decode(payload);
    } catch (err) {
      this.show(data, binary, { note: `not a Socket.IO packet: ${(err as Error).message}` });
      return;
    }
    if (!packet) {
      // The first part of a packet with binary attachments: shown once it is complete.
      this.show(data, binary, { hidden: true, control: true });
      return;
    }
    this.onPacket(data, binary, packet);
  }

  private onPacket(data: Buffer, binary: boolean, p: SioPacket): void {
    const ours = p.nsp === this.nsp;
    const where = ours ? '' : `${p.nsp} `;
    switch (p.type) {
      case SIO.CONNECT: {
        this.show(data, binary, {
          label: `[connected ${p.nsp}]`,
          body: p.data === undefined ? '' : toJson(p.data),
          control: true,
          dialect: { type: 'connect', nsp: p.nsp, data: p.data },
        });
        if (ours) {
          const sid = (p.data as { sid?: unknown } | undefined)?.sid;
          this.verbose(
            `joined namespace ${p.nsp}${sid === undefined ? '' : ` (sid ${String(sid)})`}`,
          );
          this.markReady();
        }
        return;
      }
      case SIO.CONNECT_ERROR: {
        const message = errorMessage(p.data);
        this.show(data, binary, {
          label: `[connect_error ${p.nsp}]`,
          body: message,
          control: true,
          dialect: { type: 'connect_error', nsp: p.nsp, data: p.data },
        });
        this.fail(
          new WsxError('application', `Socket.IO connect_error (namespace ${p.nsp}): ${message}`, {
            code: 'CONNECT_ERROR',
          }),
        );
        this.inner.close(1000, '');
        return;
      }
      case SIO.DISCONNECT: {
        this.show(data, binary, {
          label: `[disconnect ${p.nsp}]`,
          body: '',
          control: true,
          dialect: { type: 'disconnect', nsp: p.nsp },
        });
        if (ours) {
          this.fail(
            // SPEC §12: the server ended the session, exit 3 (like a server close).
            new WsxError('closed', `the server disconnected namespace ${p.nsp}`, {
              code: 'NAMESPACE_DISCONNECT',
            }),
          );
          this.inner.close(1000, '');
        }
        return;
      }
      case SIO.EVENT:
      case SIO.BINARY_EVENT: {
        const list = Array.isArray(p.data) ? (p.data as unknown[]) : [p.data];
        const event = String(list[0]);
        const args = list.slice(1);
        const ask = p.id === undefined ? '' : `[ack? ${p.id}] `;
        this.show(data, binary, {
          label: `${ask}${where}${event}`,
          body: args.map(showArg).join(' '),
          text: rawLine(event, args),
          dialect: {
            type: 'event',
            nsp: p.nsp,
            event,
            args: JSON.parse(toJson(args)),
            ...(p.id === undefined ? {} : { ackId: p.id }),
          },
        });
        return;
      }
      case SIO.ACK:
      case SIO.BINARY_ACK: {
        const args = Array.isArray(p.data) ? (p.data as unknown[]) : [p.data];
        const id = p.id ?? -1;
        const mine = ours ? this.acks.get(id) : undefined;
        if (mine) this.acks.delete(id);
        const ms = mine ? monotonicMs() - mine.sentAt : undefined;
        this.show(data, binary, {
          label: `[ack ${id}${ms === undefined ? '' : ` · ${formatLatency(ms)}`}]`,
          body: args.map(showArg).join(' '),
          text: toJson(args),
          // Acks are answers, not application messages (--count does not count them).
          control: true,
          dialect: {
            type: 'ack',
            nsp: p.nsp,
            id,
            event: mine?.event,
            args: JSON.parse(toJson(args)),
            ...(ms === undefined ? {} : { latencyMs: Math.round(ms * 10) / 10 }),
          },
        });
        if (mine) this.settled();
        return;
      }
      default:
        this.show(data, binary, { note: `unknown Socket.IO packet type ${p.type}` });
    }
  }
}

/** URL → the Engine.IO endpoint and the namespace (SPEC §12). */
async function prepare(
  connect: ConnectOptions,
  env: PrepareEnv<SocketIoState>,
): Promise<ConnectOptions> {
  const u = new URL(connect.url);
  const path = env.options.socketioPath;
  let eio: 3 | 4 = env.options.socketioVersion === 2 ? 3 : 4;
  let namespace = '/';
  if (u.pathname.includes(path) || u.pathname.includes('/socket.io/')) {
    // Already the Engine.IO endpoint (detected, or given in full): its EIO query decides.
    const q = u.searchParams.get('EIO');
    if (q === '3') eio = 3;
    else if (q === '4') eio = 4;
  } else {
    const p = decodeURIComponent(u.pathname);
    namespace = p === '' || p === '/' ? '/' : p.replace(/\/+$/, '');
    u.pathname = path;
  }
  u.searchParams.set('EIO', String(eio));
  u.searchParams.set('transport', 'websocket');
  const init = env.options.init;
  if (eio === 3 && init !== null && typeof init === 'object') {
    // Socket.IO 2 has no auth payload: its clients pass credentials as query parameters.
    for (const [k, v] of Object.entries(init as Record<string, unknown>)) {
      u.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  env.state.eio = eio;
  env.state.namespace = namespace;
  env.ctx.verbose?.(`socketio: endpoint ${u.pathname}${u.search}, namespace ${namespace}`);
  return { ...connect, url: u.toString() };
}

const SOCKETIO_COMMANDS: readonly DialectCommand[] = [
  {
    name: 'emit',
    usage: '/emit [--ack] <event> [arg…]',
    help: 'emit an event (args: JSON values, bare words as strings, @file:PATH or @hex:0a0b binary)',
    run: (d, args) => {
      const tokens = splitArgs(args);
      let ack = false;
      if (tokens[0] === '--ack') {
        ack = true;
        tokens.shift();
      }
      const name = tokens.shift();
      if (name === undefined) throw usageError('/emit needs an event name');
      const event = argValue(name);
      if (typeof event !== 'string') throw usageError('the event name must be a string');
      (d as SocketIoDialect).emitEvent(event, tokens.map(parseEmitArg), ack);
    },
  },
  {
    name: 'ack',
    usage: '/ack <id> [arg…]',
    help: "answer the server's ack request <id> (shown as [ack? id])",
    run: (d, args) => {
      const tokens = splitArgs(args);
      const idText = tokens.shift();
      if (idText === undefined || !/^\d+$/.test(idText)) {
        throw usageError('/ack needs the id of the ack request, e.g. /ack 0 "ok"');
      }
      (d as SocketIoDialect).answerAck(Number(idText), tokens.map(parseEmitArg));
    },
  },
];

export const socketio: DialectSpec<SocketIoState> = {
  name: 'socketio',
  subprotocols: [],
  commands: SOCKETIO_COMMANDS,
  initialState: () => ({ eio: 4, namespace: '/' }),
  prepare,
  create: (inner, env) => new SocketIoDialect(inner, env),
};

// The stomp dialect (SPEC §12, §17): STOMP 1.0–1.2 over WebSocket. CONNECT with login, passcode
// and host (RabbitMQ's vhost), negotiated heart-beats sent and checked, --sub/--pub and the REPL's
// /sub /unsub /send /ack /nack, MESSAGE frames shown by destination and subscription, ERROR → exit
// 5, and a DISCONNECT with a receipt on the way out.

import { isUtf8 } from 'node:buffer';
import { toWsxError, usageError, WsxError } from '../errors.js';
import type { ConnectOptions } from '../options.js';
import type { CloseInfo, MessagePeer, MessageView } from '../peer.js';
import { sanitizeLine } from '../render/sanitize.js';
import { completeLogin } from './broker-options.js';
import { Dialect, type DialectCommand, type DialectEnv, type DialectSpec } from './dialect.js';
import {
  type Decoded,
  encodeFrame,
  header,
  headerObject,
  StompDecoder,
  type StompFrame,
  StompFrameError,
  type StompVersion,
} from './stomp-frame.js';

export const STOMP_SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'] as const;
/** What CONNECT offers (SPEC §17): send every 10 s, want one every 10 s. */
export const STOMP_HEARTBEAT_MS = 10_000;
/** A silent broker: nothing received for this many negotiated intervals. */
const HEARTBEAT_TOLERANCE = 2;
/** The close waits this long for the DISCONNECT's RECEIPT (SPEC §17). */
export const DISCONNECT_WAIT_MS = 5000;

const ACK_MODES = ['auto', 'client', 'client-individual'] as const;
type AckMode = (typeof ACK_MODES)[number];

interface Subscription {
  id: string;
  destination: string;
  ack: AckMode;
}

/** Kept across reconnects: the subscriptions to restore. */
export interface StompState {
  subs: Map<string, Subscription>;
  nextSub: number;
  /** --sub destinations were added (once per run). */
  seeded: boolean;
  /** The login found by prepare (the --auth the core parsed, password asked for if need be). */
  login: { user: string; pass: string | undefined } | undefined;
}

/** An acknowledgeable MESSAGE, by the short number shown in the pretty line. */
interface Ackable {
  subscription: string;
  ack: string | undefined;
  messageId: string | undefined;
}

const versionOf = (protocol: string): StompVersion | undefined =>
  protocol === 'v12.stomp'
    ? '1.2'
    : protocol === 'v11.stomp'
      ? '1.1'
      : protocol === 'v10.stomp'
        ? '1.0'
        : undefined;

/** The URL's host name without the port (and without IPv6 brackets). */
export function defaultHost(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return 'localhost';
  }
}

/** heart-beat header "cx,cy" → [cx, cy] (missing or bad = 0,0). */
export function parseHeartbeat(value: string | undefined): [number, number] {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/**
 * The negotiated intervals (STOMP 1.1 "Heart-beating"): we send every max(cx, sy) ms and expect
 * something every max(sx, cy) ms; 0 on either side = none.
 */
export function negotiateHeartbeat(
  ours: [number, number],
  theirs: [number, number],
): { sendMs: number; expectMs: number } {
  const [cx, cy] = ours;
  const [sx, sy] = theirs;
  return {
    sendMs: cx === 0 || sy === 0 ? 0 : Math.max(cx, sy),
    expectMs: sx === 0 || cy === 0 ? 0 : Math.max(sx, cy),
  };
}

/** --init for stomp: a JSON object of extra CONNECT headers (string, number or boolean values). */
export function initHeaders(init: unknown): Array<[string, string]> {
  if (init === undefined) return [];
  if (init === null || typeof init !== 'object' || Array.isArray(init)) {
    throw usageError(
      '--init for --dialect stomp takes a JSON object of CONNECT headers',
      `e.g. --init '{"client-id":"dash-1"}'`,
    );
  }
  return Object.entries(init).map(([k, v]) => {
    if (!['string', 'number', 'boolean'].includes(typeof v)) {
      throw usageError(
        `--init: the CONNECT header ${k} must be a string, not ${JSON.stringify(v)}`,
      );
    }
    const value = String(v);
    if (/[\r\n:]/.test(k) || k === '' || /[\r\n]/.test(value)) {
      throw usageError(`--init: invalid CONNECT header ${JSON.stringify(k)}`);
    }
    return [k, value];
  });
}

/** `/sub <dest> [ack-mode]` */
export function parseSubArgs(args: string): { destination: string; ack: AckMode } {
  const parts = args.split(/\s+/).filter((p) => p !== '');
  const [destination, mode, extra] = parts;
  if (destination === undefined) {
    throw usageError('/sub needs a destination, e.g. /sub /topic/news [client|client-individual]');
  }
  if (extra !== undefined)
    throw usageError(`/sub takes a destination and an ack mode, not '${args}'`);
  if (mode !== undefined && !(ACK_MODES as readonly string[]).includes(mode)) {
    throw usageError(`unknown ack mode '${mode}'`, 'use auto, client or client-individual');
  }
  return { destination, ack: (mode as AckMode | undefined) ?? 'auto' };
}

/** `/send <dest> <body>`: the body is the rest of the line, spaces kept. */
export function parseSendArgs(args: string): { destination: string; body: string } {
  const m = /^(\S+)(?:\s([\s\S]*))?$/.exec(args);
  if (!m?.[1]) throw usageError('/send needs a destination and a body, e.g. /send /queue/a hello');
  return { destination: m[1], body: m[2] ?? '' };
}

/** SEND headers for a body: JSON gets its content type (Spring's converters look for it). */
function contentType(body: Buffer): string {
  if (!isUtf8(body)) return 'application/octet-stream';
  const t = body.toString('utf8').trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      JSON.parse(t);
      return 'application/json';
    } catch {}
  }
  return 'text/plain';
}

export class StompDialect extends Dialect {
  readonly dialect = 'stomp' as const;
  /** The version CONNECTED named (until then: the subprotocol's, else 1.2's escapes). */
  version: StompVersion;
  private readonly decoder: StompDecoder;
  private readonly state: StompState;
  private sendTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private lastReceived = 0;
  private receipts = new Map<string, () => void>();
  private nextReceipt = 1;
  private ackables = new Map<number, Ackable>();
  private nextAck = 1;
  private disconnecting = false;
  private disconnectTimer: NodeJS.Timeout | undefined;
  /** The broker sent ERROR: its close is expected (exit 5, not 1). */
  private refused = false;

  constructor(inner: MessagePeer, env: DialectEnv<StompState>) {
    super(inner, env, STOMP_COMMANDS);
    this.state = env.state;
    this.version = versionOf(inner.info.protocol) ?? '1.2';
    this.decoder = new StompDecoder(() => this.version);
    const broker = this.options.broker;
    if (!this.state.seeded) {
      this.state.seeded = true;
      for (const destination of broker.sub) this.addSub(destination, 'auto');
    }
  }

  protected override handshakeWhat(): string {
    return 'CONNECTED frame';
  }

  // ---- handshake ----

  protected begin(): void {
    let extra: Array<[string, string]>;
    try {
      extra = initHeaders(this.options.init);
    } catch (err) {
      // Only when detected (-s): with --dialect stomp, prepare() refused it before connecting.
      this.fail(toWsxError(err, 'usage'));
      this.abandon();
      this.inner.close(1000, '');
      return;
    }
    const broker = this.options.broker;
    const login = completeLogin(this.state.login ?? broker.login, this.info);
    const host = broker.vhost ?? defaultHost(this.info.url);
    const headers: Array<[string, string]> = [
      ['accept-version', '1.0,1.1,1.2'],
      ['host', host],
    ];
    if (login) {
      headers.push(['login', login.user]);
      if (login.pass !== undefined) headers.push(['passcode', login.pass]);
    }
    headers.push(['heart-beat', `${STOMP_HEARTBEAT_MS},${STOMP_HEARTBEAT_MS}`]);
    // --init: more CONNECT headers (or other values for these), e.g. {"client-id":"dash"}.
    for (const [k, v] of extra) {
      const i = headers.findIndex(([name]) => name === k);
      if (i === -1) headers.push([k, v]);
      else headers[i] = [k, v];
    }
    this.verbose(
      `> CONNECT ${headers.map(([k, v]) => `${k}:${k === 'passcode' ? '****' : v}`).join(' ')}`,
    );
    // Hidden, and shown (json, --record) with the passcode masked; -v shows it masked too.
    const frame = encodeFrame({ command: 'CONNECT', headers }, this.version);
    const masked = headers.map(([k, v]): [string, string] => [k, k === 'passcode' ? '****' : v]);
    this.secret = {
      raw: frame,
      shown: encodeFrame({ command: 'CONNECT', headers: masked }, this.version),
    };
    this.sendAuto(frame, false, {
      control: true,
      hidden: true,
      label: 'CONNECT',
    });
  }

  private onConnected(frame: StompFrame): void {
    const v = header(frame, 'version');
    this.version = v === '1.1' || v === '1.2' ? v : '1.0';
    this.verbose(
      `< CONNECTED ${frame.headers.map(([k, val]) => `${k}:${sanitizeLine(val)}`).join(' ')}`,
    );
    const { sendMs, expectMs } = negotiateHeartbeat(
      [STOMP_HEARTBEAT_MS, STOMP_HEARTBEAT_MS],
      this.version === '1.0' ? [0, 0] : parseHeartbeat(header(frame, 'heart-beat')),
    );
    if (sendMs > 0) {
      this.sendTimer = setInterval(() => {
        this.sendAuto('\n', false, {
          control: true,
          heartbeat: true,
          label: 'heart-beat',
          body: '',
        });
      }, sendMs);
      this.sendTimer.unref?.();
    }
    if (expectMs > 0) {
      const limit = expectMs * HEARTBEAT_TOLERANCE;
      this.checkTimer = setInterval(() => {
        if (this.ctx.now() - this.lastReceived <= limit) return;
        this.stop();
        this.fail(
          new WsxError(
            'protocol',
            `stomp: the broker sent no heart-beat for ${limit / 1000} s (negotiated every ${expectMs / 1000} s)`,
            { code: 'STOMP_HEARTBEAT_TIMEOUT' },
          ),
        );
        this.inner.terminate();
      }, expectMs);
      this.checkTimer.unref?.();
    }
    // Subscriptions first (restored after a reconnect), then the held input.
    for (const sub of this.state.subs.values()) this.subscribe(sub);
    this.markReady();
  }

  // ---- received ----

  protected override onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    this.lastReceived = this.ctx.now();
    let decoded: Decoded[];
    try {
      decoded = this.decoder.push(data);
    } catch (err) {
      if (!(err instanceof StompFrameError)) throw err;
      // Not STOMP: show the frame as it came, say why once.
      this.show(data, binary, { ...view, note: `not a STOMP frame: ${err.message}` });
      return;
    }
    let frames = 0;
    for (const d of decoded) {
      if (d !== 'heartbeat') {
        frames++;
        this.onFrame(d.frame);
      }
    }
    // RabbitMQ ends every frame with NUL and an EOL: only a message of EOLs alone is a heart-beat.
    if (frames === 0 && decoded.length > 0) {
      this.show(Buffer.from('\n'), false, {
        control: true,
        heartbeat: true,
        label: 'heart-beat',
        body: '',
        dialect: { command: 'heart-beat' },
      });
    }
  }

  private onFrame(frame: StompFrame): void {
    switch (frame.command) {
      case 'CONNECTED':
        this.show(frame.body, false, {
          control: true,
          hidden: true,
          label: 'CONNECTED',
          dialect: { command: 'CONNECTED', headers: headerObject(frame) },
        });
        this.onConnected(frame);
        return;
      case 'MESSAGE':
        this.onMessageFrame(frame);
        return;
      case 'RECEIPT': {
        const id = header(frame, 'receipt-id') ?? '';
        const done = this.receipts.get(id);
        this.receipts.delete(id);
        done?.();
        this.settled();
        return;
      }
      case 'ERROR':
        this.onError(frame);
        return;
      default:
        this.show(frame.body, !isUtf8(frame.body), {
          control: true,
          label: frame.command,
          body: frame.body.toString('utf8'),
          dialect: { command: frame.command, headers: headerObject(frame) },
        });
    }
  }

  private onMessageFrame(frame: StompFrame): void {
    const destination = header(frame, 'destination') ?? '?';
    const subscription = header(frame, 'subscription') ?? '?';
    const sub = this.state.subs.get(subscription);
    let ack: number | undefined;
    if (sub && sub.ack !== 'auto') {
      ack = this.nextAck++;
      this.ackables.set(ack, {
        subscription,
        ack: header(frame, 'ack'),
        messageId: header(frame, 'message-id'),
      });
    }
    const text = isUtf8(frame.body) ? frame.body.toString('utf8') : undefined;
    const where = ack === undefined ? `sub ${subscription}` : `sub ${subscription}, ack ${ack}`;
    this.show(frame.body, text === undefined, {
      label: `MESSAGE ${destination} (${where})`,
      ...(text !== undefined ? { text, body: text } : { body: frame.body.toString('hex') }),
      dialect: {
        command: 'MESSAGE',
        destination,
        subscription,
        headers: headerObject(frame),
        ...(ack !== undefined ? { ack } : {}),
      },
    });
  }

  private onError(frame: StompFrame): void {
    const message = header(frame, 'message');
    const body = frame.body.toString('utf8').replace(/\0+$/, '').trim();
    const summary = message ?? body.split('\n')[0] ?? 'ERROR';
    const details = message !== undefined && body !== '' ? body.split('\n') : [];
    const all = `${summary}\n${body}`;
    let hint: string | undefined;
    if (/virtual host|vhost/i.test(all) && /denied|refused|not found|does not exist/i.test(all)) {
      hint = `RabbitMQ reads the STOMP host header as the vhost (here '${sanitizeLine(this.options.broker.vhost ?? defaultHost(this.info.url))}'): try --vhost /`;
    } else if (/access refused|login|passcode|credentials|authenticat/i.test(all)) {
      hint = 'the broker login is --auth user:pass';
    }
    this.show(frame.body, false, {
      control: true,
      hidden: true,
      label: 'ERROR',
      dialect: { command: 'ERROR', headers: headerObject(frame), body },
    });
    this.refused = true;
    this.fail(
      new WsxError('application', `stomp: ${sanitizeLine(summary)}`, {
        code: 'STOMP_ERROR',
        details: details.map((l) => sanitizeLine(l)),
        hint,
      }),
    );
    // The session is over (STOMP 1.2: the server closes after ERROR, but RabbitMQ's web-stomp
    // keeps the socket open): nothing held will be sent, no RECEIPT will come.
    this.stop();
    this.abandon();
    this.inner.close(1000, '');
  }

  protected override onClose(info: CloseInfo): void {
    if (this.disconnectTimer !== undefined) clearTimeout(this.disconnectTimer);
    super.onClose(info);
  }

  /** True once the broker refused us with an ERROR frame (its close then is expected). */
  get wasRefused(): boolean {
    return this.refused;
  }

  // ---- sent ----

  protected onLine(text: string): void {
    const pub = this.options.broker.pub;
    if (pub === undefined) {
      throw usageError(
        'stomp: a line needs a destination to go to',
        'give --pub <destination>, or type /send <destination> <body>',
      );
    }
    this.sendBody(pub, Buffer.from(text, 'utf8'));
  }

  protected override onBinaryInput(data: Buffer): void {
    const pub = this.options.broker.pub;
    if (pub === undefined) throw usageError('stomp: binary input needs --pub <destination>');
    this.sendBody(pub, data);
  }

  /** SEND one body to a destination (once CONNECTED). */
  sendBody(destination: string, body: Buffer): void {
    this.whenReady(() => this.sendNow(destination, body));
  }

  private sendNow(destination: string, body: Buffer): void {
    const headers: Array<[string, string]> = [
      ['destination', destination],
      ['content-type', contentType(body)],
    ];
    const text = isUtf8(body);
    this.send(encodeFrame({ command: 'SEND', headers, body }, this.version), !text, {
      label: `SEND ${destination}`,
      ...(text
        ? { text: body.toString('utf8'), body: body.toString('utf8') }
        : { body: body.toString('hex') }),
      dialect: { command: 'SEND', destination, headers: Object.fromEntries(headers) },
    });
  }

  /** /sub: a new subscription, remembered for reconnects. */
  addSub(destination: string, ack: AckMode): Subscription {
    const sub: Subscription = { id: String(this.state.nextSub++), destination, ack };
    this.state.subs.set(sub.id, sub);
    if (this.ready) this.subscribe(sub);
    return sub;
  }

  private subscribe(sub: Subscription): void {
    const receipt = `sub-${sub.id}-${this.nextReceipt++}`;
    const headers: Array<[string, string]> = [
      ['id', sub.id],
      ['destination', sub.destination],
      ['ack', sub.ack],
      ['receipt', receipt],
    ];
    this.receipts.set(receipt, () =>
      this.show(Buffer.alloc(0), false, {
        control: true,
        label: 'RECEIPT',
        body: `subscribed to ${sub.destination} (sub ${sub.id}${sub.ack === 'auto' ? '' : `, ack ${sub.ack}`})`,
        dialect: { command: 'RECEIPT', 'receipt-id': receipt, for: 'SUBSCRIBE', id: sub.id },
      }),
    );
    this.send(encodeFrame({ command: 'SUBSCRIBE', headers }, this.version), false, {
      control: true,
      label: `SUBSCRIBE ${sub.destination}`,
      body: `(sub ${sub.id})`,
      dialect: { command: 'SUBSCRIBE', headers: Object.fromEntries(headers) },
    });
  }

  /** /unsub <id> */
  removeSub(id: string): void {
    const sub = this.state.subs.get(id);
    if (!sub) {
      const known = [...this.state.subs.keys()].join(', ') || 'none';
      throw usageError(`no subscription '${id}' (active: ${known})`);
    }
    this.state.subs.delete(id);
    const headers: Array<[string, string]> = [['id', id]];
    this.whenReady(() =>
      this.send(encodeFrame({ command: 'UNSUBSCRIBE', headers }, this.version), false, {
        control: true,
        label: `UNSUBSCRIBE ${sub.destination}`,
        body: `(sub ${id})`,
        dialect: { command: 'UNSUBSCRIBE', headers: { id } },
      }),
    );
  }

  /** /ack <n>, /nack <n>: n is the number the pretty line showed (or the broker's own ack id). */
  acknowledge(command: 'ACK' | 'NACK', arg: string): void {
    const id = arg.trim();
    if (id === '')
      throw usageError(`/${command.toLowerCase()} needs the ack id shown with the message`);
    if (command === 'NACK' && this.version === '1.0') {
      throw usageError('STOMP 1.0 has no NACK');
    }
    const n = /^\d+$/.test(id) ? Number(id) : undefined;
    const known = n === undefined ? undefined : this.ackables.get(n);
    let headers: Array<[string, string]>;
    if (known) {
      if (this.version === '1.2') headers = [['id', known.ack ?? known.messageId ?? id]];
      else if (this.version === '1.1') {
        headers = [
          ['subscription', known.subscription],
          ['message-id', known.messageId ?? id],
        ];
      } else headers = [['message-id', known.messageId ?? id]];
      this.forget(n as number, known, command);
    } else if (this.version === '1.2') headers = [['id', id]];
    else {
      throw usageError(
        `no message with ack id ${id}`,
        'use the number shown as "ack n" on the MESSAGE line',
      );
    }
    const frame = encodeFrame({ command, headers }, this.version);
    this.whenReady(() =>
      this.send(frame, false, {
        control: true,
        label: `${command} ${id}`,
        body: '',
        dialect: { command, headers: Object.fromEntries(headers) },
      }),
    );
  }

  /** Acked (client mode acks every earlier message of that subscription too). */
  private forget(n: number, a: Ackable, command: 'ACK' | 'NACK'): void {
    this.ackables.delete(n);
    const sub = this.state.subs.get(a.subscription);
    if (sub?.ack !== 'client' || command !== 'ACK') return;
    for (const [k, v] of this.ackables) {
      if (k < n && v.subscription === a.subscription) this.ackables.delete(k);
    }
  }

  // ---- closing ----

  /** DISCONNECT with a receipt; close once it comes, the broker closes, or after 5 s. */
  override close(code?: number, reason?: string): void {
    if (!this.ready || this.disconnecting || !this.isOpen || this.refused) {
      this.inner.close(code, reason);
      return;
    }
    this.disconnecting = true;
    this.stop();
    const receipt = `disconnect-${this.nextReceipt++}`;
    const finish = () => {
      if (this.disconnectTimer !== undefined) clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
      this.inner.close(code, reason);
    };
    this.receipts.set(receipt, finish);
    this.disconnectTimer = setTimeout(finish, DISCONNECT_WAIT_MS);
    this.disconnectTimer.unref?.();
    this.sendAuto(
      encodeFrame({ command: 'DISCONNECT', headers: [['receipt', receipt]] }, this.version),
      false,
      { control: true, label: 'DISCONNECT', body: '', dialect: { command: 'DISCONNECT', receipt } },
    );
  }

  protected override stop(): void {
    if (this.sendTimer !== undefined) clearInterval(this.sendTimer);
    if (this.checkTimer !== undefined) clearInterval(this.checkTimer);
    this.sendTimer = undefined;
    this.checkTimer = undefined;
  }

  /** The active subscriptions (for /subs-like listings and tests). */
  subscriptions(): Subscription[] {
    return [...this.state.subs.values()];
  }
}

const on = (d: Dialect): StompDialect => d as StompDialect;

export const STOMP_COMMANDS: readonly DialectCommand[] = [
  {
    name: 'sub',
    usage: '/sub <destination> [auto|client|client-individual]',
    help: 'subscribe (client modes: /ack or /nack each message by its ack number)',
    run: (d, args) => {
      const { destination, ack } = parseSubArgs(args);
      on(d).addSub(destination, ack);
    },
  },
  {
    name: 'unsub',
    usage: '/unsub <id>',
    help: 'unsubscribe (the id is the "sub n" of the MESSAGE lines)',
    run: (d, args) => on(d).removeSub(args.trim()),
  },
  {
    name: 'send',
    usage: '/send <destination> <body>',
    help: 'SEND the rest of the line as the body to a destination',
    run: (d, args) => {
      const { destination, body } = parseSendArgs(args);
      on(d).sendBody(destination, Buffer.from(body, 'utf8'));
    },
  },
  {
    name: 'ack',
    usage: '/ack <id>',
    help: 'acknowledge a message (the "ack n" of its MESSAGE line)',
    run: (d, args) => on(d).acknowledge('ACK', args),
  },
  {
    name: 'nack',
    usage: '/nack <id>',
    help: 'refuse a message (STOMP 1.1+): the broker redelivers or dead-letters it',
    run: (d, args) => on(d).acknowledge('NACK', args),
  },
];

export const stomp: DialectSpec<StompState> = {
  name: 'stomp',
  subprotocols: STOMP_SUBPROTOCOLS,
  commands: STOMP_COMMANDS,
  initialState: () => ({ subs: new Map(), nextSub: 1, seeded: false, login: undefined }),
  async prepare(connect: ConnectOptions, env): Promise<ConnectOptions> {
    initHeaders(env.options.init); // a bad --init is a usage error before connecting
    // The core has parsed --auth (and asked for a missing password): it is the STOMP login.
    if (connect.auth) env.state.login = connect.auth;
    return connect;
  },
  create: (inner, env) => new StompDialect(inner, env),
};

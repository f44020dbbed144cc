// The mqtt dialect (SPEC §12, §17): MQTT 3.1.1 and 5 over WebSocket, one packet per binary
// message (packets split across messages are reassembled by mqtt-packet's parser). CONNECT with
// client id, login and keep-alive (PINGREQ sent, a missing PINGRESP ends the run), --sub/--pub and
// the REPL's /sub /unsub /pub, QoS 1 and 2 completed both ways, refused CONNACK/SUBACK → exit 5.

import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import {
  parser as createParser,
  generate,
  type IConnectPacket,
  type IPublishPacket,
  type ISubackPacket,
  type Packet,
  type Parser,
} from 'mqtt-packet';
import { usageError, WsxError } from '../errors.js';
import type { ConnectOptions } from '../options.js';
import type { CloseInfo, MessagePeer, MessageView } from '../peer.js';
import { sanitizeLine } from '../render/sanitize.js';
import type { Qos } from './broker-options.js';
import { completeLogin } from './broker-options.js';
import { Dialect, type DialectCommand, type DialectEnv, type DialectSpec } from './dialect.js';
import {
  checkTopicFilter,
  checkTopicName,
  connackReason,
  parseMqttSubArgs,
  parsePubArgs,
  reasonName,
  subackReason,
} from './mqtt-codes.js';

/** At most this many QoS 1/2 publishes in flight: a window well inside the 16-bit packet ids. */
const MAX_INFLIGHT = 1000;

/** Kept across reconnects: the client id and the subscriptions to restore. */
export interface MqttState {
  clientId: string | undefined;
  subs: Map<string, Qos>;
  seeded: boolean;
  login: { user: string; pass: string | undefined } | undefined;
}

type Outgoing =
  | { kind: 'publish'; topic: string; qos: 1 | 2; stage: 'puback' | 'pubrec' | 'pubcomp' }
  | { kind: 'subscribe'; topics: Array<{ topic: string; qos: Qos }> }
  | { kind: 'unsubscribe'; topics: string[] };

type InitFields = Partial<Pick<IConnectPacket, 'clean' | 'will' | 'properties'>>;

/**
 * --init for mqtt: CONNECT fields beyond the flags, as mqtt-packet names them: clean (false keeps
 * the session), will {topic, payload, qos, retain}, properties (MQTT 5).
 */
export function initFields(init: unknown): InitFields {
  if (init === undefined) return {};
  if (init === null || typeof init !== 'object' || Array.isArray(init)) {
    throw usageError(
      '--init for --dialect mqtt takes a JSON object of CONNECT fields',
      `e.g. --init '{"will":{"topic":"status","payload":"gone"}}'`,
    );
  }
  const o = init as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['clean', 'will', 'properties'].includes(k));
  if (unknown.length > 0) {
    throw usageError(
      `--init: unknown CONNECT field ${unknown.join(', ')}`,
      'use clean, will or properties',
    );
  }
  if (o.clean !== undefined && typeof o.clean !== 'boolean')
    throw usageError('--init: clean must be true or false');
  if (o.will !== undefined) {
    const w = o.will as Record<string, unknown>;
    if (
      w === null ||
      typeof w !== 'object' ||
      typeof w.topic !== 'string' ||
      typeof (w.payload ?? '') !== 'string'
    ) {
      throw usageError(
        '--init: will needs a topic and a payload string, e.g. {"topic":"status","payload":"gone"}',
      );
    }
    checkTopicName(w.topic, '--init will');
    if (w.qos !== undefined && w.qos !== 0 && w.qos !== 1 && w.qos !== 2)
      throw usageError('--init: will.qos must be 0, 1 or 2');
  }
  if (o.properties !== undefined && (o.properties === null || typeof o.properties !== 'object')) {
    throw usageError('--init: properties must be an object');
  }
  const will = o.will as
    | { topic: string; payload?: string; qos?: Qos; retain?: boolean }
    | undefined;
  return {
    ...(o.clean !== undefined ? { clean: o.clean as boolean } : {}),
    ...(will
      ? {
          will: {
            topic: will.topic,
            payload: Buffer.from(will.payload ?? ''),
            qos: will.qos ?? 0,
            retain: will.retain === true,
          },
        }
      : {}),
    ...(o.properties !== undefined
      ? { properties: o.properties as IConnectPacket['properties'] }
      : {}),
  };
}

/** wsx- and 8 random characters: unique enough that two runs do not take over each other. */
export function randomClientId(): string {
  return `wsx-${randomBytes(6).toString('base64url').slice(0, 8)}`;
}

/** How a payload is shown: its text when it is printable UTF-8, else hex. */
function payloadView(payload: Buffer): { text?: string; body: string; binary: boolean } {
  if (isUtf8(payload)) {
    const text = payload.toString('utf8');
    if (!/[\u0000-\u0008\u000e-\u001f]/.test(text)) return { text, body: text, binary: false };
  }
  return { body: payload.toString('hex'), binary: true };
}

export class MqttDialect extends Dialect {
  readonly dialect = 'mqtt' as const;
  readonly version: 4 | 5;
  private readonly parser: Parser;
  private readonly state: MqttState;
  private readonly outgoing = new Map<number, Outgoing>();
  /** QoS 2 PUBLISHes received, waiting for their PUBREL (a resent PUBLISH is not shown twice). */
  private readonly inbound = new Set<number>();
  private nextId = 1;
  private keepTimer: NodeJS.Timeout | undefined;
  private pingDeadline: NodeJS.Timeout | undefined;
  private refused = false;
  /** QoS 1/2 publishes sent and not yet completed, and the broker's limit for them. */
  private inflight = 0;
  private receiveMaximum = Number.POSITIVE_INFINITY;
  private readonly queued: Array<{ topic: string; payload: Buffer; qos: Qos; retain: boolean }> =
    [];
  private disconnected = false;

  constructor(inner: MessagePeer, env: DialectEnv<MqttState>) {
    super(inner, env, MQTT_COMMANDS);
    this.state = env.state;
    const broker = this.options.broker;
    this.version = broker.mqttVersion;
    this.parser = createParser({ protocolVersion: this.version });
    this.parser.on('packet', (p: Packet) => this.onPacket(p));
    this.parser.on('error', (err: Error) => {
      this.fail(
        new WsxError('protocol', `mqtt: the broker sent a malformed packet: ${err.message}`, {
          code: 'MQTT_MALFORMED',
        }),
      );
      this.inner.close(1002, '');
    });
    if (!this.state.seeded) {
      this.state.seeded = true;
      for (const t of broker.sub) this.state.subs.set(checkTopicFilter(t, '--sub'), broker.qos);
    }
    this.state.clientId ??= broker.clientId ?? randomClientId();
  }

  protected override handshakeWhat(): string {
    return 'CONNACK';
  }

  private packet(p: Packet): Buffer {
    return generate(p, { protocolVersion: this.version });
  }

  // ---- handshake ----

  protected begin(): void {
    const broker = this.options.broker;
    const login = completeLogin(this.state.login ?? broker.login, this.info);
    const clientId = this.state.clientId ?? randomClientId();
    const connectWith = (password: string | undefined, extra: InitFields) =>
      this.packet({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: this.version,
        clientId,
        clean: true,
        keepalive: broker.keepaliveS,
        ...(login ? { username: login.user } : {}),
        ...(password !== undefined ? { password: Buffer.from(password, 'utf8') } : {}),
        ...extra,
      });
    let extra: InitFields;
    let connect: Buffer;
    try {
      extra = initFields(this.options.init);
      connect = connectWith(login?.pass, extra);
    } catch (err) {
      // Only when detected (-s), or when mqtt-packet refuses a field: with --dialect mqtt,
      // prepare() checked the shape before connecting.
      this.fail(
        err instanceof WsxError
          ? err
          : usageError(`--init: ${err instanceof Error ? err.message : String(err)}`),
      );
      this.abandon();
      this.inner.close(1000, '');
      return;
    }
    this.verbose(
      `> CONNECT protocol:MQTT version:${this.version === 5 ? '5' : '3.1.1'} client-id:${sanitizeLine(clientId)} keepalive:${broker.keepaliveS}${login ? ` username:${sanitizeLine(login.user)}${login.pass !== undefined ? ' password:****' : ''}` : ''} clean:${extra.clean ?? true}${extra.will ? ` will:${sanitizeLine(extra.will.topic)}` : ''}`,
    );
    // Hidden, and shown (json, --record) with the password masked; -v shows it masked too.
    if (login?.pass !== undefined) {
      this.secret = { raw: connect, shown: connectWith('****', extra) };
    }
    this.sendAuto(connect, true, { control: true, hidden: true, label: 'CONNECT' });
  }

  // ---- received ----

  protected override onMessage(
    data: Buffer,
    _binary: boolean,
    _view: MessageView | undefined,
  ): void {
    // The parser keeps a partial packet until the rest arrives, and emits each whole one.
    this.parser.parse(data);
  }

  private onPacket(p: Packet): void {
    switch (p.cmd) {
      case 'connack':
        // MQTT 5 brokers say how many QoS 1/2 flows they take at once (default 65535); 3.1.1 has
        // no such limit, but the packet ids (16 bits) bound it anyway.
        this.receiveMaximum = Math.min(
          MAX_INFLIGHT,
          (this.version === 5 ? p.properties?.receiveMaximum : undefined) ?? MAX_INFLIGHT,
        );
        this.onConnack(
          p.sessionPresent,
          (this.version === 5 ? p.reasonCode : p.returnCode) ?? 0,
          p.properties?.reasonString,
        );
        return;
      case 'publish':
        this.onPublish(p);
        return;
      case 'puback':
      case 'pubcomp':
        this.onAck(p.cmd, p.messageId, p.reasonCode);
        return;
      case 'pubrec': {
        const o = p.messageId === undefined ? undefined : this.outgoing.get(p.messageId);
        if (o?.kind === 'publish' && (p.reasonCode ?? 0) < 0x80) {
          o.stage = 'pubcomp';
          this.ack({ cmd: 'pubrel', messageId: p.messageId as number }, 'PUBREL');
        } else this.onAck('pubrec', p.messageId, p.reasonCode);
        return;
      }
      case 'pubrel':
        if (p.messageId !== undefined) {
          this.inbound.delete(p.messageId);
          this.ack({ cmd: 'pubcomp', messageId: p.messageId }, 'PUBCOMP');
        }
        return;
      case 'suback':
        this.onSuback(p);
        return;
      case 'unsuback': {
        const id = p.messageId ?? -1;
        const o = this.outgoing.get(id);
        this.outgoing.delete(id);
        if (o?.kind === 'unsubscribe') {
          this.control('UNSUBACK', `unsubscribed from ${o.topics.join(', ')}`, {
            type: 'unsuback',
            messageId: id,
          });
        }
        this.settled();
        return;
      }
      case 'pingresp':
        if (this.pingDeadline !== undefined) clearTimeout(this.pingDeadline);
        this.pingDeadline = undefined;
        this.show(Buffer.alloc(0), true, {
          control: true,
          heartbeat: true,
          label: 'PINGRESP',
          body: '',
          dialect: { type: 'pingresp' },
        });
        return;
      case 'disconnect': {
        const code = p.reasonCode ?? 0;
        const why = p.properties?.reasonString;
        const text = `mqtt: the broker disconnected: ${reasonName(code)}${why ? `: ${sanitizeLine(why)}` : ''}`;
        this.control('DISCONNECT', reasonName(code), { type: 'disconnect', reasonCode: code });
        if (code >= 0x80) this.fail(new WsxError('application', text, { code: 'MQTT_DISCONNECT' }));
        else this.ctx.note('info', text);
        return;
      }
      default:
        this.control(p.cmd.toUpperCase(), '', { type: p.cmd });
    }
  }

  private onConnack(sessionPresent: boolean, code: number, reasonString: string | undefined): void {
    this.verbose(
      `< CONNACK ${connackReason(code, this.version)}${sessionPresent ? ' session-present' : ''}`,
    );
    this.show(Buffer.alloc(0), true, {
      control: true,
      hidden: true,
      label: 'CONNACK',
      dialect: { type: 'connack', reasonCode: code, sessionPresent },
    });
    if (code !== 0) {
      this.refused = true;
      const bad = this.version === 5 ? code === 0x86 || code === 0x87 : code === 4 || code === 5;
      this.fail(
        new WsxError(
          'application',
          `mqtt: the broker refused the connection: ${connackReason(code, this.version)}${reasonString ? `: ${sanitizeLine(reasonString)}` : ''}`,
          {
            code: 'MQTT_CONNACK',
            hint: bad ? 'the broker login is --auth user:pass' : undefined,
          },
        ),
      );
      this.abandon();
      this.inner.close(1000, '');
      return;
    }
    const keepalive = this.options.broker.keepaliveS;
    if (keepalive > 0) {
      this.keepTimer = setInterval(() => this.pingreq(keepalive * 1000), keepalive * 1000);
      this.keepTimer.unref?.();
    }
    // Subscriptions first (restored after a reconnect), then the held input.
    const subs = [...this.state.subs].map(([topic, qos]) => ({ topic, qos }));
    if (subs.length > 0) this.subscribeNow(subs);
    this.markReady();
  }

  private pingreq(deadlineMs: number): void {
    if (this.pingDeadline !== undefined) return;
    this.sendAuto(this.packet({ cmd: 'pingreq' }), true, {
      control: true,
      heartbeat: true,
      label: 'PINGREQ',
      body: '',
      dialect: { type: 'pingreq' },
    });
    this.pingDeadline = setTimeout(() => {
      this.stop();
      this.fail(
        new WsxError(
          'protocol',
          `mqtt: no PINGRESP within ${deadlineMs / 1000} s: the broker stopped answering`,
          { code: 'MQTT_KEEPALIVE_TIMEOUT' },
        ),
      );
      this.inner.terminate();
    }, deadlineMs);
    this.pingDeadline.unref?.();
  }

  private onPublish(p: IPublishPacket): void {
    const id = p.messageId;
    if (p.qos === 1 && id !== undefined) this.ack({ cmd: 'puback', messageId: id }, 'PUBACK');
    if (p.qos === 2 && id !== undefined) {
      const again = this.inbound.has(id);
      this.inbound.add(id);
      this.ack({ cmd: 'pubrec', messageId: id }, 'PUBREC');
      // Exactly once: a PUBLISH resent before its PUBREL is the same message.
      if (again) return;
    }
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    const v = payloadView(payload);
    const flags = [`qos ${p.qos}`, ...(p.retain ? ['retained'] : []), ...(p.dup ? ['dup'] : [])];
    this.show(payload, v.binary, {
      label: `${p.topic} (${flags.join(', ')})`,
      ...(v.text !== undefined ? { text: v.text } : {}),
      body: v.body,
      dialect: {
        type: 'publish',
        topic: p.topic,
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
        ...(id !== undefined ? { messageId: id } : {}),
        ...(p.properties ? { properties: p.properties } : {}),
      },
    });
  }

  private onAck(cmd: string, id: number | undefined, reasonCode: number | undefined): void {
    if (id === undefined) return;
    const o = this.outgoing.get(id);
    if (!o) return;
    this.outgoing.delete(id);
    if (o.kind === 'publish') {
      this.inflight--;
      this.drainQueued();
    }
    if (o.kind === 'publish' && (reasonCode ?? 0) >= 0x80) {
      this.fail(
        new WsxError(
          'application',
          `mqtt: the broker refused the message to ${sanitizeLine(o.topic)}: ${reasonName(reasonCode ?? 0)}`,
          { code: 'MQTT_PUBLISH_REFUSED' },
        ),
      );
    }
    this.control(cmd.toUpperCase(), '', { type: cmd, messageId: id }, true);
    this.settled();
  }

  private onSuback(p: ISubackPacket): void {
    const id = p.messageId ?? -1;
    const o = this.outgoing.get(id);
    this.outgoing.delete(id);
    const topics = o?.kind === 'subscribe' ? o.topics : [];
    const granted = (p.granted as Array<number | { qos: number }>).map((g) =>
      typeof g === 'number' ? g : g.qos,
    );
    const lines: string[] = [];
    granted.forEach((code, i) => {
      const topic = topics[i]?.topic ?? '?';
      if (code >= 0x80) {
        this.state.subs.delete(topic);
        const why = p.properties?.reasonString;
        this.fail(
          new WsxError(
            'application',
            `mqtt: the broker refused the subscription to ${sanitizeLine(topic)}: ${subackReason(code, this.version)}${why ? `: ${sanitizeLine(why)}` : ''}`,
            { code: 'MQTT_SUBACK' },
          ),
        );
      } else lines.push(`subscribed to ${topic} (qos ${code})`);
    });
    if (lines.length > 0) {
      this.control('SUBACK', lines.join(', '), { type: 'suback', messageId: id, granted });
    }
    this.settled();
  }

  /** A protocol packet (not an application message; not a heartbeat); `quiet` = hidden. */
  private control(
    label: string,
    body: string,
    dialect: Record<string, unknown>,
    quiet = false,
  ): void {
    this.show(Buffer.alloc(0), true, { control: true, hidden: quiet, label, body, dialect });
  }

  private ack(p: Packet, label: string): void {
    this.sendAuto(this.packet(p), true, {
      control: true,
      hidden: true,
      label,
      dialect: { type: p.cmd, messageId: (p as { messageId?: number }).messageId },
    });
  }

  // ---- sent ----

  private allocateId(): number {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextId;
      this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
      if (!this.outgoing.has(id)) return id;
    }
    throw new WsxError('protocol', 'mqtt: 65535 packets are waiting for the broker');
  }

  protected onLine(text: string): void {
    const pub = this.options.broker.pub;
    if (pub === undefined) {
      throw usageError(
        'mqtt: a line needs a topic to go to',
        'give --pub <topic>, or type /pub <topic> <payload>',
      );
    }
    this.publishNow(
      checkTopicName(pub, '--pub'),
      Buffer.from(text, 'utf8'),
      this.options.broker.qos,
      false,
    );
  }

  protected override onBinaryInput(data: Buffer): void {
    const pub = this.options.broker.pub;
    if (pub === undefined) throw usageError('mqtt: binary input needs --pub <topic>');
    this.publishNow(checkTopicName(pub, '--pub'), data, this.options.broker.qos, false);
  }

  /** /pub: validated now, sent once connected. */
  publish(topic: string, payload: Buffer, qos: Qos, retain: boolean): void {
    checkTopicName(topic, '/pub');
    this.whenReady(() => this.publishNow(topic, payload, qos, retain));
  }

  /**
   * Publish in order; QoS 1/2 messages beyond the broker's Receive Maximum (MQTT 5 CONNACK) wait
   * here until an earlier flow completes (Mosquitto refuses the excess with "Quota exceeded").
   */
  private publishNow(topic: string, payload: Buffer, qos: Qos, retain: boolean): void {
    if (this.queued.length > 0 || (qos > 0 && this.inflight >= this.receiveMaximum)) {
      this.queued.push({ topic, payload, qos, retain });
      return;
    }
    this.transmit(topic, payload, qos, retain);
  }

  /** Send what waited for a free slot, in order, as far as the window allows. */
  private drainQueued(): void {
    while (this.queued.length > 0 && this.isOpen) {
      const next = this.queued[0];
      if (!next || (next.qos > 0 && this.inflight >= this.receiveMaximum)) return;
      this.queued.shift();
      this.transmit(next.topic, next.payload, next.qos, next.retain);
    }
  }

  private transmit(topic: string, payload: Buffer, qos: Qos, retain: boolean): void {
    if (qos > 0) this.inflight++;
    const messageId = qos > 0 ? this.allocateId() : undefined;
    if (messageId !== undefined) {
      this.outgoing.set(messageId, {
        kind: 'publish',
        topic,
        qos: qos as 1 | 2,
        stage: qos === 1 ? 'puback' : 'pubrec',
      });
    }
    const v = payloadView(payload);
    const flags = [`qos ${qos}`, ...(retain ? ['retained'] : [])];
    this.send(
      this.packet({
        cmd: 'publish',
        topic,
        payload,
        qos,
        retain,
        dup: false,
        ...(messageId !== undefined ? { messageId } : {}),
      }),
      true,
      {
        label: `${topic} (${flags.join(', ')})`,
        ...(v.text !== undefined ? { text: v.text } : {}),
        body: v.body,
        dialect: {
          type: 'publish',
          topic,
          qos,
          retain,
          ...(messageId !== undefined ? { messageId } : {}),
        },
      },
    );
  }

  /** /sub: remembered for reconnects, sent once connected. */
  subscribe(topic: string, qos: Qos): void {
    checkTopicFilter(topic, '/sub');
    this.state.subs.set(topic, qos);
    this.whenReady(() => this.subscribeNow([{ topic, qos }]));
  }

  private subscribeNow(topics: Array<{ topic: string; qos: Qos }>): void {
    const messageId = this.allocateId();
    this.outgoing.set(messageId, { kind: 'subscribe', topics });
    this.send(this.packet({ cmd: 'subscribe', messageId, subscriptions: topics }), true, {
      control: true,
      label: 'SUBSCRIBE',
      body: topics.map((t) => `${t.topic} (qos ${t.qos})`).join(', '),
      dialect: { type: 'subscribe', messageId, subscriptions: topics },
    });
  }

  /** /unsub */
  unsubscribe(topic: string): void {
    checkTopicFilter(topic, '/unsub');
    if (!this.state.subs.has(topic)) {
      const known = [...this.state.subs.keys()].join(', ') || 'none';
      throw usageError(`not subscribed to '${topic}' (active: ${known})`);
    }
    this.state.subs.delete(topic);
    this.whenReady(() => {
      const messageId = this.allocateId();
      this.outgoing.set(messageId, { kind: 'unsubscribe', topics: [topic] });
      this.send(this.packet({ cmd: 'unsubscribe', messageId, unsubscriptions: [topic] }), true, {
        control: true,
        label: 'UNSUBSCRIBE',
        body: topic,
        dialect: { type: 'unsubscribe', messageId, unsubscriptions: [topic] },
      });
    });
  }

  /** --qos: the default of /sub and /pub. */
  defaultQos(): Qos {
    return this.options.broker.qos;
  }

  protected override pending(): number {
    return this.outgoing.size + this.queued.length;
  }

  // ---- closing ----

  /** DISCONNECT, then the WebSocket close. */
  override close(code?: number, reason?: string): void {
    if (this.ready && !this.disconnected && !this.refused && this.isOpen) {
      this.disconnected = true;
      this.stop();
      this.sendAuto(this.packet({ cmd: 'disconnect' }), true, {
        control: true,
        hidden: true,
        label: 'DISCONNECT',
        dialect: { type: 'disconnect' },
      });
    }
    this.inner.close(code, reason);
  }

  protected override onClose(info: CloseInfo): void {
    this.stop();
    super.onClose(info);
  }

  protected override stop(): void {
    if (this.keepTimer !== undefined) clearInterval(this.keepTimer);
    if (this.pingDeadline !== undefined) clearTimeout(this.pingDeadline);
    this.keepTimer = undefined;
    this.pingDeadline = undefined;
  }

  /** True once the broker refused the CONNECT (its dropping the connection then is expected). */
  get wasRefused(): boolean {
    return this.refused;
  }
}

const on = (d: Dialect): MqttDialect => d as MqttDialect;

export const MQTT_COMMANDS: readonly DialectCommand[] = [
  {
    name: 'sub',
    usage: '/sub <topic> [qos]',
    help: 'subscribe to a topic filter (+ and # wildcards; QoS 0, 1 or 2, default --qos)',
    run: (d, args) => {
      const m = on(d);
      const { topic, qos } = parseMqttSubArgs(args, m.defaultQos());
      m.subscribe(topic, qos);
    },
  },
  {
    name: 'unsub',
    usage: '/unsub <topic>',
    help: 'unsubscribe from a topic filter',
    run: (d, args) => on(d).unsubscribe(args.trim()),
  },
  {
    name: 'pub',
    usage: '/pub <topic> <payload> [--qos n] [--retain]',
    help: 'publish the rest of the line to a topic',
    run: (d, args) => {
      const m = on(d);
      const { topic, payload, qos, retain } = parsePubArgs(args, m.defaultQos());
      m.publish(topic, Buffer.from(payload, 'utf8'), qos, retain);
    },
  },
];

export const mqtt: DialectSpec<MqttState> = {
  name: 'mqtt',
  subprotocols: ['mqtt'],
  commands: MQTT_COMMANDS,
  initialState: () => ({ clientId: undefined, subs: new Map(), seeded: false, login: undefined }),
  async prepare(connect: ConnectOptions, env): Promise<ConnectOptions> {
    initFields(env.options.init); // a bad --init is a usage error before connecting
    // The core has parsed --auth (and asked for a missing password): it is the MQTT login.
    if (connect.auth) env.state.login = connect.auth;
    return connect;
  },
  create: (inner, env) => new MqttDialect(inner, env),
};

// The mqtt dialect against a fake peer that speaks mqtt-packet as a broker would: CONNECT,
// held input, subscriptions and refusals, QoS 1 and 2 both ways, keep-alive, packets split
// across and sharing WebSocket messages, payload views, and the /pub argument parser.

import { generate, type Packet, parser } from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MqttDialect, type MqttState, mqtt } from '../../src/dialects/mqtt.js';
import {
  checkTopicFilter,
  checkTopicName,
  connackReason,
  parseMqttSubArgs,
  parsePubArgs,
  subackReason,
} from '../../src/dialects/mqtt-codes.js';
import { type DialectFlags, parseDialectOptions } from '../../src/dialects/options.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

function setup(flags: DialectFlags = {}, state?: MqttState) {
  const peer = new FakePeer({ url: 'ws://127.0.0.1:9001/', protocol: 'mqtt' });
  const ctx = fakeContext([]);
  const options = parseDialectOptions({ dialect: 'mqtt', ...flags });
  const version = options.broker.mqttVersion;
  const st = state ?? mqtt.initialState();
  const d = new MqttDialect(peer, { options, state: st, ctx });
  const seen = watch(d);
  d.start();
  /** What wsx sent, decoded as the broker decodes it. */
  const sent = (): Packet[] => {
    const out: Packet[] = [];
    const p = parser({ protocolVersion: version });
    p.on('packet', (x: Packet) => out.push(x));
    for (const f of peer.sent) p.parse(f.data);
    return out;
  };
  const deliver = (packet: Packet) =>
    peer.deliver(generate(packet, { protocolVersion: version }), true);
  const connack = (code = 0) =>
    deliver(
      version === 5
        ? { cmd: 'connack', sessionPresent: false, reasonCode: code }
        : { cmd: 'connack', sessionPresent: false, returnCode: code },
    );
  return { peer, d, seen, sent, deliver, connack, state: st, ctx };
}

describe('mqtt helpers', () => {
  it('names reason codes', () => {
    expect(connackReason(5, 4)).toBe('not authorized (5)');
    expect(connackReason(0x87, 5)).toBe('Not authorized (0x87)');
    expect(connackReason(0x86, 5)).toBe('Bad User Name or Password (0x86)');
    expect(subackReason(0x80, 4)).toBe('Failure (0x80)');
    expect(subackReason(0x8f, 5)).toBe('Topic Filter invalid (0x8f)');
  });

  it('checks topic names and filters before mqtt-packet sees them', () => {
    expect(checkTopicName('a/b', '/pub')).toBe('a/b');
    expect(() => checkTopicName('a/#', '/pub')).toThrow(/for subscriptions/);
    expect(() => checkTopicName('', '/pub')).toThrow(/needs a topic/);
    expect(checkTopicFilter('a/+/c/#', '/sub')).toBe('a/+/c/#');
    expect(() => checkTopicFilter('a/#/c', '/sub')).toThrow(/last level/);
    expect(() => checkTopicFilter('a/b+', '/sub')).toThrow(/level alone/);
  });

  it('parses /sub and /pub arguments', () => {
    expect(parseMqttSubArgs('sensors/#', 1)).toEqual({ topic: 'sensors/#', qos: 1 });
    expect(parseMqttSubArgs('a 2', 0)).toEqual({ topic: 'a', qos: 2 });
    expect(() => parseMqttSubArgs('a 3', 0)).toThrow(/0, 1 or 2/);
    expect(parsePubArgs('t/1 {"c": 21.5} --qos 1 --retain', 0)).toEqual({
      topic: 't/1',
      payload: '{"c": 21.5}',
      qos: 1,
      retain: true,
    });
    expect(parsePubArgs('t --qos 2 hello  world', 0)).toEqual({
      topic: 't',
      payload: 'hello  world',
      qos: 2,
      retain: false,
    });
    expect(parsePubArgs('t', 1)).toEqual({ topic: 't', payload: '', qos: 1, retain: false });
    expect(() => parsePubArgs('t x --qos 7', 0)).toThrow(/0, 1 or 2/);
    expect(() => parsePubArgs('', 0)).toThrow(/needs a topic/);
  });
});

describe('mqtt dialect', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('CONNECT: a wsx- client id, keep-alive, the login, clean session', () => {
    const { sent } = setup({ auth: 'alice:wonderland', keepalive: '30' });
    const [c] = sent();
    expect(c).toMatchObject({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      username: 'alice',
    });
    expect(c?.cmd === 'connect' && c.clientId).toMatch(/^wsx-[\w-]{8}$/);
    expect(c?.cmd === 'connect' && c.password?.toString()).toBe('wonderland');
  });

  it('events show the CONNECT packet with the password masked (json output, --record)', () => {
    const { seen, peer } = setup({ auth: 'alice:wonderland' });
    expect(peer.sent[0]?.data.includes('wonderland')).toBe(true);
    expect(seen.sent[0]?.text).toContain('****');
    expect(seen.sent[0]?.text).not.toContain('wonderland');
  });

  it('--client-id and --mqtt-version 5', () => {
    const { sent } = setup({ clientId: 'dash-1', mqttVersion: '5' });
    expect(sent()[0]).toMatchObject({ cmd: 'connect', clientId: 'dash-1', protocolVersion: 5 });
  });

  it('keeps the client id across reconnects', () => {
    const a = setup();
    const b = setup({}, a.state);
    const id = (p: Packet | undefined) => (p?.cmd === 'connect' ? p.clientId : undefined);
    expect(id(b.sent()[0])).toBe(id(a.sent()[0]));
  });

  it('holds lines until CONNACK, subscribes --sub first, then publishes to --pub', () => {
    const { d, sent, connack, deliver, seen } = setup({
      sub: ['sensors/#'],
      pub: 'out/t',
      qos: '1',
    });
    d.input('21.5', false);
    expect(sent()).toHaveLength(1);
    connack();
    const [, sub, pub] = sent();
    expect(sub).toMatchObject({
      cmd: 'subscribe',
      subscriptions: [{ topic: 'sensors/#', qos: 1 }],
    });
    expect(pub).toMatchObject({ cmd: 'publish', topic: 'out/t', qos: 1 });
    expect(pub?.cmd === 'publish' && pub.payload.toString()).toBe('21.5');
    expect(d.outstanding()).toBe(2);
    deliver({ cmd: 'suback', messageId: sub?.messageId as number, granted: [1] });
    expect(seen.messages.at(-1)?.view).toMatchObject({
      control: true,
      label: 'SUBACK',
      body: 'subscribed to sensors/# (qos 1)',
    });
    // Not a heartbeat: --hide-ping-pong keeps it.
    expect(seen.messages.at(-1)?.view?.heartbeat).toBeUndefined();
    deliver({ cmd: 'puback', messageId: pub?.messageId as number });
    expect(d.outstanding()).toBe(0);
    expect(seen.settled).toBeGreaterThan(0);
  });

  it('a refused CONNACK is exit 5 with the reason name; held input is dropped', () => {
    const { d, connack, seen, peer } = setup({ pub: 't' });
    d.input('x', false);
    connack(5);
    expect(seen.errors).toEqual([
      expect.objectContaining({
        kind: 'application',
        code: 'MQTT_CONNACK',
        message: 'mqtt: the broker refused the connection: not authorized (5)',
      }),
    ]);
    expect(d.outstanding()).toBe(0);
    expect(peer.closed).toBeDefined();
  });

  it('MQTT 5: refused CONNACK reason names', () => {
    const { connack, seen } = setup({ mqttVersion: '5' });
    connack(0x86);
    expect(seen.errors[0]?.message).toBe(
      'mqtt: the broker refused the connection: Bad User Name or Password (0x86)',
    );
  });

  it('a refused SUBACK entry is exit 5 and is not re-subscribed after a reconnect', () => {
    const { connack, sent, deliver, seen, state } = setup({ sub: ['secret/x', 'ok/x'] });
    connack();
    const sub = sent()[1];
    deliver({ cmd: 'suback', messageId: sub?.messageId as number, granted: [0x80, 0] });
    expect(seen.errors).toEqual([
      expect.objectContaining({
        kind: 'application',
        code: 'MQTT_SUBACK',
        message: 'mqtt: the broker refused the subscription to secret/x: Failure (0x80)',
      }),
    ]);
    expect([...state.subs.keys()]).toEqual(['ok/x']);
  });

  it('shows a PUBLISH by topic and QoS and answers QoS 1 with PUBACK', () => {
    const { connack, deliver, seen, sent } = setup();
    connack();
    deliver({
      cmd: 'publish',
      topic: 'sensors/t1',
      payload: Buffer.from('{"c":21.5}'),
      qos: 1,
      messageId: 7,
      retain: false,
      dup: false,
    });
    const m = seen.messages.at(-1);
    expect(m?.view?.label).toBe('sensors/t1 (qos 1)');
    expect(m?.view?.text).toBe('{"c":21.5}');
    expect(m?.view?.control).toBeUndefined();
    expect(m?.view?.dialect).toMatchObject({ type: 'publish', topic: 'sensors/t1', qos: 1 });
    expect(sent().at(-1)).toMatchObject({ cmd: 'puback', messageId: 7 });
  });

  it('QoS 2 in: PUBREC, a resent PUBLISH not shown twice, PUBREL answered with PUBCOMP', () => {
    const { connack, deliver, seen, sent } = setup();
    connack();
    const publish = {
      cmd: 'publish' as const,
      topic: 'a',
      payload: Buffer.from('once'),
      qos: 2 as const,
      messageId: 9,
      retain: false,
      dup: false,
    };
    const before = seen.messages.filter((m) => !m.view?.control).length;
    deliver(publish);
    deliver({ ...publish, dup: true });
    expect(seen.messages.filter((m) => !m.view?.control).length - before).toBe(1);
    expect(sent().filter((p) => p.cmd === 'pubrec')).toHaveLength(2);
    deliver({ cmd: 'pubrel', messageId: 9 });
    expect(sent().at(-1)).toMatchObject({ cmd: 'pubcomp', messageId: 9 });
    // A new message may reuse the id once the flow completed.
    deliver({ ...publish, payload: Buffer.from('twice') });
    expect(seen.messages.at(-1)?.view?.text).toBe('twice');
  });

  it('QoS 2 out: PUBREC → PUBREL, PUBCOMP settles', () => {
    const { d, connack, deliver, sent } = setup();
    connack();
    d.command('pub', 'out/x hello --qos 2 --retain');
    const pub = sent().at(-1);
    expect(pub).toMatchObject({ cmd: 'publish', topic: 'out/x', qos: 2, retain: true });
    expect(d.outstanding()).toBe(1);
    deliver({ cmd: 'pubrec', messageId: pub?.messageId as number });
    expect(sent().at(-1)).toMatchObject({ cmd: 'pubrel', messageId: pub?.messageId });
    expect(d.outstanding()).toBe(1);
    deliver({ cmd: 'pubcomp', messageId: pub?.messageId as number });
    expect(d.outstanding()).toBe(0);
  });

  it("MQTT 5: keeps within the broker's Receive Maximum, in order", () => {
    const { d, deliver, sent } = setup({ mqttVersion: '5', pub: 'w', qos: '1' });
    deliver({
      cmd: 'connack',
      sessionPresent: false,
      reasonCode: 0,
      properties: { receiveMaximum: 2 },
    });
    for (const line of ['a', 'b', 'c', 'd']) d.input(line, false);
    d.command('pub', 'w e --qos 0');
    const pubs = () => sent().filter((p) => p.cmd === 'publish');
    const payloads = () => pubs().map((p) => (p.cmd === 'publish' ? p.payload.toString() : ''));
    expect(payloads()).toEqual(['a', 'b']);
    expect(d.outstanding()).toBe(5);
    deliver({ cmd: 'puback', messageId: pubs()[0]?.messageId as number, reasonCode: 0 });
    expect(payloads()).toEqual(['a', 'b', 'c']);
    deliver({ cmd: 'puback', messageId: pubs()[1]?.messageId as number, reasonCode: 0 });
    deliver({ cmd: 'puback', messageId: pubs()[2]?.messageId as number, reasonCode: 0 });
    // d takes the last slot; the QoS 0 e waited behind it to keep the order.
    expect(payloads()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('binary payloads: hex in pretty, no text', () => {
    const { connack, deliver, seen } = setup();
    connack();
    deliver({
      cmd: 'publish',
      topic: 'bin',
      payload: Buffer.from([0, 1, 0xfe]),
      qos: 0,
      retain: true,
      dup: false,
    });
    const m = seen.messages.at(-1);
    expect(m?.binary).toBe(true);
    expect(m?.view?.text).toBeUndefined();
    expect(m?.view?.body).toBe('0001fe');
    expect(m?.view?.label).toBe('bin (qos 0, retained)');
  });

  it('reassembles a packet split across messages and splits two packets in one', () => {
    const { connack, peer, seen } = setup();
    connack();
    const a = generate({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('x'.repeat(200)),
      qos: 0,
      retain: false,
      dup: false,
    });
    const b = generate({
      cmd: 'publish',
      topic: 'u',
      payload: Buffer.from('second'),
      qos: 0,
      retain: false,
      dup: false,
    });
    peer.deliver(a.subarray(0, 3), true);
    peer.deliver(Buffer.concat([a.subarray(3), b]), true);
    const shown = seen.messages.filter((m) => !m.view?.control);
    expect(shown.map((m) => m.view?.label)).toEqual(['t (qos 0)', 'u (qos 0)']);
    expect(shown[0]?.view?.text).toBe('x'.repeat(200));
  });

  it('keep-alive: PINGREQ every interval; a missing PINGRESP is exit 1', () => {
    const { connack, deliver, sent, seen, peer } = setup({ keepalive: '5' });
    connack();
    vi.advanceTimersByTime(5000);
    expect(sent().at(-1)).toMatchObject({ cmd: 'pingreq' });
    expect(peer.sent.at(-1)?.view).toMatchObject({
      auto: true,
      control: true,
      heartbeat: true,
      label: 'PINGREQ',
    });
    deliver({ cmd: 'pingresp' });
    expect(seen.messages.at(-1)?.view).toMatchObject({
      control: true,
      heartbeat: true,
      label: 'PINGRESP',
    });
    vi.advanceTimersByTime(5000);
    expect(sent().filter((p) => p.cmd === 'pingreq')).toHaveLength(2);
    expect(seen.errors).toEqual([]);
    vi.advanceTimersByTime(5000);
    expect(seen.errors).toEqual([
      expect.objectContaining({ kind: 'protocol', code: 'MQTT_KEEPALIVE_TIMEOUT' }),
    ]);
    expect(peer.terminated).toBe(true);
  });

  it('--keepalive 0 sends no PINGREQ', () => {
    const { connack, sent } = setup({ keepalive: '0' });
    connack();
    vi.advanceTimersByTime(600_000);
    expect(sent().filter((p) => p.cmd === 'pingreq')).toHaveLength(0);
  });

  it('/unsub, and the close sends DISCONNECT', () => {
    const { d, connack, sent, deliver, seen, peer } = setup({ sub: ['a/#'] });
    connack();
    d.command('unsub', 'a/#');
    const unsub = sent().at(-1);
    expect(unsub).toMatchObject({ cmd: 'unsubscribe', unsubscriptions: ['a/#'] });
    deliver({ cmd: 'unsuback', messageId: unsub?.messageId as number, granted: [] });
    expect(seen.messages.at(-1)?.view?.body).toBe('unsubscribed from a/#');
    expect(() => d.command('unsub', 'a/#')).toThrow(/not subscribed/);
    d.close(1000, '');
    expect(sent().at(-1)).toMatchObject({ cmd: 'disconnect' });
    expect(peer.closed).toEqual({ code: 1000, reason: '' });
  });

  it('re-subscribes every active subscription on a new connection', () => {
    const first = setup({ sub: ['a'], qos: '1' });
    first.connack();
    first.d.command('sub', 'b 2');
    const second = setup({ sub: ['a'], qos: '1' }, first.state);
    second.connack();
    expect(second.sent()[1]).toMatchObject({
      cmd: 'subscribe',
      subscriptions: [
        { topic: 'a', qos: 1 },
        { topic: 'b', qos: 2 },
      ],
    });
  });

  it('refuses a line without --pub and a wildcard --pub', () => {
    const { d, connack, seen } = setup();
    connack();
    d.input('x', false);
    expect(seen.errors[0]).toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/topic/),
    });
    expect(() => parseDialectOptions({ dialect: 'stomp', qos: '1' })).toThrow(
      /--qos is for --dialect mqtt/,
    );
  });
});

describe('broker options', () => {
  it('a broker flag needs --dialect stomp/mqtt or a matching -s', () => {
    expect(() => parseDialectOptions({ sub: ['a'] })).toThrow(
      /--sub is for --dialect stomp or mqtt/,
    );
    expect(() => parseDialectOptions({ qos: '1', subprotocol: ['v12.stomp'] })).toThrow(
      /--qos is for --dialect mqtt/,
    );
    expect(parseDialectOptions({ qos: '1', subprotocol: ['mqtt'] }).broker.qos).toBe(1);
    expect(parseDialectOptions({ vhost: '/', subprotocol: ['v11.stomp'] }).broker.vhost).toBe('/');
    expect(() => parseDialectOptions({ dialect: 'graphql', pub: 'x' })).toThrow(/--pub is for/);
  });

  it('validates values', () => {
    expect(() => parseDialectOptions({ dialect: 'mqtt', qos: '3' })).toThrow(/0, 1 or 2/);
    expect(() => parseDialectOptions({ dialect: 'mqtt', keepalive: '-1' })).toThrow(/--keepalive/);
    expect(() => parseDialectOptions({ dialect: 'mqtt', mqttVersion: '4.0' })).toThrow(
      /3.1.1 or 5/,
    );
    expect(parseDialectOptions({ dialect: 'mqtt', mqttVersion: '5' }).broker.mqttVersion).toBe(5);
    expect(parseDialectOptions({ dialect: 'stomp', auth: 'u:p:q' }).broker.login).toEqual({
      user: 'u',
      pass: 'p:q',
    });
  });
});

describe('--init', () => {
  it('mqtt: clean, will and properties go into CONNECT', () => {
    const { sent } = setup({
      mqttVersion: '5',
      init: '{"clean":false,"will":{"topic":"status/wsx","payload":"gone","qos":1,"retain":true},"properties":{"sessionExpiryInterval":60}}',
    });
    expect(sent()[0]).toMatchObject({
      cmd: 'connect',
      clean: false,
      will: { topic: 'status/wsx', qos: 1, retain: true },
      properties: { sessionExpiryInterval: 60 },
    });
  });

  it('mqtt: a bad --init is a usage error before connecting', async () => {
    const options = parseDialectOptions({ dialect: 'mqtt', init: '{"wil":{}}' });
    const conn = { auth: undefined } as unknown as Parameters<NonNullable<typeof mqtt.prepare>>[0];
    await expect(
      mqtt.prepare?.(conn, {
        options,
        state: mqtt.initialState(),
        ctx: fakeContext(),
        explicit: true,
      }),
    ).rejects.toThrow(/unknown CONNECT field wil/);
  });
});

// The built CLI's mqtt dialect against aedes (an MQTT broker on npm) behind a ws server on
// 127.0.0.1, observed with mqtt.js: fast and root-free, next to the real-Mosquitto tests in
// test/e2e/dialect-mqtt.test.ts. Also: a detected dialect (-s mqtt), a packet split across
// WebSocket messages, and a refused SUBACK from an authorizer.

import type { ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { runCli } from '../helpers/cli.js';

let broker: Aedes;
let wss: WebSocketServer;
let url: string;
let observer: MqttClient;
const received: Array<{ topic: string; payload: string; qos: number }> = [];

beforeAll(async () => {
  broker = await Aedes.createBroker({
    authorizeSubscribe: (_client, sub, done) =>
      // A null subscription is a negative SUBACK (an error would drop the client).
      sub.topic.startsWith('denied/') ? done(null, null) : done(null, sub),
  });
  wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws: WebSocket) => broker.handle(createWebSocketStream(ws) as never));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  observer = connect(url, { reconnectPeriod: 0, clientId: 'observer' });
  await new Promise<void>((resolve, reject) => {
    observer.once('connect', () => resolve());
    observer.once('error', reject);
  });
  observer.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), qos: packet.qos }),
  );
  await observer.subscribeAsync('aedes/#', { qos: 2 });
});

afterAll(async () => {
  await observer?.endAsync();
  await new Promise((r) => wss?.close(r));
  await new Promise<void>((r) => broker?.close(() => r()));
});

/** Wait until the observer has `n` messages on `topic`. */
async function messagesOn(topic: string, n: number): Promise<string[]> {
  const got = () => received.filter((m) => m.topic === topic);
  for (let i = 0; i < 200 && got().length < n; i++) await new Promise((r) => setTimeout(r, 25));
  return got().map((m) => m.payload);
}

describe('mqtt dialect against aedes', () => {
  it('pipes: one PUBLISH per line at QoS 2, each received once', async () => {
    const r = await runCli(['--dialect', 'mqtt', url, '--pub', 'aedes/pipe', '--qos', '2'], {
      input: 'a\nb b\n{"c":1}\n',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // wsx waited for every PUBCOMP before closing, so the broker has routed all three.
    expect(await messagesOn('aedes/pipe', 3)).toEqual(['a', 'b b', '{"c":1}']);
  });

  it('-s mqtt selects the dialect and announces it', async () => {
    const r = await runCli(
      [url, '-s', 'mqtt', '--pub', 'aedes/detected', '--qos', '1', '--output', 'pretty'],
      {
        input: 'hello\n',
      },
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('dialect: mqtt (mqtt); --dialect none for plain frames');
    expect(r.out).toContain('> aedes/detected (qos 1) hello');
    expect(await messagesOn('aedes/detected', 1)).toEqual(['hello']);
  });

  it('--sub shows what the observer publishes; --count ends the run', async () => {
    let child: ChildProcess | undefined;
    let out = '';
    const run = runCli(
      ['--dialect', 'mqtt', url, '--sub', 'aedes/in', '--qos', '1', '--count', '2', '--json'],
      {
        onSpawn: (c) => {
          child = c;
          c.stdout?.on('data', (d: Buffer) => {
            out += d.toString();
          });
        },
      },
    );
    for (let i = 0; i < 200 && !out.includes('"suback"'); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(child).toBeDefined();
    await observer.publishAsync('aedes/in', '{"t":1}', { qos: 1 });
    await observer.publishAsync('aedes/in', Buffer.from([0xca, 0xfe]), { qos: 0 });
    const r = await run;
    expect(r.code).toBe(0);
    const msgs = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.event === 'message' && e.direction === 'in' && !e.control);
    expect(msgs.map((m) => m.data ?? m.base64)).toEqual([
      '{"t":1}',
      Buffer.from([0xca, 0xfe]).toString('base64'),
    ]);
  });

  it('a refused SUBACK is exit 5 naming the topic', async () => {
    const r = await runCli(['--dialect', 'mqtt', url, '--sub', 'denied/x']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(
      /^error: mqtt: the broker refused the subscription to denied\/x: Failure \(0x80\)$/m,
    );
  });

  it('reassembles a PUBLISH that a broker splits across WebSocket messages', async () => {
    // A hand-written broker: CONNACK, then one PUBLISH cut into three binary messages.
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: () => 'mqtt',
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    server.on('connection', (ws) => {
      ws.once('message', () => {
        ws.send(generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
        const p = generate({
          cmd: 'publish',
          topic: 'split/t',
          payload: Buffer.from('x'.repeat(300)),
          qos: 0,
          retain: false,
          dup: false,
        });
        for (const part of [p.subarray(0, 2), p.subarray(2, 150), p.subarray(150)]) ws.send(part);
      });
    });
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await runCli(['--dialect', 'mqtt', `ws://127.0.0.1:${port}`, '--count', '1']);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${'x'.repeat(300)}\n`);
    } finally {
      for (const c of server.clients) c.terminate();
      await new Promise((r) => server.close(r));
    }
  });
});

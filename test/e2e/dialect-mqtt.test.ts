// The built CLI speaking MQTT 3.1.1 and 5 to a real Mosquitto (websockets listener, from Debian)
// inside a private network namespace, observed with mqtt.js: what wsx publishes arrives exactly
// once at QoS 0/1/2, what the observer publishes wsx shows, refusals are exit 5, a silent broker
// is exit 1, and --reconnect re-subscribes.

import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Broker,
  brokersAvailable,
  MQTT_DENIED,
  MQTT_USER,
  Netns,
  Observer,
  type Run,
  startMosquitto,
} from '../fixtures/brokers.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

const available = brokersAvailable('mosquitto');

/** JSON output lines as they come; until() resolves when one matches. */
function jsonLines(child: ChildProcess) {
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      try {
        events.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      } catch {}
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  const until = (match: (e: Record<string, unknown>) => boolean, what: string, from = 0) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`wsx never printed ${what}: ${JSON.stringify(events)}`)),
        15_000,
      );
      const check = () => {
        const hit = events.slice(from).find(match);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else waiters.push(check);
      };
      check();
    });
  return { events, until };
}

const dialectOf = (e: Record<string, unknown>) => e.dialect as Record<string, unknown> | undefined;
const isSuback = (e: Record<string, unknown>) => dialectOf(e)?.type === 'suback';

describe.skipIf(!available)('mqtt against Mosquitto websockets', () => {
  let ns: Netns;
  let broker: Broker;
  let observer: Observer;

  beforeAll(async () => {
    ns = Netns.create();
    broker = await startMosquitto(ns);
    observer = await Observer.start(ns, 'mqtt', { url: broker.url });
  }, 60_000);

  afterAll(async () => {
    await observer?.close();
    await ns?.close();
  }, 30_000);

  const wsx = (args: string[], opts: Parameters<Netns['wsx']>[1] = {}): Promise<Run> =>
    ns.wsx(['--dialect', 'mqtt', broker.url, ...args], opts);

  /** Payloads the observer got on `topic` before `sentinel`, which wsx publishes after them. */
  async function receivedBefore(topic: string, sentinel: string): Promise<string[]> {
    const end = await wsx(['-x', `/pub ${topic} ${sentinel} --qos 1`]);
    expect(end.code).toBe(0);
    await observer.waitFor(
      (e) => e.ev === 'message' && e.topic === topic && e.payload === sentinel,
      10_000,
      `the sentinel on ${topic}`,
    );
    const got = observer
      .messages()
      .filter((e) => e.topic === topic)
      .map((e) => String(e.payload));
    return got.slice(0, got.indexOf(sentinel));
  }

  for (const [version, qos] of [
    ['3.1.1', '1'],
    ['3.1.1', '2'],
    ['5', '2'],
    ['5', '0'],
  ] as const) {
    it(`publishes each piped line exactly once (MQTT ${version}, QoS ${qos})`, async () => {
      const topic = `wsx/pipe/${version}/${qos}`;
      await observer.request({ op: 'subscribe', topic, qos: 2 });
      const r = await wsx(['--mqtt-version', version, '--pub', topic, '--qos', qos], {
        input: 'one\n{"c":21.5}\nthree  spaced\n',
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(await receivedBefore(topic, `end-${version}-${qos}`)).toEqual([
        'one',
        '{"c":21.5}',
        'three  spaced',
      ]);
      const qosSeen = observer.messages().find((e) => e.topic === topic && e.payload === 'one');
      expect(qosSeen?.qos).toBe(Number(qos));
    });
  }

  it("2000 lines at QoS 1 over MQTT 5 stay within Mosquitto's Receive Maximum, each once, in order", async () => {
    const topic = 'wsx/many';
    await observer.request({ op: 'subscribe', topic, qos: 1 });
    const lines = Array.from({ length: 2000 }, (_, i) => `m${i}`);
    const r = await wsx(['--mqtt-version', '5', '--pub', topic, '--qos', '1'], {
      input: `${lines.join('\n')}\n`,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await receivedBefore(topic, 'end-many')).toEqual(lines);
  });

  it('shows what the observer publishes at QoS 2: --sub, --count, json "dialect", binary payloads', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(['--sub', 'wsx/in/#', '--qos', '2', '--count', '3', '--json', '-w', '-1'], {
      onSpawn: (c) => {
        child = c;
      },
    });
    const out = jsonLines(child as ChildProcess);
    await out.until(isSuback, 'the SUBACK');
    await observer.request({ op: 'publish', topic: 'wsx/in/t1', payload: '{"c":21.5}', qos: 2 });
    await observer.request({ op: 'publish', topic: 'wsx/in/t2', payload: 'plain', qos: 1 });
    await observer.request({ op: 'publish', topic: 'wsx/in/bin', hex: '00ff10', qos: 0 });
    const r = await run;
    expect(r.code).toBe(0);
    const got = out.events.filter(
      (e) => e.event === 'message' && e.direction === 'in' && !e.control,
    );
    expect(got.map((e) => [dialectOf(e)?.topic, dialectOf(e)?.qos])).toEqual([
      ['wsx/in/t1', 2],
      ['wsx/in/t2', 1],
      ['wsx/in/bin', 0],
    ]);
    expect(got[0]?.data).toBe('{"c":21.5}');
    expect(got[2]?.base64).toBe(Buffer.from([0, 0xff, 0x10]).toString('base64'));
  });

  it('pretty output: topic, QoS and indented JSON; raw output: the payloads', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(
      ['--output', 'pretty', '--sub', 'wsx/pretty', '--qos', '1', '--count', '1', '-w', '-1'],
      {
        onSpawn: (c) => {
          child = c;
        },
      },
    );
    let seen = '';
    await new Promise<void>((resolve) => {
      child?.stdout?.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('subscribed to wsx/pretty')) resolve();
      });
    });
    await observer.request({ op: 'publish', topic: 'wsx/pretty', payload: '{"c":21.5}', qos: 1 });
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.out).toContain('< wsx/pretty (qos 1) {\n    "c": 21.5\n  }\n');

    await observer.request({
      op: 'publish',
      topic: 'wsx/retained',
      payload: 'kept',
      qos: 1,
      retain: true,
    });
    const raw = await wsx(['--sub', 'wsx/retained', '--count', '1', '-w', '-1']);
    expect(raw.code).toBe(0);
    expect(raw.out).toBe('kept\n');
  });

  it('--expect matches payloads; --auth logs in', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(
      [
        '--auth',
        `${MQTT_USER.user}:${MQTT_USER.pass}`,
        '--sub',
        'wsx/expect',
        '--expect',
        '"ok":true',
        '--json',
      ],
      {
        onSpawn: (c) => {
          child = c;
        },
      },
    );
    const out = jsonLines(child as ChildProcess);
    await out.until(isSuback, 'the SUBACK');
    await observer.request({ op: 'publish', topic: 'wsx/expect', payload: '{"ok":false}' });
    await observer.request({ op: 'publish', topic: 'wsx/expect', payload: '{"ok":true}' });
    expect((await run).code).toBe(0);
  });

  it('a refused CONNACK is exit 5 with the reason name, though Mosquitto drops the connection', async () => {
    for (const [version, reason] of [
      ['3.1.1', 'not authorized (5)'],
      ['5', 'Not authorized (0x87)'],
    ] as const) {
      const r = await wsx(['--mqtt-version', version, '--auth', `${MQTT_USER.user}:wrong`]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(
        new RegExp(
          `^error: mqtt: the broker refused the connection: ${reason.replace(/[()]/g, '\\$&')}$`,
          'm',
        ),
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a refused SUBACK is exit 5 naming the topic and the reason', async () => {
    const v3 = await wsx(['--sub', `${MQTT_DENIED}x`, '--sub', 'wsx/allowed']);
    expect(v3.code).toBe(5);
    expect(v3.stderr).toContain(
      `error: mqtt: the broker refused the subscription to ${MQTT_DENIED}x: Failure (0x80)`,
    );
    const v5 = await wsx(['--mqtt-version', '5', '-x', `/sub ${MQTT_DENIED}y 1`]);
    expect(v5.code).toBe(5);
    expect(v5.stderr).toContain(
      `error: mqtt: the broker refused the subscription to ${MQTT_DENIED}y: Not authorized (0x87)`,
    );
  });

  it('--reconnect connects again and re-subscribes after the broker drops the session', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(
      [
        '--client-id',
        'wsx-taken',
        '--sub',
        'wsx/again',
        '--reconnect',
        '3',
        '--count',
        '1',
        '--json',
        '-w',
        '-1',
      ],
      {
        onSpawn: (c) => {
          child = c;
        },
      },
    );
    const out = jsonLines(child as ChildProcess);
    await out.until(isSuback, 'the first SUBACK');
    const firstOpen = out.events.findIndex((e) => e.event === 'open');
    // Another client with the same id takes the session over: Mosquitto drops wsx.
    const thief = await Observer.start(ns, 'mqtt', { url: broker.url, clientId: 'wsx-taken' });
    await out.until((e) => e.event === 'close', 'the dropped connection');
    await out.until((e) => e.event === 'open', 'the second connection', firstOpen + 1);
    const at = out.events.findIndex((e, i) => i > firstOpen && e.event === 'open');
    await out.until(isSuback, 'the SUBACK after reconnecting', at + 1);
    await thief.close();
    await observer.request({
      op: 'publish',
      topic: 'wsx/again',
      payload: 'after the reconnect',
      qos: 1,
    });
    const r = await run;
    expect(r.code).toBe(0);
    const last = out.events
      .filter((e) => e.event === 'message' && e.direction === 'in' && !e.control)
      .at(-1);
    expect(last?.data).toBe('after the reconnect');
  });

  it.skipIf(!hasTmux())(
    'the REPL, typed: /sub, /pub with --qos and --retain, /unsub, /quit',
    async () => {
      await observer.request({ op: 'subscribe', topic: 'wsx/repl/#', qos: 2 });
      const t = new Terminal(['--dialect', 'mqtt', broker.url], {
        prefix: ['ip', 'netns', 'exec', ns.name],
      });
      try {
        await t.waitFor(/Connected to ws:\/\/127\.0\.0\.1:9001\/ \(subprotocol: mqtt\)/);
        t.type('/sub wsx/repl/in 1');
        t.press('Enter');
        await t.waitFor(/< SUBACK subscribed to wsx\/repl\/in \(qos 1\)/);
        await observer.request({
          op: 'publish',
          topic: 'wsx/repl/in',
          payload: '{"c":21.5}',
          qos: 1,
        });
        await t.waitFor(/< wsx\/repl\/in \(qos 1\) \{\n\s+"c": 21\.5\n\s+\}/);
        t.type('/pub wsx/repl/out hello there --qos 2 --retain');
        t.press('Enter');
        const got = await observer.waitFor(
          (e) => e.topic === 'wsx/repl/out',
          10_000,
          'the typed message',
        );
        expect(got).toMatchObject({ payload: 'hello there', qos: 2 });
        t.type('/unsub wsx/repl/in');
        t.press('Enter');
        await t.waitFor(/< UNSUBACK unsubscribed from wsx\/repl\/in/);
        t.type('/quit');
        t.press('Enter');
        expect((await t.exited()).code).toBe(0);
      } finally {
        t.kill();
      }
    },
  );

  // Last: it freezes the broker.
  it('a broker that stops answering PINGREQ is exit 1', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(['--keepalive', '1', '--json', '-w', '-1'], {
      onSpawn: (c) => {
        child = c;
      },
    });
    const out = jsonLines(child as ChildProcess);
    await out.until((e) => dialectOf(e)?.type === 'pingresp', 'a PINGRESP');
    process.kill(broker.pid as number, 'SIGSTOP');
    try {
      const r = await run;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: mqtt: no PINGRESP within 1 s/m);
    } finally {
      process.kill(broker.pid as number, 'SIGCONT');
    }
  });
});

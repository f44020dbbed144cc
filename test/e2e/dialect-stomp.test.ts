// The built CLI speaking STOMP to a real RabbitMQ (web-stomp, from Debian) inside a private
// network namespace, observed from the other side with @stomp/stompjs: what wsx publishes
// arrives exactly once, what the observer publishes wsx shows, ERROR frames are exit 5.

import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Broker,
  brokersAvailable,
  Netns,
  Observer,
  RABBITMQ_WS_PORT,
  type Run,
  startRabbitmq,
} from '../fixtures/brokers.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

const available = brokersAvailable('rabbitmq');

/** Lines of JSON output seen so far; resolves when one matches. */
function jsonLines(child: ChildProcess) {
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {}
      nl = buf.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  const until = (match: (e: Record<string, unknown>) => boolean, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`wsx never printed ${what}: ${JSON.stringify(events)}`)),
        15_000,
      );
      const check = () => {
        const hit = events.find(match);
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
const headersOf = (headers: unknown) => (headers ?? {}) as Record<string, string>;

describe.skipIf(!available)('stomp against RabbitMQ web-stomp', () => {
  let ns: Netns;
  let rabbit: Broker;
  let observer: Observer;

  beforeAll(async () => {
    ns = Netns.create();
    rabbit = await startRabbitmq(ns);
    observer = await Observer.start(ns, 'stomp', { url: rabbit.url });
  }, 90_000);

  afterAll(async () => {
    await observer?.close();
    await ns?.close();
  }, 30_000);

  const wsx = (args: string[], opts: Parameters<Netns['wsx']>[1] = {}): Promise<Run> =>
    ns.wsx(['--dialect', 'stomp', rabbit.url, ...args], opts);

  /** Every message the observer got on `dest`, once `sentinel` (sent after them) arrived. */
  async function receivedBefore(dest: string, sentinel: string): Promise<string[]> {
    const end = await wsx(['--vhost', '/', '-x', `/send ${dest} ${sentinel}`]);
    expect(end.code).toBe(0);
    await observer.waitFor(
      (e) => e.ev === 'message' && e.dest === dest && e.body === sentinel,
      10_000,
      `the sentinel on ${dest}`,
    );
    const bodies = observer
      .messages()
      .filter((e) => e.dest === dest)
      .map((e) => String(e.body));
    return bodies.slice(0, bodies.indexOf(sentinel));
  }

  it('publishes each piped line exactly once to --pub, then DISCONNECTs cleanly', async () => {
    await observer.request({ op: 'subscribe', dest: '/topic/wsx-pipe' });
    const r = await wsx(['--vhost', '/', '--auth', 'guest:guest', '--pub', '/topic/wsx-pipe'], {
      input: 'one\n{"n":2}\nthree with spaces \n',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await receivedBefore('/topic/wsx-pipe', 'end-1')).toEqual([
      'one',
      '{"n":2}',
      'three with spaces ',
    ]);
    const json = observer.messages().find((e) => e.body === '{"n":2}');
    expect(headersOf(json?.headers)['content-type']).toBe('application/json');
  });

  it('shows what the observer publishes: --sub, --count, raw bodies', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(
      ['--vhost', '/', '--sub', '/topic/wsx-in', '--count', '2', '--json', '-w', '-1'],
      {
        onSpawn: (c) => {
          child = c;
        },
      },
    );
    const out = jsonLines(child as ChildProcess);
    await out.until((e) => dialectOf(e)?.command === 'RECEIPT', 'the SUBSCRIBE receipt');
    await observer.request({ op: 'publish', dest: '/topic/wsx-in', body: '{"temp":21.5}' });
    await observer.request({ op: 'publish', dest: '/topic/wsx-in', body: 'line one\nline two' });
    const r = await run;
    expect(r.code).toBe(0);
    const messages = out.events.filter(
      (e) => e.event === 'message' && e.direction === 'in' && !e.control,
    );
    expect(messages.map((m) => m.data)).toEqual(['{"temp":21.5}', 'line one\nline two']);
    expect(dialectOf(messages[0] as Record<string, unknown>)).toMatchObject({
      command: 'MESSAGE',
      destination: '/topic/wsx-in',
      subscription: '1',
    });
  });

  it('pretty output: MESSAGE lines with the destination, the subscription and indented JSON', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(
      [
        '--vhost',
        '/',
        '--output',
        'pretty',
        '-x',
        '/sub /topic/wsx-pretty',
        '--count',
        '1',
        '-w',
        '-1',
      ],
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
        if (seen.includes('subscribed to /topic/wsx-pretty')) resolve();
      });
    });
    await observer.request({ op: 'publish', dest: '/topic/wsx-pretty', body: '{"c":21.5}' });
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.out).toContain('< MESSAGE /topic/wsx-pretty (sub 1) {\n    "c": 21.5\n  }\n');
  });

  it('--expect matches message bodies', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(
      ['--vhost', '/', '--sub', '/topic/wsx-expect', '--expect', '^ready:', '--json'],
      {
        onSpawn: (c) => {
          child = c;
        },
      },
    );
    const out = jsonLines(child as ChildProcess);
    await out.until((e) => dialectOf(e)?.command === 'RECEIPT', 'the SUBSCRIBE receipt');
    await observer.request({ op: 'publish', dest: '/topic/wsx-expect', body: 'not yet' });
    await observer.request({ op: 'publish', dest: '/topic/wsx-expect', body: 'ready: go' });
    const r = await run;
    expect(r.code).toBe(0);
  });

  it('an ERROR frame is exit 5 with its message and body; a vhost refusal hints --vhost /', async () => {
    const r = await wsx(['-x', 'never sent', '--pub', '/topic/x']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: stomp: Bad CONNECT$/m);
    expect(r.stderr).toContain("Virtual host '127.0.0.1' access denied");
    expect(r.stderr).toMatch(/^hint: .*--vhost \//m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a refused login is exit 5 naming the user', async () => {
    const r = await wsx(['--vhost', '/', '--auth', 'guest:wrong', '-x', '/send /topic/x hi']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: stomp: /m);
    expect(r.stderr).toContain("Access refused for user 'guest'");
  });

  it('--reconnect connects again and re-subscribes with the same ids after the connection drops', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(
      [
        '--vhost',
        '/',
        '--sub',
        '/topic/wsx-again',
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
    await out.until((e) => dialectOf(e)?.command === 'RECEIPT', 'the first receipt');
    expect(ns.dropConnections(child?.pid as number, RABBITMQ_WS_PORT)).toBe(1);
    await out.until((e) => e.event === 'close', 'the dropped connection');
    const at = out.events.findIndex((e) => e.event === 'close');
    await out.until(
      (e) => out.events.indexOf(e) > at && dialectOf(e)?.command === 'RECEIPT',
      'the receipt after reconnecting',
    );
    const resubscribed = out.events.slice(at).find((e) => dialectOf(e)?.command === 'SUBSCRIBE');
    expect(headersOf(dialectOf(resubscribed ?? {})?.headers).id).toBe('1');
    await observer.request({
      op: 'publish',
      dest: '/topic/wsx-again',
      body: 'after the reconnect',
    });
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/reconnecting/);
    const last = out.events
      .filter((e) => e.event === 'message' && e.direction === 'in' && !e.control)
      .at(-1);
    expect(last?.data).toBe('after the reconnect');
  });

  it.skipIf(!hasTmux())(
    'the REPL, typed: /sub, a MESSAGE shown, /send, /quit with DISCONNECT',
    async () => {
      await observer.request({ op: 'subscribe', dest: '/topic/wsx-repl' });
      const t = new Terminal(['--dialect', 'stomp', rabbit.url, '--vhost', '/'], {
        prefix: ['ip', 'netns', 'exec', ns.name],
      });
      try {
        await t.waitFor(/Connected to ws:\/\/127\.0\.0\.1:15674\/ws \(subprotocol: v12\.stomp/);
        t.type('/sub /topic/wsx-repl');
        t.press('Enter');
        await t.waitFor(/< RECEIPT subscribed to \/topic\/wsx-repl \(sub 1\)/);
        await observer.request({ op: 'publish', dest: '/topic/wsx-repl', body: '{"a":1}' });
        await t.waitFor(/< MESSAGE \/topic\/wsx-repl \(sub 1\) \{\n\s+"a": 1\n\s+\}/);
        t.type('/send /topic/wsx-repl typed by hand');
        t.press('Enter');
        await observer.waitFor((e) => e.body === 'typed by hand', 10_000, 'the typed message');
        t.type('/quit');
        t.press('Enter');
        const { code } = await t.exited();
        expect(code).toBe(0);
        expect(t.screen()).toContain('> [auto] DISCONNECT');
      } finally {
        t.kill();
      }
    },
  );

  it('client-individual acks: /nack redelivers, /ack settles (ack ids in the json "dialect")', async () => {
    await observer.request({ op: 'publish', dest: '/queue/wsx-jobs', body: 'job-1' });
    // Slash commands work from a pipe too (SPEC §17): the lines drive the conversation.
    const input = new PassThrough();
    let proc: ChildProcess | undefined;
    const run = wsx(['--vhost', '/', '--json'], {
      input,
      onSpawn: (c) => {
        proc = c;
      },
    });
    const out = jsonLines(proc as ChildProcess);
    input.write('/sub /queue/wsx-jobs client-individual\n');
    const first = await out.until(
      (e) => dialectOf(e)?.command === 'MESSAGE' && e.data === 'job-1',
      'the first delivery',
    );
    expect(dialectOf(first)?.ack).toBe(1);
    input.write('/nack 1\n');
    const again = await out.until(
      (e) => dialectOf(e)?.command === 'MESSAGE' && dialectOf(e)?.ack === 2,
      'the redelivery',
    );
    expect(again.data).toBe('job-1');
    expect(headersOf(dialectOf(again)?.headers).redelivered).toBe('true');
    input.write('/ack 2\n');
    input.end();
    const r = await run;
    expect(r.code).toBe(0);
    // Acked: nobody gets it again.
    await observer.request({ op: 'subscribe', dest: '/queue/wsx-jobs' });
    expect(await receivedBefore('/queue/wsx-jobs', 'end-jobs')).toEqual([]);
  });
  // Last: it freezes the broker for the length of two heart-beat intervals.
  it('a broker that stops sending heart-beats is exit 1', async () => {
    let child: ChildProcess | undefined;
    const run = wsx(['--vhost', '/', '--json', '-w', '-1'], {
      timeoutMs: 60_000,
      onSpawn: (c) => {
        child = c;
      },
    });
    const out = jsonLines(child as ChildProcess);
    await out.until((e) => dialectOf(e)?.command === 'CONNECTED', 'CONNECTED');
    const beams = ns.pidsNamed('beam.smp');
    expect(beams.length).toBeGreaterThan(0);
    for (const pid of beams) process.kill(pid, 'SIGSTOP');
    try {
      const r = await run;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: stomp: the broker sent no heart-beat for 20 s/m);
    } finally {
      for (const pid of beams) process.kill(pid, 'SIGCONT');
    }
  }, 60_000);
});

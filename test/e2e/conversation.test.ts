// Conversations end to end (SPEC §11): the built CLI against an exchange-style server that wants
// auth before subscribe and drops clients that do not answer its application pings. Ordering
// is proved from the server's side: its log says what arrived before and after its own replies.

import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ExchangeServer, exchangeServer, type LogEntry } from '../fixtures/exchange-server.js';
import { echoServer, type WsTestServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';

const AUTH = '{"op":"auth","token":"secret"}';
const SUB = '{"op":"subscribe","channel":"trades"}';
const PONG = '"op":"ping","id":(?<id>\\d+)=>{"op":"pong","id":{{id}}}';

/** Position of the first entry matching in the log (-1 if none). */
const at = (log: LogEntry[], dir: 'in' | 'out', op: string) =>
  log.findIndex((e) => e.dir === dir && e.op === op);

describe('ordered steps against a slow exchange (auth answers after 300 ms)', () => {
  let ex: ExchangeServer;
  beforeAll(async () => {
    ex = await exchangeServer({ authDelayMs: 300, trades: 3, tradeEveryMs: 10 });
  });
  afterAll(() => ex.close());

  it('sends subscribe only after auth_ok arrived, captures the session, exit 0', async () => {
    const before = ex.logs.length;
    const r = await runCli([
      ex.url,
      '-x',
      AUTH,
      '--await',
      '"op":"auth_ok","session":"(?<session>[^"]+)"',
      '-x',
      '{"op":"subscribe","channel":"trades","session":"{{session}}"}',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const log = ex.logs[before] as LogEntry[];
    const authOk = at(log, 'out', 'auth_ok');
    const subscribe = at(log, 'in', 'subscribe');
    expect(authOk).toBeGreaterThan(at(log, 'in', 'auth'));
    expect(subscribe).toBeGreaterThan(authOk);
    const sent = log[authOk]?.msg.session;
    expect(sent).toMatch(/^s-\d+$/);
    expect(log[subscribe]?.msg.session).toBe(sent);
    // Every trade was printed (raw: one payload per line).
    expect(r.out.split('\n').filter((l) => l.includes('"op":"trade"'))).toHaveLength(3);
  });

  it('without --await the same script loses the race: the server refuses (exit 3)', async () => {
    const before = ex.logs.length;
    const r = await runCli([ex.url, '-x', AUTH, '-x', SUB]);
    expect(r.code).toBe(3);
    const log = ex.logs[before] as LogEntry[];
    expect(at(log, 'in', 'subscribe')).toBeLessThan(
      at(log, 'out', 'auth_ok') === -1 ? Infinity : at(log, 'out', 'auth_ok'),
    );
  });

  it('an --await never met: exit 4 naming the regex and the timeout, then a 1000 close', async () => {
    const r = await runCli([
      ex.url,
      '-x',
      AUTH,
      '--await',
      'never-sent',
      '--await-timeout',
      '0.5',
      '-x',
      SUB,
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^error: --await \/never-sent\/ not matched within 0\.5 s$/m);
  });

  it('an --await when the connection ends first: exit 4, "the connection ended"', async () => {
    const r = await runCli([ex.url, '-x', '{"op":"auth","token":"wrong"}', '--await', 'auth_ok']);
    // The server closes with 4001 (exit 3), which outranks the unmet await (4): SPEC §11 order.
    expect([3, 4]).toContain(r.code);
    expect(r.stderr).toMatch(/error: --await \/auth_ok\/ not matched: the connection ended/);
  });
});

describe('application pings (dropped when not answered within 1 s)', () => {
  let ex: ExchangeServer;
  beforeAll(async () => {
    ex = await exchangeServer({
      pingEveryMs: 150,
      pongWithinMs: 1000,
      trades: 60,
      tradeEveryMs: 25,
    });
  });
  afterAll(() => ex.close());

  it('--reply answers every ping with its id: the stream runs to its end (exit 0)', async () => {
    const before = ex.logs.length;
    const r = await runCli(
      [ex.url, '-x', AUTH, '--await', 'auth_ok', '-x', SUB, '--reply', PONG, '--json'],
      { timeoutMs: 20_000 },
    );
    expect(r.code).toBe(0);
    const log = ex.logs[before] as LogEntry[];
    const pings = log.filter((e) => e.dir === 'out' && e.op === 'ping').map((e) => e.msg.id);
    const pongs = log.filter((e) => e.dir === 'in' && e.op === 'pong').map((e) => e.msg.id);
    expect(pings.length).toBeGreaterThan(3);
    // Each ping was answered, in order, before the next ping went out.
    expect(pongs).toEqual(pings.slice(0, pongs.length));
    expect(pings.length - pongs.length).toBeLessThanOrEqual(1);
    for (const [i, e] of log.entries()) {
      if (e.dir !== 'out' || e.op !== 'ping') continue;
      const answer = log.findIndex(
        (x) => x.dir === 'in' && x.op === 'pong' && x.msg.id === e.msg.id,
      );
      if (answer === -1) continue;
      const nextPing = log.findIndex((x, j) => j > i && x.dir === 'out' && x.op === 'ping');
      if (nextPing !== -1) expect(answer).toBeLessThan(nextPing);
    }
    expect(ex.closes.at(-1)).toEqual({ code: 1000, reason: 'done' });
    // json: the answers are marked automatic.
    const autos = r.out
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as { event: string; direction?: string; auto?: boolean; data?: string },
      )
      .filter((e) => e.event === 'message' && e.direction === 'out' && e.auto === true);
    expect(autos.length).toBe(pongs.length);
    expect(autos[0]?.data).toBe(`{"op":"pong","id":${pongs[0]}}`);
  });

  it('without --reply the server drops the client (4000, exit 3)', async () => {
    const r = await runCli([ex.url, '-x', AUTH, '--await', 'auth_ok', '-x', SUB, '-w', '-1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/4000 "ping 1 not answered"/);
  });

  it('the README example: auth, wait, subscribe, answer pings, one field per trade', async () => {
    const r = await runCli(
      [
        ex.url,
        '-x',
        AUTH,
        '--await',
        '"op":"auth_ok"',
        '-x',
        SUB,
        '--reply',
        PONG,
        '--filter',
        'select(.op == "trade") | .price',
      ],
      { timeoutMs: 20_000 },
    );
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(60);
    expect(lines.slice(0, 3)).toEqual(['100.5', '101', '101.5']);
  });

  it('pretty output marks the answers [auto]; --hide-ping-pong hides them', async () => {
    const args = [ex.url, '-x', AUTH, '--await', 'auth_ok', '-x', SUB, '--reply', PONG];
    const shown = await runCli([...args, '--output', 'pretty', '--no-pretty-json'], {
      timeoutMs: 20_000,
    });
    expect(shown.out).toMatch(/^> \[auto\] \{"op":"pong","id":1\}$/m);
    const hidden = await runCli([...args, '--output', 'pretty', '--hide-ping-pong'], {
      timeoutMs: 20_000,
    });
    expect(hidden.code).toBe(0);
    expect(hidden.out).not.toMatch(/\[auto\]/);
  });
});

describe('templates, heartbeats, --var', () => {
  let echo: WsTestServer;
  let got: string[][];
  beforeAll(async () => {
    got = [];
    echo = await echoServer();
    echo.wss.on('connection', (ws) => {
      const mine: string[] = [];
      got.push(mine);
      ws.on('message', (d) => mine.push(d.toString()));
    });
  });
  afterAll(() => echo.close());

  it('fills in env, --var, uuid, unix and seq; \\{{ stays literal', async () => {
    const r = await runCli(
      [
        echo.url,
        '--var',
        'room=lobby=1',
        '-x',
        '{"t":"{{env.WSX_TEST_TOKEN}}","room":"{{room}}","n":{{seq}}}',
        '-x',
        '{{seq}} {{uuid}} {{unix}} \\{{kept}}',
        '-w',
        '0.3',
      ],
      { env: { WSX_TEST_TOKEN: 'tok-1' } },
    );
    expect(r.code).toBe(0);
    const mine = got.at(-1) ?? [];
    expect(mine[0]).toBe('{"t":"tok-1","room":"lobby=1","n":1}');
    expect(mine[1]).toMatch(
      /^2 [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} \d{10} \{\{kept\}\}$/,
    );
  });

  it.each([
    [['-x', '{{env.WSX_SURELY_UNSET}}'], /environment variable WSX_SURELY_UNSET is not set/],
    [['-x', '{{nobody}}'], /unknown template variable \{\{nobody\}\}/],
    [['-x', '{{tok}}', '--await', '(?<tok>x)'], /captured by an --await that comes after this -x/],
    [['--reply', 'no arrow'], /--reply takes 'REGEX=>TEMPLATE'/],
    [['--heartbeat', 'soon:x'], /--heartbeat takes 'SECONDS:TEMPLATE'/],
    [['--var', 'noequals'], /--var takes NAME=VALUE/],
    [['--await', '('], /--await: invalid regular expression/],
  ])('%j is a usage error before connecting (exit 2)', async (args, message) => {
    const before = got.length;
    const r = await runCli([echo.url, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(got.length).toBe(before);
  });

  it('--heartbeat sends its template every period, numbered by {{seq}}, shown as [auto]', async () => {
    const r = await runCli([
      echo.url,
      '--heartbeat',
      '0.1:{"op":"hb","n":{{seq}}}',
      '-x',
      'start',
      '-w',
      '0.55',
      '--output',
      'pretty',
      '--no-pretty-json',
    ]);
    expect(r.code).toBe(0);
    const mine = got.at(-1) ?? [];
    expect(mine[0]).toBe('start');
    const beats = mine.slice(1);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    // seq counts every message wsx sent: the -x was 1.
    expect(beats.map((b) => (JSON.parse(b) as { n: number }).n)).toEqual(
      beats.map((_, i) => i + 2),
    );
    expect(r.out).toMatch(/^> \[auto\] \{"op":"hb","n":2\}$/m);
  });

  it('--template fills in piped lines; without it they go as typed', async () => {
    await runCli([echo.url, '--template', '-w', '0.2'], { input: 'a {{seq}}\nb {{seq}}\n' });
    expect(got.at(-1)).toEqual(['a 1', 'b 2']);
    await runCli([echo.url, '-w', '0.2'], { input: 'a {{seq}}\n' });
    expect(got.at(-1)).toEqual(['a {{seq}}']);
  });

  it('piped lines wait for an --await without -x', async () => {
    // The first application ping comes 300 ms after connecting, unprompted.
    const server = await exchangeServer({ pingEveryMs: 300 });
    try {
      const r = await runCli([server.url, '--await', '"op":"ping"', '--reply', PONG, '-w', '0.2'], {
        input: `${AUTH}\n`,
      });
      expect(r.code).toBe(0);
      const log = server.logs[0] as LogEntry[];
      expect(at(log, 'out', 'ping')).toBeGreaterThan(-1);
      expect(at(log, 'in', 'auth')).toBeGreaterThan(at(log, 'out', 'ping'));
    } finally {
      await server.close();
    }
  });
});

describe('listen mode: --reply and steps for each client', () => {
  it('answers every client, runs the steps per client', async () => {
    let child: ChildProcess | undefined;
    const run = runCli(
      [
        '-l',
        '0',
        '--reply',
        '^ping (?<n>\\d+)$=>pong {{n}}',
        '-x',
        'hello',
        '--await',
        '^ready$',
        '-x',
        'go',
      ],
      { onSpawn: (c) => (child = c), timeoutMs: 15_000 },
    );
    const port = await new Promise<number>((resolve) => {
      let err = '';
      child?.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /Listening on ws:\/\/[^:]+:(\d+)\//.exec(err);
        if (m) resolve(Number(m[1]));
      });
    });
    const talk = async (n: number) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('message', (d) => {
          const text = d.toString();
          seen.push(text);
          if (text === 'hello') ws.send(`ping ${n}`);
          if (text === `pong ${n}`) ws.send('ready');
          if (text === 'go') resolve();
        });
      });
      ws.close();
      return seen;
    };
    const [a, b] = await Promise.all([talk(1), talk(2)]);
    expect(a).toEqual(['hello', 'pong 1', 'go']);
    expect(b).toEqual(['hello', 'pong 2', 'go']);
    child?.kill('SIGTERM');
    const r = await run;
    expect(r.code).toBe(143);
  });
});

describe('--reconnect', () => {
  it('runs the steps again on the new connection, captures reset, {{seq}} counting on', async () => {
    const ex = await exchangeServer({ restartFirst: 1, trades: 2, tradeEveryMs: 10 });
    try {
      const r = await runCli(
        [
          ex.url,
          '--reconnect',
          '3',
          '-x',
          '{"op":"auth","token":"secret","n":{{seq}}}',
          '--await',
          '"session":"(?<session>[^"]+)"',
          '-x',
          '{"op":"subscribe","channel":"trades","session":"{{session}}","n":{{seq}}}',
        ],
        { timeoutMs: 20_000 },
      );
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/reconnecting in/);
      expect(ex.logs).toHaveLength(2);
      const [first, second] = ex.logs as [LogEntry[], LogEntry[]];
      for (const log of [first, second]) {
        expect(at(log, 'in', 'subscribe')).toBeGreaterThan(at(log, 'out', 'auth_ok'));
      }
      const sub = (log: LogEntry[]) => log[at(log, 'in', 'subscribe')]?.msg;
      const auth = (log: LogEntry[]) => log[at(log, 'in', 'auth')]?.msg;
      // Each connection's own session: the capture of the first is not reused.
      expect(sub(first)?.session).toBe(first[at(first, 'out', 'auth_ok')]?.msg.session);
      expect(sub(second)?.session).toBe(second[at(second, 'out', 'auth_ok')]?.msg.session);
      expect(sub(second)?.session).not.toBe(sub(first)?.session);
      expect([auth(first)?.n, sub(first)?.n, auth(second)?.n, sub(second)?.n]).toEqual([
        1, 2, 3, 4,
      ]);
    } finally {
      await ex.close();
    }
  });
});

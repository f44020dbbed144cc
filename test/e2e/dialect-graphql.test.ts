// The built CLI speaking GraphQL over WebSocket to the graphql-ws library (graphql-transport-ws)
// and to Apollo's subscriptions-transport-ws (legacy graphql-ws): operations with ids, variables,
// results in every rendering, errors as exit 5, a refused connection_init, --count completing
// the operations, and /ops and /stop in a REPL.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type GraphqlFixture, startGraphqlServer } from '../fixtures/graphql-server.js';
import { runCli } from '../helpers/cli.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('graphql dialect against graphql-ws (graphql-transport-ws)', () => {
  let s: GraphqlFixture;
  beforeAll(async () => {
    s = await startGraphqlServer('graphql-ws', { token: 'secret' });
  });
  afterAll(() => s.close());

  it('runs queries and a subscription with ids 1, 2, 3, then ends when all completed', async () => {
    s.log.length = 0;
    const r = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"secret"}',
      '--variables',
      '{"name":"ann"}',
      '-x',
      '{ hello }',
      '-x',
      'subscription { ticks(n: 3) }',
      '-x',
      'query Q($name: String!) { greet(name: $name) }',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Raw: each next payload as one JSON line.
    expect(lines(r.out).sort()).toEqual(
      [
        '{"data":{"hello":"world"}}',
        '{"data":{"greet":"hello ann"}}',
        '{"data":{"ticks":1}}',
        '{"data":{"ticks":2}}',
        '{"data":{"ticks":3}}',
      ].sort(),
    );
    expect(s.log).toContain('init {"token":"secret"}');
    expect(s.log).toContain('subscribe 1 { hello }');
    expect(s.log).toContain('subscribe 2 subscription { ticks(n: 3) }');
    expect(s.log).toContain('subscribe 3 query Q($name: String!) { greet(name: $name) }');
  });

  it('pretty shows [id next] and [id complete]; json carries the dialect object', async () => {
    const pretty = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      '{ hello }',
      '--output',
      'pretty',
      '--no-pretty-json',
    ]);
    expect(pretty.code).toBe(0);
    expect(pretty.out).toContain('(subprotocol: graphql-transport-ws)');
    expect(pretty.out).toContain('< [1 next] {"data":{"hello":"world"}}');
    expect(pretty.out).toContain('< [1 complete]');
    const json = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      '{ hello }',
      '--json',
    ]);
    const events = lines(json.out).map((l) => JSON.parse(l) as { dialect?: unknown });
    expect(events.map((e) => e.dialect)).toContainEqual({
      type: 'next',
      id: '1',
      payload: { data: { hello: 'world' } },
    });
  });

  it('an error message or a result with errors is exit 5 with the message', async () => {
    const invalid = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      '{ nope }',
    ]);
    expect(invalid.code).toBe(5);
    expect(invalid.stderr).toMatch(/error: GraphQL operation 1 failed: Cannot query field "nope"/);
    const boom = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      '{ boom }',
    ]);
    expect(boom.code).toBe(5);
    expect(boom.stderr).toContain('error: GraphQL operation 1: kaboom');
  });

  it('a refused connection_init closes with 4403: exit 3, the document never sent', async () => {
    s.log.length = 0;
    const r = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"wrong"}',
      '-x',
      '{ hello }',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Disconnected: 4403 "Forbidden"');
    expect(s.log.some((l) => l.startsWith('subscribe'))).toBe(false);
  });

  it('--count n takes n results, then completes the running subscription and closes cleanly', async () => {
    s.log.length = 0;
    const r = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      'subscription { ticks(ms: 50) }',
      '--count',
      '2',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('{"data":{"ticks":1}}\n{"data":{"ticks":2}}\n');
    await vi.waitFor(
      () => expect(s.log).toEqual(expect.arrayContaining(['complete 1', 'close 1000'])),
      {
        timeout: 3000,
      },
    );
  });

  it('a document split over piped lines is sent once its braces balance', async () => {
    s.log.length = 0;
    const r = await runCli(['--dialect', 'graphql', s.url, '--init', '{"token":"secret"}'], {
      input: 'query {\n  greet(name: "bo")\n}\n',
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe('{"data":{"greet":"hello bo"}}\n');
    expect(s.log).toContain('subscribe 1 query { greet(name: "bo") }');
  });
});

describe('graphql and --reconnect', () => {
  it('a dropped connection: the handshake again, the running subscription again with its id', async () => {
    const s = await startGraphqlServer('graphql-ws', { dropFirstAfterMs: 300 });
    try {
      const r = await runCli([
        '--dialect',
        'graphql',
        s.url,
        '--reconnect',
        '2',
        '-x',
        'subscription { ticks(n: 4, ms: 150) }',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('reconnecting');
      // Once on each connection, with the same id (the re-sent -x line does not run it twice).
      expect(s.log.filter((l) => l.startsWith('subscribe'))).toEqual([
        'subscribe 1 subscription { ticks(n: 4, ms: 150) }',
        'subscribe 1 subscription { ticks(n: 4, ms: 150) }',
      ]);
      expect(s.log.filter((l) => l.startsWith('init'))).toHaveLength(2);
      // The second connection's results, all of them, end the run.
      expect(r.out.endsWith('{"data":{"ticks":3}}\n{"data":{"ticks":4}}\n')).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('graphql dialect against subscriptions-transport-ws (legacy graphql-ws)', () => {
  let s: GraphqlFixture;
  beforeAll(async () => {
    s = await startGraphqlServer('subscriptions-transport-ws', { token: 'secret', keepAlive: 200 });
  });
  afterAll(() => s.close());

  it('detected from -s graphql-ws: start/data/complete, keep-alives shown as control', async () => {
    const r = await runCli([
      '-s',
      'graphql-ws',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      'subscription { ticks(n: 2, ms: 300) }',
      '--output',
      'pretty',
      '--no-pretty-json',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('dialect: graphql (graphql-ws); --dialect none for plain frames');
    expect(r.out).toContain('> [1 start] subscription { ticks(n: 2, ms: 300) }');
    expect(r.out).toContain('< [ka]');
    expect(r.out).toContain('< [1 next] {"data":{"ticks":2}}');
    expect(r.out).toContain('< [1 complete]');
    expect(s.log).toContain('subscribe 1 subscription { ticks(n: 2, ms: 300) }');
  });

  it('--dialect graphql alone: refused graphql-transport-ws, retried once offering graphql-ws (SPEC §17)', async () => {
    const r = await runCli([
      '--dialect',
      'graphql',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      '{ hello }',
      '--output',
      'pretty',
      '--no-pretty-json',
    ]);
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\[1 next\] \{"data":\{"hello":/);
    // Two handshakes: the first offered graphql-transport-ws, the retry graphql-ws alone.
    expect(r.out.match(/^Connected to /gm)?.length).toBe(2);
  });

  it('connection_error is exit 5; --hide-ping-pong hides keep-alives, not complete', async () => {
    const bad = await runCli([
      '--dialect',
      'graphql',
      '-s',
      'graphql-ws',
      s.url,
      '--init',
      '{"token":"x"}',
      '-x',
      '{ hello }',
    ]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain('error: GraphQL connection_error: not authorised');
    const quiet = await runCli([
      '--dialect',
      'graphql',
      '-s',
      'graphql-ws',
      s.url,
      '--init',
      '{"token":"secret"}',
      '-x',
      'subscription { ticks(n: 2, ms: 300) }',
      '--output',
      'pretty',
      '--hide-ping-pong',
    ]);
    expect(quiet.code).toBe(0);
    expect(quiet.out).not.toContain('[ka]');
    expect(quiet.out).toContain('[1 next]');
    // Heartbeats only: the operation's complete is not a keep-alive.
    expect(quiet.out).toContain('< [1 complete]');
  });
});

describe.runIf(hasTmux())('graphql in the REPL', () => {
  it('a multi-line subscription, /ops, /stop', async () => {
    const s = await startGraphqlServer('graphql-ws');
    const t = new Terminal(['--dialect', 'graphql', s.url, '--no-history']);
    try {
      await t.waitFor(/\[connection_ack\]/);
      t.type('subscription {');
      t.press('Enter');
      // The braces are not balanced yet: the continuation prompt.
      await t.waitFor(/^… $/m);
      t.type('  ticks(ms: 400)');
      t.press('Enter');
      t.type('}');
      t.press('Enter');
      await t.waitFor(/< \[1 next\] \{/);
      t.type('/ops');
      t.press('Enter');
      await t.waitFor(/^1 {2}subscription \{ ticks\(ms: 400\) \}/m);
      t.type('/stop 1');
      t.press('Enter');
      await vi.waitFor(() => expect(s.log).toContain('complete 1'), { timeout: 5000 });
      t.type('/ops');
      t.press('Enter');
      await t.waitFor(/no active operations/);
      t.type('/quit');
      t.press('Enter');
      expect((await t.exited()).code).toBe(0);
    } finally {
      t.kill();
      await s.close();
    }
  });
});

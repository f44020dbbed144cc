// Views end to end (SPEC §14, §17): --decode against a publisher whose frames come from the
// reference libraries (zlib, @msgpack/msgpack, cbor-x, protobufjs), --encode checked by the same
// libraries on the server, --filter with real jq programs, and the usage errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeRecord,
  GARBAGE,
  PROTO_FILE,
  type Publisher,
  publisher,
  RECORDS,
} from '../fixtures/publisher.js';
import { type WsTestServer, wsServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

interface JsonEvent {
  event: string;
  direction?: string;
  type?: string;
  base64?: string;
  decoded?: unknown;
  codec?: string;
  filtered?: unknown[];
  note?: string;
  data?: string;
}

const events = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JsonEvent);
const incoming = (out: string) =>
  events(out).filter((e) => e.event === 'message' && e.direction === 'in');

let pub: Publisher;
beforeAll(async () => {
  pub = await publisher();
});
afterAll(() => pub.close());

describe('--decode', () => {
  it('msgpack: values as JSON, a uint64 beyond 2^53 as a decimal string; garbage → note', async () => {
    const r = await runCli([`${pub.url}msgpack`, '--decode', 'msgpack', '--json']);
    expect(r.code).toBe(0);
    const msgs = incoming(r.out);
    expect(msgs).toHaveLength(3);
    expect(msgs[0]?.codec).toBe('msgpack');
    expect(msgs[0]?.decoded).toEqual({ ...RECORDS[0], ts_ms: 1764592245123 });
    expect(msgs[1]?.decoded).toEqual({ ...RECORDS[1], trade_id: 7, ts_ms: 1764592245124 });
    expect(msgs[2]?.decoded).toBeUndefined();
    expect(msgs[2]?.base64).toBe(GARBAGE.toString('base64'));
    expect(msgs[2]?.note).toMatch(/^did not decode as msgpack: /);
  });

  it('cbor: pretty shows the decoded JSON; the frame that is not CBOR as hex with a note', async () => {
    const r = await runCli([
      `${pub.url}cbor`,
      '--decode',
      'cbor',
      '--output',
      'pretty',
      '--no-pretty-json',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('"trade_id":"9007199254740993"');
    expect(r.out).toContain('"symbol":"ETH-USD"');
    expect(r.out).toMatch(/c1 ff 00 13 37/);
    expect(r.out).toMatch(/did not decode as cbor/);
  });

  it('protobuf: .proto field names, 64-bit integers as strings, enums by name', async () => {
    const r = await runCli([
      `${pub.url}protobuf`,
      '--decode',
      'protobuf',
      '--proto',
      PROTO_FILE,
      '--type',
      'market.Trade',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const msgs = incoming(r.out);
    expect(msgs[0]?.decoded).toEqual(RECORDS[0]);
    expect(msgs[1]?.decoded).toEqual(RECORDS[1]);
    expect(msgs[2]?.note).toMatch(/did not decode as protobuf/);
  });

  it('gzip: raw output keeps the bytes; --decode-raw writes the JSON lines', async () => {
    const kept = await runCli([`${pub.url}gzip`, '--decode', 'gzip']);
    expect(kept.code).toBe(0);
    const frames = Buffer.concat([...RECORDS.map((rec) => encodeRecord('gzip', rec)), GARBAGE]);
    expect(kept.stdout.equals(frames)).toBe(true);
    const decoded = await runCli([
      `${pub.url}gzip`,
      '--decode',
      'gzip',
      '--decode-raw',
      '--binary-as',
      'hex',
    ]);
    const lines = decoded.out.trim().split('\n');
    expect(lines.slice(0, 2).map((l) => (JSON.parse(l) as { symbol: string }).symbol)).toEqual([
      'BTC-USD',
      'ETH-USD',
    ]);
    // The frame that did not decode stays a binary message (hex with --binary-as hex).
    expect(lines[2]).toBe(GARBAGE.toString('hex'));
  });

  it.each(['deflate', 'deflate-raw'])('deflate reads %s streams', async (path) => {
    const r = await runCli([`${pub.url}${path}`, '--decode', 'deflate', '--filter', '.symbol']);
    expect(r.code).toBe(0);
    // The frame that is not deflate is not JSON either: it passes unchanged (raw: its bytes).
    expect(r.stdout.equals(Buffer.concat([Buffer.from('"BTC-USD"\n"ETH-USD"\n'), GARBAGE]))).toBe(
      true,
    );
  });
});

describe('--encode', () => {
  it.each([
    ['msgpack', []],
    ['cbor', []],
    ['gzip', []],
    ['deflate', []],
    ['protobuf', ['--proto', PROTO_FILE, '--type', 'Trade']],
  ])(
    '%s: -x JSON goes out in that form (decoded by the reference library)',
    async (codec, extra) => {
      const before = pub.received.length;
      const value = { symbol: 'SOL-USD', price: 9.5, tags: ['x'] };
      const r = await runCli([
        `${pub.url}${codec}?listen`,
        '--encode',
        codec,
        ...extra,
        '-x',
        JSON.stringify(value),
        '--expect',
        '"got"',
      ]);
      expect(r.code).toBe(0);
      const got = pub.received.slice(before);
      expect(got).toHaveLength(1);
      expect(got[0]?.value).toMatchObject(value);
    },
  );

  it('piped lines that are not JSON stop the run with a usage error (exit 2)', async () => {
    const r = await runCli([`${pub.url}msgpack?listen`, '--encode', 'msgpack'], {
      input: 'not json\n',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--encode msgpack: not JSON/);
  });
});

describe('--filter', () => {
  it('shows each output value as compact JSON; --count counts values, not messages', async () => {
    const r = await runCli([
      `${pub.url}msgpack`,
      '--decode',
      'msgpack',
      '--filter',
      '.symbol, .price',
      '--count',
      '4',
    ]);
    expect(r.code).toBe(0);
    // Two messages give four values: the run ends there, before the third frame is shown.
    expect(r.out).toBe('"BTC-USD"\n101.5\n"ETH-USD"\n3.25\n');
  });

  it('--expect sees the filtered output', async () => {
    const r = await runCli([
      `${pub.url}cbor`,
      '--decode',
      'cbor',
      '--filter',
      '{s: .symbol, big: (.trade_id | tostring | length > 10)}',
      '--expect',
      '"big":true',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('{"s":"BTC-USD","big":true}\n');
  });

  it('empty hides a message; json carries the values in "filtered"', async () => {
    const r = await runCli([
      `${pub.url}protobuf`,
      '--decode',
      'protobuf',
      '--proto',
      PROTO_FILE,
      '--type',
      'market.Trade',
      '--filter',
      'select(.side == "BUY") | .tags | length',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const msgs = incoming(r.out);
    expect(msgs.map((m) => m.filtered)).toEqual([[], [0], undefined]);
  });

  it('a jq runtime error is a warning; the run goes on', async () => {
    const r = await runCli([
      `${pub.url}msgpack`,
      '--decode',
      'msgpack',
      '--filter',
      '.tags | .[0] | ascii_downcase',
    ]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith('"a"\n')).toBe(true);
    expect(r.stderr).toMatch(/^warning: --filter: jq: explode input must be a string$/m);
  });
});

describe('usage errors (exit 2, before connecting)', () => {
  it.each([
    [
      ['--filter', '.a |'],
      /--filter: jq: syntax error, unexpected end of file at line 1, column 4/,
    ],
    [['--filter', 'map(.x'], /--filter: jq: syntax error.* at line 1/],
    [['--decode', 'zip'], /--decode takes gzip, deflate, msgpack, cbor, protobuf, not 'zip'/],
    [['--decode', 'protobuf'], /protobuf needs the message definition: --proto/],
    [
      ['--decode', 'protobuf', '--proto', '/nonexistent.proto', '--type', 'X'],
      /--proto \/nonexistent.proto: no such file/,
    ],
    [
      ['--decode', 'protobuf', '--proto', PROTO_FILE, '--type', 'market.Nope'],
      /--type market.Nope: no such message type/,
    ],
    [['--proto', PROTO_FILE], /--proto is for --decode protobuf or --encode protobuf/],
    [['--decode-raw'], /--decode-raw needs --decode/],
    [
      ['--encode', 'cbor', '-x', 'not json'],
      /-x 'not json' is not JSON, so --encode cbor cannot send it/,
    ],
  ])('%j', async (args, message) => {
    const r = await runCli([`${pub.url}msgpack`, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.runIf(hasTmux())('/filter in the REPL (a real terminal)', () => {
  let server: WsTestServer;
  let terminal: Terminal | undefined;
  beforeAll(async () => {
    server = await wsServer((ws) =>
      ws.on('message', (d) => {
        const m = /^tick (\d+)$/.exec(d.toString());
        if (m) ws.send(JSON.stringify({ n: Number(m[1]), name: 'x', deep: { v: [1, 2] } }));
      }),
    );
  });
  afterAll(async () => {
    terminal?.kill();
    await server.close();
  });

  it('sets, replaces, keeps on a bad program, survives /reconnect, and clears', async () => {
    const t = new Terminal([server.url, '--no-history', '--no-pretty-json']);
    terminal = t;
    await t.waitFor(/Connected to .*\n> $/m);
    t.type('/filter .n');
    t.press('Enter');
    await t.waitFor(/^filter: \.n$/m);
    t.type('tick 1');
    t.press('Enter');
    await t.waitFor(/^< 1$/m);
    t.type('/filter {name, v: .deep.v[1]}');
    t.press('Enter');
    t.type('tick 2');
    t.press('Enter');
    await t.waitFor(/^< \{"name":"x","v":2\}$/m);
    t.type('/filter .deep |');
    t.press('Enter');
    await t.waitFor(
      /error: \/filter: jq: syntax error, unexpected end of file at line 1, column 7/,
    );
    t.type('/reconnect');
    t.press('Enter');
    await t.waitFor(/reconnecting…[\s\S]*Connected to/);
    t.type('tick 3');
    t.press('Enter');
    await t.waitFor(/^< \{"name":"x","v":2\}$[\s\S]*^< \{"name":"x","v":2\}$/m);
    t.type('/filter');
    t.press('Enter');
    await t.waitFor(/^filter cleared \(was: \{name, v: \.deep\.v\[1\]\}\)$/m);
    t.type('tick 4');
    t.press('Enter');
    await t.waitFor(/^< \{"n":4,"name":"x","deep":\{"v":\[1,2\]\}\}$/m);
    t.press('C-d');
    expect((await t.exited()).code).toBe(0);
  });
});

// The stomp dialect against a fake peer: CONNECT headers, held input, subscriptions and their
// receipts, MESSAGE views, ack modes, heart-beats sent and checked, ERROR → exit 5, DISCONNECT
// with a receipt, and re-subscribing after a reconnect.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DialectFlags } from '../../src/dialects/options.js';
import { parseDialectOptions } from '../../src/dialects/options.js';
import {
  DISCONNECT_WAIT_MS,
  defaultHost,
  initHeaders,
  negotiateHeartbeat,
  parseHeartbeat,
  parseSendArgs,
  parseSubArgs,
  StompDialect,
  type StompState,
  stomp,
} from '../../src/dialects/stomp.js';
import {
  encodeFrame,
  header,
  StompDecoder,
  type StompFrame,
} from '../../src/dialects/stomp-frame.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

function setup(
  flags: DialectFlags = {},
  opts: { url?: string; protocol?: string; state?: StompState } = {},
) {
  const peer = new FakePeer({
    url: opts.url ?? 'ws://broker.example:15674/ws',
    protocol: opts.protocol ?? 'v12.stomp',
  });
  const verbose: string[] = [];
  const ctx = fakeContext(verbose);
  const state = opts.state ?? stomp.initialState();
  const options = parseDialectOptions({ dialect: 'stomp', ...flags });
  const d = new StompDialect(peer, { options, state, ctx });
  const seen = watch(d);
  d.start();
  /** Frames sent so far, decoded as a broker would. */
  const sent = (): StompFrame[] => {
    const dec = new StompDecoder(() => '1.2');
    return peer.sent.flatMap((f) =>
      dec.push(f.data).flatMap((x) => (x === 'heartbeat' ? [] : [x.frame])),
    );
  };
  const deliver = (command: string, headers: Array<[string, string]> = [], body = '') =>
    peer.deliver(
      Buffer.concat([encodeFrame({ command, headers, body }, '1.2'), Buffer.from('\n')]),
      false,
    );
  const connected = (hb = '0,0', version = '1.2') =>
    deliver('CONNECTED', [
      ['version', version],
      ['heart-beat', hb],
    ]);
  return { peer, d, seen, sent, deliver, connected, verbose, state };
}

describe('stomp helpers', () => {
  it('defaults the host header to the URL host name without the port', () => {
    expect(defaultHost('ws://rabbit.local:15674/ws')).toBe('rabbit.local');
    expect(defaultHost('wss://[::1]:443/')).toBe('::1');
  });

  it('negotiates heart-beats as STOMP 1.1 says', () => {
    expect(parseHeartbeat('10000,5000')).toEqual([10000, 5000]);
    expect(parseHeartbeat(undefined)).toEqual([0, 0]);
    expect(parseHeartbeat('x')).toEqual([0, 0]);
    expect(negotiateHeartbeat([10000, 10000], [4000, 20000])).toEqual({
      sendMs: 20000,
      expectMs: 10000,
    });
    expect(negotiateHeartbeat([10000, 10000], [0, 0])).toEqual({ sendMs: 0, expectMs: 0 });
    expect(negotiateHeartbeat([0, 10000], [5000, 5000])).toEqual({ sendMs: 0, expectMs: 10000 });
  });

  it('parses /sub and /send arguments', () => {
    expect(parseSubArgs('/topic/x')).toEqual({ destination: '/topic/x', ack: 'auto' });
    expect(parseSubArgs('/queue/a client-individual')).toEqual({
      destination: '/queue/a',
      ack: 'client-individual',
    });
    expect(() => parseSubArgs('')).toThrow(/needs a destination/);
    expect(() => parseSubArgs('/q sometimes')).toThrow(/unknown ack mode/);
    expect(parseSendArgs('/queue/a  hello  world ')).toEqual({
      destination: '/queue/a',
      body: ' hello  world ',
    });
    expect(() => parseSendArgs('')).toThrow(/needs a destination/);
  });
});

describe('stomp dialect', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends CONNECT with accept-version, host, login, passcode and heart-beat', () => {
    const { sent, verbose } = setup({ auth: 'guest:s3cret' });
    const [connect] = sent();
    expect(connect?.command).toBe('CONNECT');
    expect(connect?.headers).toEqual([
      ['accept-version', '1.0,1.1,1.2'],
      ['host', 'broker.example'],
      ['login', 'guest'],
      ['passcode', 's3cret'],
      ['heart-beat', '10000,10000'],
    ]);
    expect(verbose.join('\n')).toContain('passcode:****');
    expect(verbose.join('\n')).not.toContain('s3cret');
  });

  it('events show the CONNECT frame with the passcode masked (json output, --record)', () => {
    const { seen, peer } = setup({ auth: 'guest:s3cret' });
    expect(peer.sent[0]?.text).toContain('passcode:s3cret');
    expect(seen.sent[0]?.text).toContain('passcode:****');
    expect(seen.sent[0]?.text).not.toContain('s3cret');
  });

  it('uses --vhost as the host header', () => {
    const { sent } = setup({ vhost: '/' });
    expect(sent()[0] && header(sent()[0] as StompFrame, 'host')).toBe('/');
  });

  it('holds lines until CONNECTED, then SENDs them to --pub in order', () => {
    const { d, sent, connected } = setup({ pub: '/queue/a' });
    d.input('one', false);
    d.input('{"n":2}', false);
    d.input('/send /topic/t three', false);
    expect(sent()).toHaveLength(1);
    expect(d.outstanding()).toBe(3);
    connected();
    const sends = sent().slice(1);
    expect(sends.map((f) => [header(f, 'destination'), f.body.toString()])).toEqual([
      ['/queue/a', 'one'],
      ['/queue/a', '{"n":2}'],
      ['/topic/t', 'three'],
    ]);
    expect(sends.map((f) => header(f, 'content-type'))).toEqual([
      'text/plain',
      'application/json',
      'text/plain',
    ]);
    expect(d.outstanding()).toBe(0);
  });

  it('refuses a line without --pub, naming the way out', () => {
    const { d, seen, connected } = setup();
    connected();
    d.input('hello', false);
    expect(seen.errors).toEqual([
      expect.objectContaining({ kind: 'usage', message: expect.stringMatching(/destination/) }),
    ]);
  });

  it('subscribes --sub after CONNECTED with a receipt, and shows MESSAGE frames', () => {
    const { sent, connected, deliver, seen } = setup({ sub: ['/topic/x', '/queue/y'] });
    connected();
    const subs = sent().filter((f) => f.command === 'SUBSCRIBE');
    expect(subs.map((f) => [header(f, 'id'), header(f, 'destination'), header(f, 'ack')])).toEqual([
      ['1', '/topic/x', 'auto'],
      ['2', '/queue/y', 'auto'],
    ]);
    deliver('RECEIPT', [['receipt-id', header(subs[0] as StompFrame, 'receipt') ?? '']]);
    const receipt = seen.messages.at(-1)?.view;
    expect(receipt?.control).toBe(true);
    expect(receipt?.heartbeat).toBeUndefined();
    expect(receipt?.body).toBe('subscribed to /topic/x (sub 1)');
    deliver(
      'MESSAGE',
      [
        ['subscription', '1'],
        ['destination', '/topic/x'],
        ['message-id', 'm-1'],
      ],
      '{"c":21.5}',
    );
    const m = seen.messages.at(-1);
    expect(m?.view?.label).toBe('MESSAGE /topic/x (sub 1)');
    expect(m?.view?.text).toBe('{"c":21.5}');
    expect(m?.view?.control).toBeUndefined();
    expect(m?.data.toString()).toBe('{"c":21.5}');
    expect(m?.view?.dialect).toMatchObject({
      command: 'MESSAGE',
      destination: '/topic/x',
      subscription: '1',
      headers: { 'message-id': 'm-1' },
    });
  });

  it('shows binary bodies as hex, not as text', () => {
    const { connected, peer, seen } = setup({ sub: ['/q'] });
    connected();
    peer.deliver(
      encodeFrame(
        {
          command: 'MESSAGE',
          headers: [
            ['subscription', '1'],
            ['destination', '/q'],
          ],
          body: Buffer.from([0xff, 0x00, 0x01]),
        },
        '1.2',
      ),
      true,
    );
    const m = seen.messages.at(-1);
    expect(m?.binary).toBe(true);
    expect(m?.view?.text).toBeUndefined();
    expect(m?.view?.body).toBe('ff0001');
  });

  it('client ack mode: the pretty line shows the ack number /ack takes (1.2: the ack header)', () => {
    const { d, connected, deliver, seen, sent } = setup();
    connected();
    d.command('sub', '/queue/jobs client');
    for (const n of [1, 2]) {
      deliver('MESSAGE', [
        ['subscription', '1'],
        ['destination', '/queue/jobs'],
        ['message-id', `m-${n}`],
        ['ack', `a-${n}`],
      ]);
    }
    expect(seen.messages.at(-1)?.view?.label).toBe('MESSAGE /queue/jobs (sub 1, ack 2)');
    d.command('ack', '2');
    d.command('nack', 'raw-broker-id');
    const [ack, nack] = sent().filter((f) => f.command === 'ACK' || f.command === 'NACK');
    expect(ack?.headers).toEqual([['id', 'a-2']]);
    expect(nack?.headers).toEqual([['id', 'raw-broker-id']]);
    // client mode is cumulative: acking 2 acked 1 as well.
    expect(() => d.command('ack', '1')).not.toThrow();
    expect(
      sent()
        .filter((f) => f.command === 'ACK')
        .at(-1)?.headers,
    ).toEqual([['id', '1']]);
  });

  it('STOMP 1.1 acks by subscription and message-id; 1.0 has no NACK', () => {
    const a = setup({}, { protocol: 'v11.stomp' });
    a.connected('0,0', '1.1');
    a.d.command('sub', '/q client-individual');
    a.deliver('MESSAGE', [
      ['subscription', '1'],
      ['destination', '/q'],
      ['message-id', 'm-9'],
    ]);
    a.d.command('ack', '1');
    expect(a.sent().find((f) => f.command === 'ACK')?.headers).toEqual([
      ['subscription', '1'],
      ['message-id', 'm-9'],
    ]);
    expect(() => a.d.command('ack', '77')).toThrow(/no message with ack id 77/);
    const b = setup({}, { protocol: 'v10.stomp' });
    b.connected('0,0', '1.0');
    expect(() => b.d.command('nack', '1')).toThrow(/1.0 has no NACK/);
  });

  it('/unsub sends UNSUBSCRIBE and forgets the subscription; an unknown id is refused', () => {
    const { d, connected, sent, state } = setup({ sub: ['/topic/x'] });
    connected();
    d.command('unsub', '1');
    expect(sent().at(-1)?.command).toBe('UNSUBSCRIBE');
    expect(sent().at(-1)?.headers).toEqual([['id', '1']]);
    expect(state.subs.size).toBe(0);
    expect(() => d.command('unsub', '1')).toThrow(/no subscription '1'/);
  });

  it('sends the negotiated heart-beats and ends a silent broker with exit 1', () => {
    const { connected, peer, seen, deliver } = setup();
    connected('4000,1000');
    const before = peer.sent.length;
    vi.advanceTimersByTime(10_000);
    const beats = peer.sent.slice(before);
    expect(beats.map((f) => f.text)).toEqual(['\n']);
    expect(beats[0]?.view).toMatchObject({
      auto: true,
      control: true,
      heartbeat: true,
      label: 'heart-beat',
    });
    // Something every 10 s (max of 4000 and our 10000) keeps it alive…
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(9000);
      deliver('RECEIPT', [['receipt-id', 'x']]);
    }
    expect(seen.errors).toEqual([]);
    // …silence past twice that is a dead broker.
    vi.advanceTimersByTime(30_000);
    expect(seen.errors).toEqual([
      expect.objectContaining({ kind: 'protocol', code: 'STOMP_HEARTBEAT_TIMEOUT' }),
    ]);
    expect(peer.terminated).toBe(true);
  });

  it('shows a received EOL-only message as a heart-beat, not the EOL after each frame', () => {
    const { connected, peer, seen } = setup();
    connected();
    const n = seen.messages.length;
    peer.deliver('\n', false);
    expect(seen.messages.slice(n).map((m) => m.view?.label)).toEqual(['heart-beat']);
    expect(seen.messages.at(-1)?.view).toMatchObject({ control: true, heartbeat: true });
  });

  it('ERROR: its message and body, exit 5, a vhost hint, held input dropped, connection closed', () => {
    const { d, deliver, seen, peer } = setup({ pub: '/q' });
    d.input('never sent', false);
    deliver(
      'ERROR',
      [
        ['message', 'Bad CONNECT'],
        ['content-type', 'text/plain'],
      ],
      "Virtual host 'broker.example' access denied",
    );
    expect(seen.errors).toHaveLength(1);
    const err = seen.errors[0];
    expect(err).toMatchObject({
      kind: 'application',
      message: 'stomp: Bad CONNECT',
      code: 'STOMP_ERROR',
    });
    expect(d.outstanding()).toBe(0);
    expect(peer.closed).toEqual({ code: 1000, reason: '' });
    expect(peer.sent.map((f) => f.text).join('')).not.toContain('never sent');
  });

  it('an ERROR frame carries its body as details and the vhost hint', () => {
    const peer = new FakePeer({ url: 'ws://127.0.0.1:15674/ws', protocol: 'v12.stomp' });
    const errors: Array<{ hint: string | undefined; details: string[] }> = [];
    const d = new StompDialect(peer, {
      options: parseDialectOptions({ dialect: 'stomp' }),
      state: stomp.initialState(),
      ctx: fakeContext(),
    });
    d.on('error', (e) => errors.push({ hint: e.hint, details: e.details }));
    d.start();
    peer.deliver(
      encodeFrame(
        {
          command: 'ERROR',
          headers: [['message', 'Bad CONNECT']],
          body: "Virtual host '127.0.0.1' access denied",
        },
        '1.2',
      ),
    );
    expect(errors[0]?.details).toEqual(["Virtual host '127.0.0.1' access denied"]);
    expect(errors[0]?.hint).toMatch(/--vhost \//);
  });

  it('closes with DISCONNECT and a receipt, and waits for the RECEIPT', () => {
    const { d, connected, sent, peer, deliver } = setup();
    connected();
    d.close(1000, '');
    const disconnect = sent().at(-1);
    expect(disconnect?.command).toBe('DISCONNECT');
    expect(peer.closed).toBeUndefined();
    deliver('RECEIPT', [['receipt-id', header(disconnect as StompFrame, 'receipt') ?? '']]);
    expect(peer.closed).toEqual({ code: 1000, reason: '' });
  });

  it('closes after 5 s when the RECEIPT never comes', () => {
    const { d, connected, peer } = setup();
    connected();
    d.close(1000, '');
    vi.advanceTimersByTime(DISCONNECT_WAIT_MS - 1);
    expect(peer.closed).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(peer.closed).toEqual({ code: 1000, reason: '' });
  });

  it('closes at once when not connected yet', () => {
    const { d, peer } = setup();
    d.close(1000, '');
    expect(peer.closed).toEqual({ code: 1000, reason: '' });
  });

  it('re-subscribes the active subscriptions, with their ids, on a new connection', () => {
    const first = setup({ sub: ['/topic/a'] });
    first.connected();
    first.d.command('sub', '/queue/b client');
    first.d.command('unsub', '1');
    first.peer.end({ code: 1006, closeFrameReceived: false });
    const second = setup({ sub: ['/topic/a'] }, { state: first.state });
    second.connected();
    const subs = second.sent().filter((f) => f.command === 'SUBSCRIBE');
    expect(subs.map((f) => [header(f, 'id'), header(f, 'destination'), header(f, 'ack')])).toEqual([
      ['2', '/queue/b', 'client'],
    ]);
  });

  it('reassembles a frame split across WebSocket messages', () => {
    const { connected, peer, seen } = setup({ sub: ['/q'] });
    connected();
    const wire = encodeFrame(
      {
        command: 'MESSAGE',
        headers: [
          ['subscription', '1'],
          ['destination', '/q'],
        ],
        body: 'line one\nline two',
      },
      '1.2',
    );
    peer.deliver(wire.subarray(0, 20), false);
    peer.deliver(wire.subarray(20), false);
    expect(seen.messages.at(-1)?.view?.text).toBe('line one\nline two');
  });
});

describe('stomp --init', () => {
  it('adds CONNECT headers and may replace ours', () => {
    const { sent } = setup({ init: '{"client-id":"dash-1","host":"/prod"}' });
    const connect = sent()[0] as StompFrame;
    expect(header(connect, 'client-id')).toBe('dash-1');
    expect(header(connect, 'host')).toBe('/prod');
  });

  it('refuses what is not an object of strings', () => {
    expect(() => initHeaders([1])).toThrow(/JSON object of CONNECT headers/);
    expect(() => initHeaders({ a: { b: 1 } })).toThrow(/must be a string/);
    expect(() => initHeaders({ 'a:b': 'x' })).toThrow(/invalid CONNECT header/);
    expect(initHeaders({ n: 1, t: true })).toEqual([
      ['n', '1'],
      ['t', 'true'],
    ]);
  });
});

describe('the broker login when --auth had no password', () => {
  it('takes the password typed at the prompt from the Basic header that carried it', () => {
    const basic = `Basic ${Buffer.from('guest:typed-secret').toString('base64')}`;
    const peer = new FakePeer({
      url: 'ws://127.0.0.1:15674/ws',
      protocol: 'v12.stomp',
      request: { method: 'GET', path: '/ws', headers: [['Authorization', basic]] },
    });
    const d = new StompDialect(peer, {
      options: parseDialectOptions({ dialect: 'stomp', auth: 'guest' }),
      state: stomp.initialState(),
      ctx: fakeContext(),
    });
    d.start();
    const connect = new StompDecoder(() => '1.2').push(peer.sent[0]?.data ?? Buffer.alloc(0))[0];
    const frame = connect === 'heartbeat' ? undefined : connect?.frame;
    expect(frame && header(frame, 'login')).toBe('guest');
    expect(frame && header(frame, 'passcode')).toBe('typed-secret');
  });
});

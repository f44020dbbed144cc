// The built CLI speaking Socket.IO to real socket.io 4 and socket.io 2 servers, observed from the
// other side with the official socket.io-client of the same generation: events and acks both
// ways, binary attachments, namespaces with auth, heartbeats past the ping interval, a stopped
// heartbeat, the pretty/raw/json renderings, and a REPL session in a real terminal.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { io as io4 } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { type SocketIoFixture, startSocketIoServer } from '../fixtures/socketio-server.js';
import { runCli } from '../helpers/cli.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

const require = createRequire(import.meta.url);

interface Observer {
  events: Array<{ event: string; args: unknown[] }>;
  emit(event: string, ...args: unknown[]): void;
  close(): void;
}

/** socket.io-client of the server's generation, connected to "/" and recording every event. */
async function observe(s: SocketIoFixture): Promise<Observer> {
  const events: Observer['events'] = [];
  type Client = {
    on(e: string, f: (...a: unknown[]) => void): void;
    onAny?(f: (event: string, ...a: unknown[]) => void): void;
    emit(e: string, ...a: unknown[]): void;
    close(): void;
  };
  let client: Client;
  if (s.version === 4) {
    client = io4(s.base, { transports: ['websocket'], forceNew: true }) as unknown as Client;
    client.onAny?.((event, ...args) => events.push({ event, args }));
  } else {
    const io2 = require('socket.io-v2/node_modules/socket.io-client') as (
      url: string,
      o: Record<string, unknown>,
    ) => Client;
    client = io2(s.base, { transports: ['websocket'], forceNew: true });
    // socket.io-client 2 has no onAny: listen to the events this app sends.
    for (const e of ['chat', 'message']) client.on(e, (...args) => events.push({ event: e, args }));
  }
  await new Promise<void>((resolve) => client.on('connect', () => resolve()));
  return { events, emit: (e, ...a) => client.emit(e, ...a), close: () => client.close() };
}

const connects = (s: SocketIoFixture, nsp = '/') =>
  s.log.filter((l) => l === `connect ${nsp}`).length;

describe.each([4, 2] as const)('socketio dialect against socket.io %i', (version) => {
  let s: SocketIoFixture;
  let observer: Observer;
  const v = ['--socketio-version', String(version)];

  beforeAll(async () => {
    // A long heartbeat here: a busy test process must not lose the observer to a missed ping.
    s = await startSocketIoServer(version, { pingInterval: 25_000, pingTimeout: 20_000 });
    observer = await observe(s);
  });
  afterAll(async () => {
    observer.close();
    await s.close();
  });

  it('emits events, asks for an ack and sends a binary attachment; the other client sees them', async () => {
    observer.events.length = 0;
    const r = await runCli([
      '--dialect',
      'socketio',
      ...v,
      s.base,
      '-x',
      '["chat","hi",{"from":"bob"}]',
      '-x',
      'plain words',
      '-x',
      '/emit upload name @hex:0a0b0c',
      '-x',
      '/emit --ack ask 1 2 3',
      '--output',
      'pretty',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('> chat "hi" {"from":"bob"}');
    expect(r.out).toMatch(/< \[ack 0 · \d+\.\d ms\] 6/);
    expect(r.out).toContain('< uploaded {"size":3} <binary 3 B: 0a0b0c>');
    expect(s.log).toContain('upload 0a0b0c');
    expect(s.log).toContain('ask [1,2,3]');
    await vi.waitFor(() => expect(observer.events).toHaveLength(2), { timeout: 5000 });
    expect(observer.events).toEqual([
      { event: 'chat', args: ['hi', { from: 'bob' }] },
      { event: 'message', args: ['plain words'] },
    ]);
  });

  it('raw output: one line per event in the form input accepts, so it round-trips', async () => {
    const before = connects(s);
    const listening = runCli(['--dialect', 'socketio', ...v, s.base, '--count', '2'], {
      input: undefined,
    });
    await vi.waitFor(() => expect(connects(s)).toBe(before + 1), { timeout: 5000 });
    // The raw lines go back in through a pipe: the observer must see the same events.
    observer.emit('chat', 'from the observer', { n: 1 });
    const sender = await runCli(['--dialect', 'socketio', ...v, s.base, '-x', '/emit greet-me']);
    expect(sender.code).toBe(0);
    observer.emit('chat', 'second', [1, 2]);
    const r = await listening;
    expect(r.code).toBe(0);
    expect(r.out).toBe('["chat","from the observer",{"n":1}]\n["chat","second",[1,2]]\n');
    observer.events.length = 0;
    const piped = await runCli(['--dialect', 'socketio', ...v, s.base], { input: r.out });
    expect(piped.code).toBe(0);
    await vi.waitFor(() => expect(observer.events).toHaveLength(2), { timeout: 5000 });
    expect(observer.events).toEqual([
      { event: 'chat', args: ['from the observer', { n: 1 }] },
      { event: 'chat', args: ['second', [1, 2]] },
    ]);
  });

  it('json output carries the decoded event as the "dialect" object', async () => {
    const r = await runCli([
      '--dialect',
      'socketio',
      ...v,
      s.base,
      '-x',
      '/emit greet-me',
      '--json',
      '--count',
      '1',
    ]);
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; direction?: string; dialect?: unknown });
    const inbound = events.filter((e) => e.event === 'message' && e.direction === 'in');
    expect(inbound.map((e) => e.dialect)).toContainEqual({
      type: 'event',
      nsp: '/',
      event: 'greeting',
      args: ['hello', { from: 'server' }],
    });
  });

  it('--expect matches the raw line of an event (not the Engine.IO frame, not an ack)', async () => {
    const r = await runCli([
      '--dialect',
      'socketio',
      ...v,
      s.base,
      '-x',
      '/emit --ack ask 1',
      '-x',
      '/emit greet-me',
      '--expect',
      '^\\["greeting","hello"',
      '--timeout',
      '10',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('["greeting","hello",{"from":"server"}]\n');
  });

  it('the heartbeat keeps the connection alive well past the ping interval', async () => {
    // Pings every 300 ms; a missing answer drops the client 1.5 s after the ping.
    const short = await startSocketIoServer(version, { pingInterval: 300, pingTimeout: 1500 });
    const r = await runCli([
      '--dialect',
      'socketio',
      ...v,
      short.base,
      '-x',
      'still here',
      '-w',
      '2.5',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const beats = events.filter(
      (e) =>
        (e.dialect as { type?: string } | undefined)?.type === (version === 4 ? 'ping' : 'pong'),
    );
    // Without answers the server would drop us 1.8 s in; the run lasts 2.5 s.
    expect(beats.length).toBeGreaterThanOrEqual(4);
    const close = events.find((e) => e.event === 'close');
    expect(close).toMatchObject({ code: 1000, clean: true });
    expect(short.log).toEqual(['connect /', 'message ["still here"]', 'disconnect /']);
    await short.close();
  });

  it('a namespace with auth: --init is the token; a wrong one is connect_error, exit 5', async () => {
    const bad = await runCli([
      '--dialect',
      'socketio',
      ...v,
      `${s.base}/admin`,
      '--init',
      '{"token":"nope"}',
      '-x',
      'hi',
    ]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain(
      'error: Socket.IO connect_error (namespace /admin): not authorized',
    );
    expect(s.log).toContain('auth nope');
    const good = await runCli([
      '--dialect',
      'socketio',
      ...v,
      `${s.base}/admin`,
      '--init',
      '{"token":"secret"}',
      '-x',
      '/emit --ack ask 40 2',
      '--output',
      'pretty',
    ]);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/< \[ack 0 · [\d.]+ ms\] 42/);
    expect(s.log).toContain('connect /admin');
  });

  it('the server disconnecting the namespace ends the run with an error naming it, exit 3', async () => {
    const r = await runCli([
      '--dialect',
      'socketio',
      ...v,
      `${s.base}/admin`,
      '--init',
      '{"token":"secret"}',
      '-x',
      '/emit kick',
      '-w',
      '5',
    ]);
    expect(r.stderr).toContain('error: the server disconnected namespace /admin');
    // SPEC §12: the server ended the session, like a server close.
    expect(r.code).toBe(3);
  });
});

describe.each([4, 2] as const)('socketio %i and --reconnect', (version) => {
  it('a dropped connection: the handshake and the namespace join again, then the -x lines', async () => {
    const s = await startSocketIoServer(version, { dropFirstAfterMs: 300 });
    try {
      const r = await runCli([
        '--dialect',
        'socketio',
        '--socketio-version',
        String(version),
        `${s.base}/admin`,
        '--init',
        '{"token":"secret"}',
        '--reconnect',
        '2',
        '-x',
        '["chat","again"]',
        '-w',
        '1',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('reconnecting');
      expect(s.log.filter((l) => l === 'auth secret')).toHaveLength(2);
      expect(s.log.filter((l) => l === 'connect /admin')).toHaveLength(2);
      expect(s.log.filter((l) => l === 'chat ["again"]')).toHaveLength(2);
    } finally {
      await s.close();
    }
  });
});

describe('socketio: detection, the URL mapping and a stopped heartbeat', () => {
  it('a /socket.io/ path selects the dialect and announces it', async () => {
    const s = await startSocketIoServer(4);
    try {
      const r = await runCli([
        `ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`,
        '-x',
        '/emit --ack ask 2 3',
        '--output',
        'pretty',
      ]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('dialect: socketio (the URL path); --dialect none for plain frames');
      expect(r.out).toMatch(/< \[ack 0 · [\d.]+ ms\] 5/);
      // --dialect none: the plain Engine.IO frames.
      const plain = await runCli([
        '--dialect',
        'none',
        `ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`,
        '--count',
        '1',
      ]);
      expect(plain.out).toMatch(/^0\{"sid":/);
    } finally {
      await s.close();
    }
  });

  it.each([4, 3] as const)(
    'Engine.IO %i: a heartbeat that stops is exit 1 naming it',
    async (eio) => {
      // A server that opens the session and then never pings (EIO 4) or never pongs (EIO 3).
      const http = createServer();
      const wss = new WebSocketServer({ server: http });
      wss.on('connection', (ws) => {
        ws.send(
          `0${JSON.stringify({ sid: 'x', upgrades: [], pingInterval: 200, pingTimeout: 200 })}`,
        );
        if (eio === 3) ws.send('40');
        ws.on('message', (d) => {
          if (String(d).startsWith('40')) ws.send('40{"sid":"y"}');
        });
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      const { port } = http.address() as AddressInfo;
      try {
        const r = await runCli([
          '--dialect',
          'socketio',
          '--socketio-version',
          eio === 4 ? '4' : '2',
          `http://127.0.0.1:${port}/`,
          '-w',
          '-1',
        ]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
          eio === 4
            ? 'error: socketio: the Engine.IO heartbeat stopped: no ping from the server within 0.4 s'
            : 'error: socketio: the Engine.IO heartbeat stopped: no pong within 0.2 s',
        );
      } finally {
        wss.close();
        http.closeAllConnections();
        http.close();
      }
    },
  );
});

describe.runIf(hasTmux())('socketio in the REPL', () => {
  it('/emit with an ack, answering the server with /ack, events arriving while typing', async () => {
    // The default heartbeat (25 s): no ping lines between the ones this test waits for.
    const s = await startSocketIoServer(4, { pingInterval: 25_000, pingTimeout: 20_000 });
    const observer = await observe(s);
    const t = new Terminal(['--dialect', 'socketio', s.base, '--no-history']);
    try {
      await t.waitFor(/Connected to /);
      t.type('/emit --ack ask 20 22');
      t.press('Enter');
      await t.waitFor(/< \[ack 0 · [\d.]+ ms\] 42/);
      observer.emit('chat', 'hi', { from: 'bob' });
      await t.waitFor(/< chat "hi" \{"from":"bob"\}/);
      const answer = s.askClients('what?');
      const screen = await t.waitFor(/< \[ack\? \d+\] question "what\?"/);
      const id = /< \[ack\? (\d+)\] question/.exec(screen)?.[1];
      t.type(`/ack ${id} forty-two`);
      t.press('Enter');
      expect(await answer).toEqual(['forty-two']);
      t.type('["chat","typed"]');
      t.press('Enter');
      await vi.waitFor(
        () => expect(observer.events).toContainEqual({ event: 'chat', args: ['typed'] }),
        { timeout: 5000 },
      );
      t.type('/quit');
      t.press('Enter');
      expect((await t.exited()).code).toBe(0);
    } finally {
      t.kill();
      observer.close();
      await s.close();
    }
  });
});

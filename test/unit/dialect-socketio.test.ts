// The socketio codec against the Socket.IO wire format (the strings and frames the protocol
// documents and socket.io's own parsers produce), and the layer against a fake peer: the
// handshake, held input, heartbeats (with fake timers), connect_error, acks and attachments.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDialectOptions } from '../../src/dialects/options.js';
import { SocketIoDialect } from '../../src/dialects/socketio.js';
import { SIO, socketIoCodec } from '../../src/dialects/socketio-codec.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

describe('socketio codec (Engine.IO 4 / socket.io-parser 4)', () => {
  const c = socketIoCodec(4);
  it.each([
    [{ type: SIO.CONNECT, nsp: '/' }, ['0']],
    [{ type: SIO.CONNECT, nsp: '/admin', data: { token: 't' } }, ['0/admin,{"token":"t"}']],
    [
      { type: SIO.EVENT, nsp: '/', data: ['chat', 'hi', { from: 'bob' }] },
      ['2["chat","hi",{"from":"bob"}]'],
    ],
    [{ type: SIO.EVENT, nsp: '/', data: ['ask', 1], id: 7 }, ['27["ask",1]']],
    [{ type: SIO.ACK, nsp: '/admin', data: [42], id: 3 }, ['3/admin,3[42]']],
    [{ type: SIO.DISCONNECT, nsp: '/' }, ['1']],
  ])('encodes %j as %j', (packet, expected) => {
    expect(c.encode(packet)).toEqual(expected);
  });

  it('binary arguments become a placeholder packet and an attachment', () => {
    const parts = c.encode({ type: SIO.EVENT, nsp: '/', data: ['up', Buffer.from([1, 2])] });
    expect(parts[0]).toBe('51-["up",{"_placeholder":true,"num":0}]');
    expect(parts[1]).toEqual(Buffer.from([1, 2]));
    expect(c.encodeFrame({ type: 'message', data: parts[0] as string })).toEqual({
      data: '451-["up",{"_placeholder":true,"num":0}]',
      binary: false,
    });
    // EIO 4 sends attachments as plain binary frames.
    expect(c.encodeFrame({ type: 'message', data: parts[1] as Buffer })).toEqual({
      data: Buffer.from([1, 2]),
      binary: true,
    });
  });

  it('decodes frames and packets, attachments included', () => {
    expect(c.decodeFrame(Buffer.from('2'), false)).toEqual({ type: 'ping' });
    expect(c.decodeFrame(Buffer.from('3probe'), false)).toEqual({ type: 'pong', data: 'probe' });
    expect(c.decodeFrame(Buffer.from('0{"sid":"a"}'), false)).toEqual({
      type: 'open',
      data: '{"sid":"a"}',
    });
    expect(c.decode('2["a",1]')).toEqual({ type: SIO.EVENT, nsp: '/', data: ['a', 1] });
    expect(c.decode('451-["up",{"_placeholder":true,"num":0}]'.slice(1))).toBeUndefined();
    const done = c.decode(Buffer.from([9]));
    expect(done?.data).toEqual(['up', Buffer.from([9])]);
    expect(() => c.decode('2["unterminated')).toThrow();
    // The decoder starts afresh after a broken packet.
    expect(c.decode('2["ok"]')?.data).toEqual(['ok']);
  });
});

describe('socketio codec (Engine.IO 3 / socket.io-parser 3)', () => {
  const c = socketIoCodec(3);
  it('encodes like Socket.IO 2 clients do', () => {
    expect(c.encode({ type: SIO.CONNECT, nsp: '/admin' })).toEqual(['0/admin,']);
    expect(c.encode({ type: SIO.EVENT, nsp: '/', data: ['chat', 'hi'] })).toEqual([
      '2["chat","hi"]',
    ]);
    const parts = c.encode({ type: SIO.EVENT, nsp: '/', data: ['up', Buffer.from([7])] });
    expect(parts[0]).toBe('51-["up",{"_placeholder":true,"num":0}]');
    // EIO 3 prefixes a binary frame with its packet type (4 = message).
    expect(c.encodeFrame({ type: 'message', data: parts[1] as Buffer })).toEqual({
      data: Buffer.from([4, 7]),
      binary: true,
    });
    expect(c.encodeFrame({ type: 'ping' })).toEqual({ data: '2', binary: false });
  });
  it('decodes a prefixed binary frame and Socket.IO 2 errors', () => {
    expect(c.decodeFrame(Buffer.from([4, 1, 2]), true)).toEqual({
      type: 'message',
      data: Buffer.from([1, 2]),
    });
    expect(c.decode('4"not authorized"')).toMatchObject({
      type: SIO.CONNECT_ERROR,
      nsp: '/',
      data: 'not authorized',
    });
  });
});

function layer(opts: { eio?: 3 | 4; namespace?: string; init?: string } = {}) {
  const peer = new FakePeer();
  const options = parseDialectOptions({ dialect: 'socketio', init: opts.init });
  const d = new SocketIoDialect(peer, {
    options,
    state: { eio: opts.eio ?? 4, namespace: opts.namespace ?? '/' },
    ctx: fakeContext(),
  });
  const seen = watch(d);
  d.start();
  return { peer, d, seen };
}

const OPEN = `0${JSON.stringify({ sid: 's', upgrades: [], pingInterval: 1000, pingTimeout: 500 })}`;

describe('SocketIoDialect on a fake peer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('EIO 4: joins with --init as auth, holds input until joined, then sends it in order', () => {
    const { peer, d, seen } = layer({ namespace: '/admin', init: '{"token":"t"}' });
    d.input('["chat","early"]', false);
    d.input('plain text', false);
    expect(peer.take()).toEqual([]);
    peer.deliver(OPEN);
    expect(peer.take()).toEqual(['40/admin,{"token":"t"}']);
    expect(seen.sent[0]?.view).toMatchObject({ auto: true, control: true });
    expect(d.outstanding()).toBe(2);
    peer.deliver('40/admin,{"sid":"x"}');
    expect(peer.take()).toEqual(['42/admin,["chat","early"]', '42/admin,["message","plain text"]']);
    expect(seen.settled).toBe(1);
  });

  it('EIO 4: answers pings with pongs (auto, control) and fails when pings stop', () => {
    const { peer, seen } = layer();
    peer.deliver(OPEN);
    peer.deliver('40{"sid":"x"}');
    peer.take();
    vi.advanceTimersByTime(1400);
    peer.deliver('2');
    expect(peer.take()).toEqual(['3']);
    expect(seen.sent.at(-1)?.view).toMatchObject({
      auto: true,
      control: true,
      heartbeat: true,
      label: '[pong]',
    });
    expect(seen.messages.at(-1)?.view).toMatchObject({
      control: true,
      heartbeat: true,
      label: '[ping]',
    });
    vi.advanceTimersByTime(1400);
    expect(seen.errors).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(seen.errors).toEqual([
      {
        kind: 'protocol',
        code: 'HEARTBEAT_TIMEOUT',
        message: 'socketio: the Engine.IO heartbeat stopped: no ping from the server within 1.5 s',
      },
    ]);
    expect(peer.terminated).toBe(true);
  });

  it('no heartbeat deadline while delivery is paused (a slow stdout); it starts afresh on resume', () => {
    const { peer, d, seen } = layer();
    peer.deliver(OPEN);
    peer.deliver('40{"sid":"x"}');
    d.pause();
    vi.advanceTimersByTime(10_000);
    expect(seen.errors).toEqual([]);
    d.resume();
    vi.advanceTimersByTime(1400);
    expect(seen.errors).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(seen.errors.map((e) => e.code)).toEqual(['HEARTBEAT_TIMEOUT']);
  });

  it('EIO 3: the root namespace is joined by the server; the client pings and wants pongs', () => {
    const { peer, d, seen } = layer({ eio: 3 });
    d.input('hi', false);
    peer.deliver(OPEN);
    expect(peer.take()).toEqual([]);
    peer.deliver('40');
    expect(peer.take()).toEqual(['42["message","hi"]']);
    vi.advanceTimersByTime(1000);
    expect(peer.take()).toEqual(['2']);
    expect(seen.sent.at(-1)?.view).toMatchObject({ auto: true, heartbeat: true, label: '[ping]' });
    peer.deliver('3');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      control: true,
      heartbeat: true,
      label: '[pong]',
    });
    vi.advanceTimersByTime(1000);
    expect(peer.take()).toEqual(['2']);
    vi.advanceTimersByTime(500);
    expect(seen.errors.map((e) => e.message)).toEqual([
      'socketio: the Engine.IO heartbeat stopped: no pong within 0.5 s',
    ]);
  });

  it('connect_error is an application error (exit 5) and closes', () => {
    const { peer, seen } = layer();
    peer.deliver(OPEN);
    peer.deliver('44{"message":"not authorized"}');
    expect(seen.errors).toEqual([
      {
        kind: 'application',
        code: 'CONNECT_ERROR',
        message: 'Socket.IO connect_error (namespace /): not authorized',
      },
    ]);
    expect(peer.closed).toEqual({ code: 1000, reason: '' });
  });

  it('/emit --ack waits for the ack (outstanding), shown with its round-trip time', () => {
    const { peer, d, seen } = layer();
    peer.deliver(OPEN);
    peer.deliver('40{"sid":"x"}');
    peer.take();
    d.command('emit', '--ack ask 1 "two" {"three":3}');
    expect(peer.take()).toEqual(['420["ask",1,"two",{"three":3}]']);
    expect(d.outstanding()).toBe(1);
    peer.deliver('430[6]');
    expect(d.outstanding()).toBe(0);
    expect(seen.settled).toBe(2);
    const view = seen.messages.at(-1)?.view;
    expect(view?.label).toMatch(/^\[ack 0 · \d+\.\d ms\]$/);
    expect(view).toMatchObject({ body: '6', control: true });
    // An answer, not a heartbeat: --hide-ping-pong keeps it.
    expect(view?.heartbeat).toBeUndefined();
  });

  it("shows a server's ack request with its id, and /ack answers it", () => {
    const { peer, d, seen } = layer();
    peer.deliver(OPEN);
    peer.deliver('40{"sid":"x"}');
    peer.take();
    peer.deliver('425["question","what?"]');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: '[ack? 5] question',
      body: '"what?"',
      text: '["question","what?"]',
      dialect: { type: 'event', nsp: '/', event: 'question', args: ['what?'], ackId: 5 },
    });
    d.command('ack', '5 forty-two 42');
    expect(peer.take()).toEqual(['435["forty-two",42]']);
  });

  it('binary attachments: sent as placeholder + frame, received events shown once complete', () => {
    const { peer, d, seen } = layer();
    peer.deliver(OPEN);
    peer.deliver('40{"sid":"x"}');
    peer.take();
    d.command('emit', 'upload name @hex:0a0b');
    const frames = peer.sent.splice(0);
    expect(frames.map((f) => f.binary)).toEqual([false, true]);
    expect(frames[0]?.text).toBe('451-["upload","name",{"_placeholder":true,"num":0}]');
    expect(frames[1]?.data).toEqual(Buffer.from([10, 11]));
    peer.deliver('451-["file",{"_placeholder":true,"num":0}]');
    expect(seen.messages.at(-1)?.view).toMatchObject({ hidden: true });
    peer.deliver(Buffer.from([0xff, 0]), true);
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: 'file',
      body: '<binary 2 B: ff00>',
      text: '/emit "file" @hex:ff00',
      dialect: { args: [{ binary: '/wA=' }] },
    });
  });

  it('closing closes the transport only (no 41); the server disconnecting the namespace is exit 3', () => {
    const a = layer({ namespace: '/admin' });
    a.peer.deliver(OPEN);
    a.peer.deliver('40/admin,{"sid":"x"}');
    a.peer.take();
    a.d.close(1000, '');
    expect(a.peer.take()).toEqual([]);
    expect(a.peer.closed).toEqual({ code: 1000, reason: '' });
    const b = layer();
    b.peer.deliver(OPEN);
    b.peer.deliver('40{"sid":"x"}');
    b.peer.deliver('41');
    expect(b.seen.errors).toEqual([
      {
        kind: 'closed',
        code: 'NAMESPACE_DISCONNECT',
        message: 'the server disconnected namespace /',
      },
    ]);
  });

  it('a first message that is not an Engine.IO open packet fails at once', () => {
    const { peer, d, seen } = layer();
    d.input('held', false);
    peer.deliver('{"hello":"world"}');
    expect(seen.errors).toEqual([
      {
        kind: 'protocol',
        code: 'NOT_SOCKETIO',
        message: `socketio: the server's first message is not an Engine.IO open packet: "{\\"hello\\":\\"world\\"}"`,
      },
    ]);
    expect(peer.closed).toBeDefined();
    expect(d.outstanding()).toBe(0);
  });

  it('a handshake that never completes fails after 10 s', () => {
    const { peer, seen } = layer();
    vi.advanceTimersByTime(10_000);
    expect(seen.errors.map((e) => e.message)).toEqual([
      'socketio: the Engine.IO open packet did not complete within 10 s',
    ]);
    expect(peer.closed).toBeDefined();
  });
});

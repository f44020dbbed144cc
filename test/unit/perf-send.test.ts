// The send fast path (Peer.sendMany/send framing its own frames, src/wire.ts) observed from the
// other side with ws itself: masking of odd lengths, order across batches, slabs and
// compression, back-pressure, and the close wait that counts from the last data received.

import type { IncomingMessage } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { connect } from '../../src/connection.js';
import { listen } from '../../src/listen.js';
import { type Peer, Peer as PeerClass, queuedThisTurn } from '../../src/peer.js';
import { prepareConnect } from '../../src/prepare.js';
import { MessageBatch } from '../../src/session/framing.js';
import { FrameEncoder, headerSize, maskInPlace } from '../../src/wire.js';
import { parseClient } from '../helpers/options.js';

const ENV = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {} };
const ODD = [0, 1, 2, 3, 5, 125, 126, 127, 65535, 65536, 70001];

interface Received {
  data: Buffer;
  binary: boolean;
}

/** A ws server that records every message, per connection, and can hold its reading. */
async function recordingServer(perMessageDeflate = false) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const got: Received[] = [];
  const sockets: WebSocket[] = [];
  const offers: string[] = [];
  const requests: IncomingMessage[] = [];
  let want = 0;
  let onEnough: (() => void) | undefined;
  wss.on('connection', (ws, req) => {
    sockets.push(ws);
    offers.push(req.headers['sec-websocket-extensions'] ?? '');
    requests.push(req);
    ws.on('message', (data, binary) => {
      got.push({ data: data as Buffer, binary });
      if (got.length === want) onEnough?.();
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    got,
    sockets,
    offers,
    requests,
    /** Resolves once `n` messages in total have arrived. */
    until(n: number): Promise<void> {
      want = n;
      if (got.length >= n) return Promise.resolve();
      return new Promise((r) => {
        onEnough = r;
      });
    },
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

async function open(url: string, flags: Record<string, unknown> = {}): Promise<Peer> {
  const o = parseClient({ url, ...flags }, ENV);
  const peer = await connect(await prepareConnect(o.connect, undefined));
  peer.start();
  return peer;
}

/**
 * Three client Peers, and what the server received on each connection (the server accepts them
 * in the order they opened).
 */
async function openThree(server: Awaited<ReturnType<typeof recordingServer>>) {
  const peers = [await open(server.url), await open(server.url), await open(server.url)];
  const perClient = server.sockets.slice(-3).map((ws) => {
    const got: string[] = [];
    ws.on('message', (d) => got.push(String(d)));
    return got;
  });
  return { peers, perClient };
}

/** Calls `seen` with every chunk the Peer itself writes to its socket. */
function onRawWrite(peer: Peer, seen: (chunk: Buffer) => void): void {
  type Write = (this: unknown, chunk: Buffer, cb?: () => void) => boolean;
  const q = peer as unknown as { socketWrite: Write };
  const write = q.socketWrite;
  q.socketWrite = function (chunk, cb) {
    seen(chunk);
    return write.call(this, chunk, cb);
  };
}

/** Deterministic bytes (every value 0–255 occurs), so a masking slip shows. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('wire: frames and masking (RFC 6455 §5.2–5.3)', () => {
  it('masks every length, at every alignment, the same as byte-by-byte XOR', () => {
    for (const len of ODD) {
      for (let offset = 0; offset < 4; offset++) {
        const buf = Buffer.alloc(offset + 4 + len + 3);
        const words = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
        buf.set([0x12, 0xa5, 0xff, 0x01], offset);
        const payload = bytes(len, len + offset);
        payload.copy(buf, offset + 4);
        maskInPlace(buf, offset + 4, offset + 4 + len, offset, words);
        const want = Buffer.from(payload.map((v, i) => v ^ ([0x12, 0xa5, 0xff, 0x01][i & 3] ?? 0)));
        expect(buf.subarray(offset + 4, offset + 4 + len).equals(want)).toBe(true);
        // Bytes past the payload are untouched.
        expect(buf.subarray(offset + 4 + len).every((v) => v === 0)).toBe(true);
      }
    }
  });

  it('a batch reuses the memory of one released after its write, never of one still in flight', () => {
    const enc = new FrameEncoder(false);
    const lens = (m: Buffer[]) => m.map((b) => b.length);
    const first = [bytes(10, 1), bytes(300, 2)];
    const a = enc.encodeBatch(first, lens(first), 0, 2, true);
    expect(a.length).toBe(2 + 10 + 4 + 300);
    expect([a[0], a[1], a[12], a[13]]).toEqual([0x82, 10, 0x82, 126]);
    expect(a.subarray(2, 12).equals(first[0] as Buffer)).toBe(true);
    const second = [bytes(50, 3)];
    // a is still being written: b must not share its memory.
    const b = enc.encodeBatch(second, lens(second), 0, 1, false);
    expect(b.buffer).not.toBe(a.buffer);
    expect(a.subarray(16).equals(first[1] as Buffer)).toBe(true);
    enc.release(a);
    const c = enc.encodeBatch(second, lens(second), 0, 1, false);
    expect(c.buffer).toBe(a.buffer);
    expect([c[0], c[1]]).toEqual([0x81, 50]);
    expect(c.subarray(2).equals(second[0] as Buffer)).toBe(true);
    // Only `count` of the messages are framed.
    const d = enc.encodeBatch(first, lens(first), 0, 1, true);
    expect(d.length).toBe(12);
  });

  it('an encoder that has framed nothing holds no memory of its own (one per listening client)', () => {
    type Inner = { slab: Buffer; words: Int32Array; slabUse: unknown };
    const [a, b] = [new FrameEncoder(false), new FrameEncoder(true)] as unknown as [Inner, Inner];
    expect(a.slab).toBe(b.slab);
    expect(a.words).toBe(b.words);
    expect(a.slabUse).toBeUndefined();
    const pieces: Buffer[] = [];
    (a as unknown as FrameEncoder).encode([bytes(10, 1)], true, (p) => pieces.push(p));
    expect(a.slab).not.toBe(b.slab);
    expect(a.slabUse).toBeInstanceOf(Map);
    expect(Buffer.concat(pieces).subarray(2).equals(bytes(10, 1))).toBe(true);
  });

  it('released batch buffers serve every encoder, and at most 8 are kept (the larger ones)', () => {
    const msgs = [bytes(1000, 4)];
    const lens = [1000];
    const encoders = Array.from({ length: 20 }, () => new FrameEncoder(false));
    const first = encoders.map((e) => e.encodeBatch(msgs, lens, 0, 1, true));
    expect(new Set(first.map((b) => b.buffer)).size).toBe(20);
    for (const [i, b] of first.entries()) encoders[i]?.release(b);
    // Other encoders (new ones, even) get the released memory; only 8 of the 20 were kept.
    const others = Array.from({ length: 20 }, () => new FrameEncoder(false));
    const released = new Set(first.map((b) => b.buffer));
    const second = others.map((e) => e.encodeBatch(msgs, lens, 0, 1, true));
    expect(second.filter((b) => released.has(b.buffer))).toHaveLength(8);
    for (const b of second) expect(b.subarray(4).equals(msgs[0] as Buffer)).toBe(true);
    for (const [i, b] of second.entries()) others[i]?.release(b);
    // Full of 4 KiB buffers: a larger one released takes the place of one of them, and a batch
    // too large for the small ones gets it.
    const big = [bytes(9000, 5)];
    const e = new FrameEncoder(false);
    const large = e.encodeBatch(big, [9000], 0, 1, true);
    e.release(large);
    expect(e.encodeBatch(big, [9000], 0, 1, true).buffer).toBe(large.buffer);
  });

  it('a full slab is used again only once every piece of it is written', () => {
    const enc = new FrameEncoder(true);
    const pieces: Array<{ piece: Buffer; owned: boolean }> = [];
    const out = (piece: Buffer, owned: boolean) => pieces.push({ piece, owned });
    const line = bytes(1000, 7);
    // 40 frames of 1,006 bytes fill most of a 64 KiB slab; the next 40 need a second slab.
    enc.encode(Array(40).fill(line), true, out);
    enc.encode(Array(40).fill(line), true, out);
    const first = (pieces[0] as { piece: Buffer }).piece.buffer;
    const second = (pieces[pieces.length - 1] as { piece: Buffer }).piece.buffer;
    expect(second).not.toBe(first);
    expect(pieces.every((p) => p.owned)).toBe(true);
    const ofFirst = pieces.filter((p) => p.piece.buffer === first);
    expect(ofFirst.length).toBeGreaterThan(1);
    // All but one piece of the first slab written: a third slab must be new memory.
    for (const p of ofFirst.slice(1)) enc.release(p.piece);
    pieces.length = 0;
    enc.encode(Array(80).fill(line), true, out);
    expect(pieces.some((p) => p.piece.buffer === first)).toBe(false);
    const third = (pieces[pieces.length - 1] as { piece: Buffer }).piece.buffer;
    // Now the first slab's last piece is written too: it is the next slab.
    enc.release((ofFirst[0] as { piece: Buffer }).piece);
    pieces.length = 0;
    enc.encode(Array(80).fill(line), true, out);
    expect(pieces.some((p) => p.piece.buffer === first)).toBe(true);
    expect(pieces.some((p) => p.piece.buffer === third || p.piece.buffer === second)).toBe(true);
    // Payloads written by reference are the caller's, never the encoder's to reuse.
    const big = bytes(20_000, 9);
    const refs: Array<{ piece: Buffer; owned: boolean }> = [];
    new FrameEncoder(false).encode([big], true, (piece, owned) => refs.push({ piece, owned }));
    expect(refs.map((r) => r.owned)).toEqual([true, false]);
    expect(refs[1]?.piece).toBe(big);
  });

  it('frames from ranges of a chunk are the frames of the same messages as buffers', () => {
    const chunk = Buffer.concat(ODD.map((n, i) => bytes(n, i)));
    const starts: number[] = [];
    const ends: number[] = [];
    let at = 0;
    for (const n of [...ODD, 20_000]) {
      if (at + n > chunk.length) break;
      starts.push(at);
      ends.push(at + n);
      at += n;
    }
    const messages = starts.map((s, i) => chunk.subarray(s, ends[i]));
    const joined = (f: (out: (p: Buffer) => void) => void) => {
      const pieces: Buffer[] = [];
      f((p) => pieces.push(Buffer.from(p)));
      return Buffer.concat(pieces);
    };
    // Unmasked: byte for byte the same.
    const a = new FrameEncoder(false);
    const b = new FrameEncoder(false);
    expect(joined((o) => a.encodeRanges(chunk, starts, ends, true, o))).toEqual(
      joined((o) => b.encode(messages, true, o)),
    );
    // Masked: the same once unmasked with each frame's own key.
    const m = new FrameEncoder(true);
    const wire = joined((o) => m.encodeRanges(chunk, starts, ends, false, o));
    let p = 0;
    for (const want of messages) {
      expect(wire[p]).toBe(0x81);
      const len7 = (wire[p + 1] as number) & 0x7f;
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      const len =
        ext === 0
          ? len7
          : ext === 2
            ? wire.readUInt16BE(p + 2)
            : Number(wire.readBigUInt64BE(p + 2));
      const key = wire.subarray(p + 2 + ext, p + 6 + ext);
      const body = wire
        .subarray(p + 6 + ext, p + 6 + ext + len)
        .map((v, i) => v ^ (key[i & 3] as number));
      expect(Buffer.from(body).equals(want)).toBe(true);
      p += 6 + ext + len;
    }
    expect(p).toBe(wire.length);
  });

  it('headers use 7-bit, 16-bit and 64-bit lengths at the RFC boundaries', () => {
    expect([125, 126, 65535, 65536].map((n) => headerSize(n, false))).toEqual([2, 4, 4, 10]);
    expect(headerSize(0, true)).toBe(6);
    const out: Buffer[] = [];
    new FrameEncoder(false).encode([Buffer.alloc(65536)], true, (p) => out.push(p));
    const head = out[0] as Buffer;
    expect([head[0], head[1]]).toEqual([0x82, 127]);
    expect(head.readBigUInt64BE(2)).toBe(65536n);
  });
});

describe('Peer send fast path, client side (masked), against a ws server', () => {
  let server: Awaited<ReturnType<typeof recordingServer>>;
  beforeAll(async () => {
    server = await recordingServer();
  });
  afterAll(() => server.close());

  it('odd lengths arrive byte-exact, binary and text, from sendMany and send', async () => {
    const peer = await open(server.url);
    const start = server.got.length;
    const bin = ODD.map((n, i) => bytes(n, i));
    const text = ODD.map((n) => 'é'.repeat(n >> 1) + 'x'.repeat(n & 1));
    peer.sendMany(bin, true);
    peer.sendMany(text, false);
    for (const b of bin) peer.send(b, true);
    await server.until(start + ODD.length * 3);
    const got = server.got.slice(start);
    for (const [i, b] of bin.entries()) {
      expect(got[i]?.binary).toBe(true);
      expect(got[i]?.data.equals(b)).toBe(true);
      expect(got[i + 2 * ODD.length]?.data.equals(b)).toBe(true);
    }
    for (const [i, t] of text.entries()) {
      expect(got[i + ODD.length]?.binary).toBe(false);
      expect(got[i + ODD.length]?.data.toString()).toBe(t);
    }
    // The caller's buffers are not masked in place.
    expect(bin[5]?.equals(bytes(ODD[5] as number, 5))).toBe(true);
    expect(peer.stats.messagesOut).toBe(ODD.length * 3);
    peer.close();
  });

  it('keeps the order across many batches, slab edges and single sends', async () => {
    const peer = await open(server.url);
    const start = server.got.length;
    const sent: string[] = [];
    let n = 0;
    for (let batch = 0; batch < 300; batch++) {
      // Batch sizes and message sizes vary so batches straddle the 64 KiB slabs.
      const size = 1 + ((batch * 37) % 900);
      const messages = Array.from({ length: 1 + (batch % 23) }, () => {
        n++;
        return `${n}:${'m'.repeat((n * 13) % size)}`;
      });
      sent.push(...messages);
      if (batch % 5 === 0) for (const m of messages) peer.send(m, false);
      else peer.sendMany(messages, false);
    }
    await server.until(start + sent.length);
    expect(server.got.slice(start).map((r) => r.data.toString())).toEqual(sent);
    peer.close();
  });

  it('sends, then a ping and a close in the same turn: every message arrives before them', async () => {
    const peer = await open(server.url);
    const ws = server.sockets[server.sockets.length - 1] as WebSocket;
    const start = server.got.length;
    const order: string[] = [];
    ws.on('message', (d) => order.push(`m${d}`));
    ws.on('ping', () => order.push('ping'));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    const sent = Array.from({ length: 500 }, (_, i) => String(i));
    for (const m of sent.slice(0, 250)) peer.send(m, false);
    peer.ping();
    for (const m of sent.slice(250)) peer.send(m, false);
    peer.close(1000);
    expect(await closed).toBe(1000);
    expect(server.got.slice(start).map((r) => r.data.toString())).toEqual(sent);
    expect(order.indexOf('ping')).toBe(250);
  });

  it('the single sends of one turn leave in one socket write; a switch of type starts another', async () => {
    // Count the writes that reach net.Socket (the peer captures `write` when it is made).
    const original = Socket.prototype.write;
    let writes = 0;
    Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
      writes++;
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof original;
    let peer: Peer;
    try {
      peer = await open(server.url);
    } finally {
      Socket.prototype.write = original;
    }
    const start = server.got.length;
    writes = 0;
    for (let i = 0; i < 1000; i++) peer.send(`line ${i}`, false);
    await server.until(start + 1000);
    expect(writes).toBe(1);
    writes = 0;
    for (let i = 0; i < 30; i++) peer.send(i % 10 === 9 ? bytes(i, i) : `t${i}`, i % 10 === 9);
    await server.until(start + 1030);
    // t0..t8, b9, t10..t18, b19, t20..t28, b29: six runs of one type.
    expect(writes).toBe(6);
    const got = server.got.slice(start + 1000);
    expect(got.map((g) => g.binary)).toEqual(Array.from({ length: 30 }, (_, i) => i % 10 === 9));
    expect(got[3]?.data.toString()).toBe('t3');
    expect(got[19]?.data.equals(bytes(19, 19))).toBe(true);
    peer.close();
  });

  it('clients sending in the same turn frame their batches in one buffer, freed as each write is taken', async () => {
    // A relay writes to many clients per turn: once the kernel has taken one client's batch
    // whole, the next client's batch reuses its memory (not one buffer per client per turn).
    const peers = [await open(server.url), await open(server.url), await open(server.url)];
    const seen: ArrayBufferLike[][] = peers.map(() => []);
    peers.forEach((p, i) => {
      onRawWrite(p, (chunk) => seen[i]?.push(chunk.buffer));
    });
    const start = server.got.length;
    for (let round = 0; round < 3; round++) {
      const base = server.got.length;
      peers.forEach((p, i) => {
        for (let k = 0; k < 5; k++) p.send(`r${round} p${i} m${k}`, false);
      });
      await server.until(base + 15);
    }
    expect(seen.map((s) => s.length)).toEqual([3, 3, 3]);
    expect(new Set(seen.flat()).size).toBe(1);
    const got = server.got.slice(start).map((g) => g.data.toString());
    expect(got.filter((t) => t.endsWith('m4'))).toHaveLength(9);
    for (const p of peers) p.close();
  });

  it('clients each sent a message object of their own still get one batch per turn, in order', async () => {
    // --encode makes a Buffer per client for the same line: no entry of the turn is shared.
    const { peers, perClient } = await openThree(server);
    const writes = peers.map((p) => {
      const count = { n: 0 };
      onRawWrite(p, () => count.n++);
      return count;
    });
    const base = server.got.length;
    for (let i = 0; i < 100; i++)
      peers.forEach((p, k) => {
        p.send(Buffer.from(`c${k} m${i}`), true);
      });
    expect(queuedThisTurn().holders).toBeLessThanOrEqual(1);
    await server.until(base + 300);
    expect(writes.map((w) => w.n)).toEqual([1, 1, 1]);
    expect(perClient).toEqual(
      [0, 1, 2].map((k) => Array.from({ length: 100 }, (_, i) => `c${k} m${i}`)),
    );
    expect(queuedThisTurn()).toMatchObject({ length: 0, holders: 0, alive: 0 });
    for (const p of peers) p.close();
  });

  it('a second Peer on a socket a Peer wrapped writes through the socket, not the wrapper', async () => {
    const first = await open(server.url);
    const inner = first as unknown as { ws: WebSocket; socket: Socket };
    const second = new PeerClass(inner.ws, first.info, { socket: inner.socket, client: true });
    const base = server.got.length;
    second.send('through the second', false);
    await server.until(base + 1);
    expect(server.got.at(-1)?.data.toString()).toBe('through the second');
    first.close();
  });

  it('Peers corked in one turn are uncorked in one tick, in the order they corked', async () => {
    const { peers, perClient } = await openThree(server);
    const base = server.got.length;
    const original = process.nextTick;
    let ticks = 0;
    process.nextTick = ((...args: Parameters<typeof process.nextTick>) => {
      ticks++;
      return original(...args);
    }) as typeof process.nextTick;
    try {
      for (let round = 0; round < 2; round++)
        peers.forEach((p, i) => {
          p.send(`p${i} r${round}`, false);
        });
    } finally {
      process.nextTick = original;
    }
    expect(ticks).toBe(1);
    await server.until(base + 6);
    expect(perClient).toEqual([
      ['p0 r0', 'p0 r1'],
      ['p1 r0', 'p1 r1'],
      ['p2 r0', 'p2 r1'],
    ]);
    // The next turn schedules its own tick.
    peers.forEach((p, i) => {
      p.send(`p${i} again`, false);
    });
    await server.until(base + 9);
    expect(perClient.map((g) => g.at(-1))).toEqual(['p0 again', 'p1 again', 'p2 again']);
    for (const p of peers) p.close();
  });

  it('the turn queue holds no message once flushed, starts small after a long turn, loses none', async () => {
    const peer = await open(server.url);
    let start = server.got.length;
    const turn = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++) peer.send(`${tag}${i}`, false);
      expect(queuedThisTurn()).toMatchObject({
        length: n > 1000 ? expect.any(Number) : n,
        holders: 1,
      });
      await server.until(start + n);
      const got = server.got.slice(start).map((g) => g.data.toString());
      start = server.got.length;
      return got;
    };
    const names = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`);
    expect(await turn(50, 'a')).toEqual(names(50, 'a'));
    // Flushed: nothing held, no message kept alive (the array's slots are kept, emptied).
    expect(queuedThisTurn()).toMatchObject({ length: 0, holders: 0, alive: 0 });
    expect(queuedThisTurn().kept).toBeGreaterThanOrEqual(50);
    // A shorter turn sends only its own messages, not what the longer one left in the slots.
    expect(await turn(20, 'b')).toEqual(names(20, 'b'));
    // A turn past the limit kept: the arrays start small again, and the next turn is whole.
    expect(await turn(3000, 'c')).toEqual(names(3000, 'c'));
    expect(queuedThisTurn()).toEqual({ length: 0, holders: 0, kept: 0, alive: 0 });
    expect(await turn(5, 'd')).toEqual(names(5, 'd'));
    peer.close();
  });

  it('Peers sending the same messages in a turn share one queue entry each; others interleave', async () => {
    const { peers, perClient } = await openThree(server);
    const base = server.got.length;
    const shared = Array.from({ length: 10 }, (_, i) => Buffer.from(`shared ${i}`));
    // A relay: every message to every client, message by message.
    for (const m of shared) for (const p of peers) p.send(m, true);
    expect(queuedThisTurn()).toMatchObject({ length: 10, holders: 3 });
    // One client also gets a message of its own, then more shared ones: its range is framed
    // and a new one begins; the others' ranges are not disturbed.
    (peers[1] as Peer).send(Buffer.from('own'), true);
    const more = Buffer.from('shared 10');
    for (const p of peers) p.send(more, true);
    await server.until(base + 3 * 11 + 1);
    const names = shared.map(String);
    expect(perClient).toEqual([
      [...names, 'shared 10'],
      [...names, 'own', 'shared 10'],
      [...names, 'shared 10'],
    ]);
    expect(queuedThisTurn()).toMatchObject({ length: 0, holders: 0, alive: 0 });
    for (const p of peers) p.close();
  });

  it('what ws writes on its own (a pong, the close reply) goes after the sends queued before it', async () => {
    // The server sends a, a ping, b and a close in one chunk; the client echoes each message
    // while ws parses that chunk, and ws answers the ping and the close in the same turn.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const order: string[] = [];
    const done = new Promise<void>((resolve) =>
      wss.on('connection', (ws, req) => {
        ws.on('message', (d) => order.push(String(d)));
        ws.on('pong', () => order.push('pong'));
        ws.on('close', (code) => {
          order.push(`close ${code}`);
          resolve();
        });
        req.socket.cork();
        ws.send('a');
        ws.ping();
        ws.send('b');
        ws.close(1000);
        req.socket.uncork();
      }),
    );
    const peer = await open(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    peer.on('message', (d) => peer.send(`echo ${d}`, false));
    await done;
    expect(order).toEqual(['echo a', 'pong', 'echo b', 'close 1000']);
    await new Promise<void>((r) => wss.close(() => r()));
  });

  it('sendMany under back-pressure: waitForDrain resolves with the buffer at or below the mark', async () => {
    const peer = await open(server.url);
    const ws = server.sockets[server.sockets.length - 1] as WebSocket;
    ws.pause();
    const start = server.got.length;
    const chunk = Array.from({ length: 64 }, (_, i) => bytes(16 * 1024, i));
    for (let i = 0; i < 64; i++) peer.sendMany(chunk, true);
    expect(peer.bufferedAmount).toBeGreaterThan(1024 * 1024);
    const drained = peer.waitForDrain(1024 * 1024).then(() => peer.bufferedAmount);
    ws.resume();
    expect(await drained).toBeLessThanOrEqual(1024 * 1024);
    await peer.waitForDrain(0);
    await server.until(start + 64 * 64);
    const got = server.got.slice(start);
    expect(got.every((r, i) => r.data.equals(chunk[i % 64] as Buffer))).toBe(true);
    peer.close();
  });

  it('uses the very socket ws writes to (the public upgrade socket is ws’s own)', async () => {
    // The one reach into ws internals, in a test only: if a ws update ever hands the Peer a
    // different socket than the one ws writes to, this fails instead of frames interleaving.
    const o = parseClient({ url: server.url }, ENV);
    const peer = await connect(await prepareConnect(o.connect, undefined));
    const internals = peer as unknown as { ws: { _socket: unknown }; socket: unknown };
    expect(internals.socket).toBeDefined();
    expect(internals.socket).toBe(internals.ws._socket);
    peer.terminate();
  });
});

describe('Peer with permessage-deflate', () => {
  let server: Awaited<ReturnType<typeof recordingServer>>;
  beforeAll(async () => {
    server = await recordingServer(true);
  });
  afterAll(() => server.close());

  it('offers no context takeover; small messages skip zlib, large ones are compressed, order kept', async () => {
    const peer = await open(server.url);
    expect(peer.info.extensions).toBe('permessage-deflate');
    const offer = server.offers[server.offers.length - 1];
    expect(offer).toContain('client_no_context_takeover');
    expect(offer).toContain('server_no_context_takeover');
    const start = server.got.length;
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const big = i % 7 === 0;
      sent.push(Buffer.from(`${i} ${(big ? 'compressible ' : '').repeat(big ? 400 : 0)}`));
    }
    for (let i = 0; i < sent.length; i += 10) peer.sendMany(sent.slice(i, i + 10), false);
    await server.until(start + sent.length);
    expect(server.got.slice(start).map((r) => r.data.toString())).toEqual(
      sent.map((b) => b.toString()),
    );
    // Compressed bytes on the wire are fewer than the payload: the big ones went through zlib.
    expect(peer.stats.bytesOut).toBe(sent.reduce((s, b) => s + b.length, 0));
    peer.close();
  });

  it('compresses at zlib level 1: the bytes on the wire are level 1’s, not the default’s', async () => {
    const peer = await open(server.url);
    const socket = server.requests[server.requests.length - 1]?.socket as Socket;
    const items = Array.from({ length: 400 }, (_, i) => ({
      id: i,
      name: `user${(i * 7919) % 1000}`,
    }));
    const json = Buffer.from(JSON.stringify(items));
    // permessage-deflate with no context takeover: one raw deflate stream per message, sync-flushed,
    // without its 4-byte 00 00 ff ff tail (RFC 7692 §7.2.1).
    const deflated = (level: number) =>
      deflateRawSync(json, { level, finishFlush: constants.Z_SYNC_FLUSH }).length - 4;
    expect(deflated(1)).not.toBe(deflated(6));
    const before = socket.bytesRead;
    const start = server.got.length;
    peer.send(json, false);
    await server.until(start + 1);
    expect(server.got[start]?.data.equals(json)).toBe(true);
    // Header (2 + 2 length bytes, the payload is under 64 KiB) + masking key + payload.
    expect(socket.bytesRead - before).toBe(2 + 2 + 4 + deflated(1));
    peer.close();
  });

  it('a chunk of short lines is framed from the chunk, uncompressed; one with a long line is not', async () => {
    const peer = await open(server.url);
    const socket = server.requests[server.requests.length - 1]?.socket as Socket;
    const enc = (peer as unknown as { encoder: FrameEncoder }).encoder;
    let fromRanges = 0;
    const encodeRanges = enc.encodeRanges.bind(enc);
    enc.encodeRanges = (...args) => {
      fromRanges++;
      return encodeRanges(...args);
    };
    const batchOf = (lines: string[]) => {
      const b = new MessageBatch();
      b.chunk = Buffer.from(lines.join('\n'));
      let at = 0;
      for (const l of lines) {
        b.starts.push(at);
        b.ends.push(at + Buffer.byteLength(l));
        at += Buffer.byteLength(l) + 1;
      }
      return b;
    };
    const short = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(i % 200)}`);
    let start = server.got.length;
    let before = socket.bytesRead;
    peer.sendBatch(batchOf(short), false);
    await server.until(start + short.length);
    expect(server.got.slice(start).map((r) => r.data.toString())).toEqual(short);
    expect(fromRanges).toBe(1);
    // Uncompressed on the wire: the header, the masking key and the payload, each.
    const wire = short.reduce((n, l) => n + headerSize(Buffer.byteLength(l), true) + l.length, 0);
    expect(socket.bytesRead - before).toBe(wire);
    // A long compressible line among them: message by message, that one through zlib.
    const mixed = [...short.slice(0, 10), 'compressible '.repeat(400), ...short.slice(10, 20)];
    start = server.got.length;
    before = socket.bytesRead;
    peer.sendBatch(batchOf(mixed), false);
    await server.until(start + mixed.length);
    expect(server.got.slice(start).map((r) => r.data.toString())).toEqual(mixed);
    expect(fromRanges).toBe(1);
    expect(socket.bytesRead - before).toBeLessThan(mixed.reduce((n, l) => n + l.length, 0));
    peer.close();
  });

  it('single sends, small (queued) and large (compressed by ws), keep their order', async () => {
    const peer = await open(server.url);
    const start = server.got.length;
    const sent = Array.from({ length: 120 }, (_, i) =>
      i % 9 === 4 ? `${i} ${'compressible '.repeat(300)}` : `${i}`,
    );
    for (const m of sent) peer.send(m, false);
    await server.until(start + sent.length);
    expect(server.got.slice(start).map((r) => r.data.toString())).toEqual(sent);
    peer.close();
  });
});

describe('Peer send fast path, server side (unmasked), to a ws client', () => {
  it('listen mode compresses at zlib level 1 too', async () => {
    const server = await listen({
      port: 0,
      bind: '127.0.0.1',
      subprotocols: [],
      compress: true,
      maxMessageSize: 1 << 30,
      tls: undefined,
    });
    const peerP = new Promise<Peer>((r) => server.once('peer', (p) => r(p)));
    const client = new WebSocket(server.url, { perMessageDeflate: true });
    let socket: Socket | undefined;
    client.on('upgrade', (res) => {
      socket = res.socket as Socket;
    });
    const json = Buffer.from(
      JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ i, v: `v${(i * 7919) % 1000}` }))),
    );
    const got = new Promise<Buffer>((r) => client.once('message', (d) => r(d as Buffer)));
    const peer = await peerP;
    await new Promise((r) => client.once('open', r));
    peer.start();
    expect(peer.info.extensions).toContain('permessage-deflate');
    const before = (socket as Socket).bytesRead;
    peer.send(json, false);
    expect((await got).equals(json)).toBe(true);
    const level1 =
      deflateRawSync(json, { level: 1, finishFlush: constants.Z_SYNC_FLUSH }).length - 4;
    expect((socket as Socket).bytesRead - before).toBe(2 + 2 + level1);
    client.terminate();
    await server.close();
  });

  it('odd lengths and payloads written by reference arrive byte-exact and in order', async () => {
    const server = await listen({
      port: 0,
      bind: '127.0.0.1',
      subprotocols: [],
      compress: false,
      maxMessageSize: 1 << 30,
      tls: undefined,
    });
    const peerP = new Promise<Peer>((r) => server.once('peer', (p) => r(p)));
    const client = new WebSocket(server.url);
    const got: Buffer[] = [];
    const messages = [...ODD, 16 * 1024, 200_000, 3].map((n, i) => bytes(n, i + 1));
    const all = new Promise<void>((r) =>
      client.on('message', (d) => {
        got.push(d as Buffer);
        if (got.length === messages.length * 2) r();
      }),
    );
    const peer = await peerP;
    peer.start();
    peer.sendMany(messages, true);
    for (const m of messages) peer.send(m, true);
    await all;
    expect(got.every((g, i) => g.equals(messages[i % messages.length] as Buffer))).toBe(true);
    client.terminate();
    await server.close();
  });
});

describe('listen mode: per-client memory', () => {
  it('Peers share their listeners and socket wrappers (no closures per client), each still its own', async () => {
    const server = await listen({
      port: 0,
      bind: '127.0.0.1',
      subprotocols: [],
      compress: false,
      maxMessageSize: 1 << 30,
      tls: undefined,
    });
    const accepted: Array<{ peer: Peer; socket: Socket }> = [];
    const both = new Promise<void>((r) =>
      server.on('peer', (peer, req) => {
        accepted.push({ peer, socket: req.socket as Socket });
        if (accepted.length === 2) r();
      }),
    );
    const clients = [new WebSocket(server.url), new WebSocket(server.url)];
    await Promise.all(clients.map((c) => new Promise((r) => c.once('open', r))));
    await both;
    const [a, b] = accepted as [{ peer: Peer; socket: Socket }, { peer: Peer; socket: Socket }];
    const wsOf = (p: Peer) => (p as unknown as { ws: WebSocket }).ws;
    // The Peer's listener is the last one added (ws's own come first).
    for (const event of ['message', 'ping', 'pong', 'error', 'close'] as const) {
      const la = wsOf(a.peer).listeners(event);
      expect(la.length).toBeGreaterThan(0);
      expect(la.at(-1)).toBe(wsOf(b.peer).listeners(event).at(-1));
    }
    expect(a.socket.write).toBe(b.socket.write);
    expect(a.socket.end).toBe(b.socket.end);
    for (const event of ['data', 'finish'] as const)
      expect(a.socket.listeners(event).at(-1)).toBe(b.socket.listeners(event).at(-1));

    // Shared functions, but every event reaches its own Peer and every send its own client.
    const seen: string[] = [];
    a.peer.on('message', (d) => seen.push(`a:${d}`));
    b.peer.on('message', (d) => seen.push(`b:${d}`));
    const closed: string[] = [];
    a.peer.on('close', (i) => closed.push(`a:${i.code}`));
    b.peer.on('close', (i) => closed.push(`b:${i.code}`));
    a.peer.start();
    b.peer.start();
    const replies = clients.map(
      (c) => new Promise<string>((r) => c.once('message', (d) => r(String(d)))),
    );
    clients[0]?.send('from 0');
    clients[1]?.send('from 1');
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.sort()).toEqual(['a:from 0', 'b:from 1']);
    a.peer.send('to 0', false);
    b.peer.send('to 1', false);
    expect(await Promise.all(replies)).toEqual(['to 0', 'to 1']);
    const gone = new Promise((r) => a.peer.once('close', r));
    clients[0]?.close(4001);
    await gone;
    expect(closed).toEqual(['a:4001']);
    expect(b.peer.isOpen).toBe(true);
    clients[1]?.terminate();
    await server.close();
  });
});

describe('the close wait counts from the last data received', () => {
  it('a server still sending after our close frame is not cut off', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    // The server stops reading (so it does not see our close yet) and keeps sending for longer
    // than the close wait (5 s), then reads on and answers the close.
    const TICKS = 70;
    wss.on('connection', (ws) => {
      ws.on('message', () => {
        ws.pause();
        let i = 0;
        const t = setInterval(() => {
          ws.send(`tick ${i++}`);
          if (i === TICKS) {
            clearInterval(t);
            ws.resume();
          }
        }, 100);
      });
    });
    const peer = await open(url);
    const got: string[] = [];
    peer.on('message', (d) => got.push(d.toString()));
    const closed = new Promise<{ code: number; closeFrameReceived: boolean }>((r) =>
      peer.once('close', r),
    );
    peer.send('go', false);
    // Our close goes out with the first tick, as `-w 0` would.
    await new Promise<void>((r) => peer.once('message', () => r()));
    peer.close(1000);
    const info = await closed;
    expect(info.closeFrameReceived).toBe(true);
    expect(info.code).toBe(1000);
    expect(got).toEqual(Array.from({ length: TICKS }, (_, i) => `tick ${i}`));
    await new Promise<void>((r) => wss.close(() => r()));
  }, 20_000);
});

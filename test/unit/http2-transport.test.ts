// The HTTP/2 transport in-process, client (connect) against server (listen): guards the two
// places it relies on ws's public API — http.request's `createConnection` (ws passes it on and
// runs its upgrade over the Duplex it returns) and handleUpgrade with a generic Duplex (ws ≥ 8.14)
// — so a ws update that changes either fails here, not silently in the field.

import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/connection.js';
import { type ListenServer, listen } from '../../src/listen.js';
import type { MessagePeer } from '../../src/peer.js';
import { prepareConnect } from '../../src/prepare.js';
import { describeSettings } from '../../src/transport/http2-client.js';
import { parseHead, StreamSocket } from '../../src/transport/http2-stream.js';
import { parseClient } from '../helpers/options.js';

const env = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {} };
const servers: ListenServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<{
  url: string;
  peers: MessagePeer[];
  next(): Promise<MessagePeer>;
}> {
  const s = await listen({
    port: 0,
    bind: '127.0.0.1',
    subprotocols: [],
    compress: true,
    maxMessageSize: 1024 * 1024,
    tls: undefined,
    http2: true,
  });
  servers.push(s);
  const peers: MessagePeer[] = [];
  const waiting: Array<(p: MessagePeer) => void> = [];
  s.on('peer', (peer) => {
    peers.push(peer);
    peer.start();
    waiting.shift()?.(peer);
  });
  return { url: s.url, peers, next: () => new Promise((r) => waiting.push(r)) };
}

async function client(url: string, extra: Record<string, unknown> = {}): Promise<MessagePeer> {
  const o = parseClient({ url, http2Only: true, ...extra }, env);
  const peer = await connect(await prepareConnect(o.connect, undefined));
  peer.start();
  return peer;
}

const once = <T>(peer: MessagePeer, event: 'message' | 'close' | 'pong') =>
  new Promise<T>((resolve) =>
    peer.once(event, ((...args: unknown[]) => resolve(args as T)) as never),
  );

describe('HTTP/2 transport over ws', () => {
  it('messages, permessage-deflate, ping RTT and a close code both ways', async () => {
    const s = await server();
    const serverPeer = s.next();
    const c = await client(s.url);
    const sp = await serverPeer;
    expect(c.info.request?.method).toBe('CONNECT');
    expect(sp.info.request?.method).toBe('CONNECT');
    expect(c.info.extensions).toContain('permessage-deflate');
    expect(sp.info.extensions).toContain('permessage-deflate');

    const big = 'q'.repeat(50_000);
    const atServer = once<[Buffer, boolean]>(sp, 'message');
    c.send(big, false);
    const [data, binary] = await atServer;
    expect(binary).toBe(false);
    expect(data.toString()).toBe(big);

    const atClient = once<[Buffer, boolean]>(c, 'message');
    sp.send(Buffer.from([9, 8, 7]), true);
    const [back, isBinary] = await atClient;
    expect(isBinary).toBe(true);
    expect([...back]).toEqual([9, 8, 7]);

    const pong = once<[Buffer, string, number | undefined]>(c, 'pong');
    c.ping(Buffer.from('p1'));
    const [payload, dir, rtt] = await pong;
    expect(payload.toString()).toBe('p1');
    expect(dir).toBe('in');
    expect(typeof rtt).toBe('number');

    const serverClosed = once<[{ code: number; reason: string; closeFrameReceived: boolean }]>(
      sp,
      'close',
    );
    const clientClosed = once<[{ code: number; reason: string; closeFrameReceived: boolean }]>(
      c,
      'close',
    );
    c.close(4005, 'client says bye');
    const [si] = await serverClosed;
    const [ci] = await clientClosed;
    expect(si).toMatchObject({ code: 4005, reason: 'client says bye', closeFrameReceived: true });
    expect(ci).toMatchObject({ code: 4005, reason: 'client says bye', closeFrameReceived: true });
  });

  it('the server closes first: its code reaches the client, never 1006', async () => {
    const s = await server();
    const serverPeer = s.next();
    const c = await client(s.url);
    const sp = await serverPeer;
    const clientClosed = once<[{ code: number; reason: string; closeFrameReceived: boolean }]>(
      c,
      'close',
    );
    sp.close(4100, 'server says bye');
    const [ci] = await clientClosed;
    expect(ci).toMatchObject({ code: 4100, reason: 'server says bye', closeFrameReceived: true });
  });

  it('--max-message-size is ws maxPayload over the stream too (closes with 1009)', async () => {
    const s = await server();
    const serverPeer = s.next();
    const c = await client(s.url, { maxMessageSize: '100' });
    const sp = await serverPeer;
    const serverClosed = once<[{ code: number }]>(sp, 'close');
    c.on('error', () => {});
    sp.send('x'.repeat(1000), false);
    const [si] = await serverClosed;
    expect(si.code).toBe(1009);
  });
});

describe('pieces', () => {
  it('parses an HTTP head as ws and Node write it', () => {
    const head = parseHead('GET /a?b HTTP/1.1\r\nHost: h:1\r\nSec-WebSocket-Key: abc==\r\nX: a: b');
    expect(head.startLine).toBe('GET /a?b HTTP/1.1');
    expect(head.headers).toEqual([
      ['Host', 'h:1'],
      ['Sec-WebSocket-Key', 'abc=='],
      ['X', 'a: b'],
    ]);
  });

  it('names SETTINGS as RFC 9113 / RFC 8441 do, booleans as 0/1', () => {
    expect(
      describeSettings({
        enablePush: false,
        initialWindowSize: 65535,
        enableConnectProtocol: true,
      }),
    ).toBe(
      'SETTINGS_ENABLE_PUSH=0, SETTINGS_INITIAL_WINDOW_SIZE=65535, SETTINGS_ENABLE_CONNECT_PROTOCOL=1',
    );
  });

  it('a StreamSocket hands the first head to its owner and passes the rest on', async () => {
    const heads: string[] = [];
    const s = new StreamSocket((h) => heads.push(h.startLine));
    await new Promise<void>((resolve) =>
      s.write('HTTP/1.1 101 Switching\r\nA: b\r\n\r\n', () => resolve()),
    );
    expect(heads).toEqual(['HTTP/1.1 101 Switching']);
    s.destroy();
  });
});

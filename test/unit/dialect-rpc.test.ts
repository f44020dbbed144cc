// The jsonrpc and cdp layers against a fake peer: ids, full objects and batches, matching,
// errors, notifications and events; and the dialect feature's detection and announcement.

import { describe, expect, it } from 'vitest';
import { cdp } from '../../src/dialects/cdp.js';
import { dialectFeature } from '../../src/dialects/feature.js';
import { jsonrpc } from '../../src/dialects/jsonrpc.js';
import { parseDialectOptions } from '../../src/dialects/options.js';
import type { ClientOptions } from '../../src/options.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

function setup(spec: typeof jsonrpc, flags: Record<string, string | boolean> = {}) {
  const peer = new FakePeer();
  const d = spec.create(peer, {
    options: parseDialectOptions({ dialect: spec.name, ...flags }),
    state: spec.initialState(),
    ctx: fakeContext(),
  });
  const seen = watch(d);
  d.start();
  return { peer, d, seen };
}

describe('jsonrpc', () => {
  it('method lines, full objects and batches get ids; responses match them', () => {
    const { peer, d, seen } = setup(jsonrpc);
    d.input('eth_blockNumber', false);
    d.input('eth_getBalance ["0xabc", "latest"]', false);
    d.input('{"jsonrpc":"2.0","method":"a","params":{"x":1}}', false);
    d.input('[{"jsonrpc":"2.0","method":"b"},{"jsonrpc":"2.0","method":"c","id":"k"}]', false);
    expect(peer.take()).toEqual([
      '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}',
      '{"jsonrpc":"2.0","id":2,"method":"eth_getBalance","params":["0xabc","latest"]}',
      '{"jsonrpc":"2.0","method":"a","params":{"x":1},"id":3}',
      '[{"jsonrpc":"2.0","method":"b","id":4},{"jsonrpc":"2.0","method":"c","id":"k"}]',
    ]);
    expect(d.outstanding()).toBe(5);
    peer.deliver('{"jsonrpc":"2.0","id":2,"result":"0x10"}');
    expect(seen.messages.at(-1)?.view?.label).toMatch(/^\[#2 eth_getBalance · \d+\.\d ms\]$/);
    expect(seen.messages.at(-1)?.view).toMatchObject({ text: '"0x10"', body: '"0x10"' });
    peer.deliver('[{"jsonrpc":"2.0","id":4,"result":1},{"jsonrpc":"2.0","id":"k","result":2}]');
    expect(seen.messages.slice(-2).map((m) => m.view?.dialect?.method)).toEqual(['b', 'c']);
    peer.deliver('{"jsonrpc":"2.0","id":1,"result":"0x1b4"}');
    peer.deliver('{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"execution reverted"}}');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: '[#3 a · error -32000]',
      body: 'execution reverted',
      // An application message (counted, matched) that raw output leaves to the stderr line.
      rawHidden: true,
    });
    expect(seen.messages.at(-1)?.view?.control).toBeUndefined();
    expect(seen.errors).toEqual([
      {
        kind: 'application',
        code: 'RPC_ERROR',
        message: 'a (#3) failed: -32000 execution reverted',
      },
    ]);
    expect(d.outstanding()).toBe(0);
    // Once when the (empty) handshake completed, once when the last response came.
    expect(seen.settled).toBe(2);
  });

  it('notifications: from the server by method, /notify without an id', () => {
    const { peer, d, seen } = setup(jsonrpc);
    peer.deliver('{"jsonrpc":"2.0","method":"eth_subscription","params":{"result":"0x1"}}');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: '[eth_subscription]',
      body: '{"result":"0x1"}',
      dialect: { type: 'notification', method: 'eth_subscription' },
    });
    d.command('notify', 'log ["x"]');
    expect(peer.take()).toEqual(['{"jsonrpc":"2.0","method":"log","params":["x"]}']);
    expect(d.outstanding()).toBe(0);
  });

  it('bad lines are usage errors; nothing is sent', () => {
    const { peer, d, seen } = setup(jsonrpc);
    d.input('m 42', false);
    d.input('{"not":"closed"', false);
    d.input('[1, 2]', false);
    expect(seen.errors.map((e) => e.kind)).toEqual(['usage', 'usage', 'usage']);
    expect(peer.take()).toEqual([]);
  });
});

describe('cdp', () => {
  it('no jsonrpc member; events by name are application messages, raw-hidden unless --events', () => {
    const { peer, d, seen } = setup(cdp as typeof jsonrpc);
    d.input('Page.navigate {"url":"about:blank"}', false);
    expect(peer.take()).toEqual([
      '{"id":1,"method":"Page.navigate","params":{"url":"about:blank"}}',
    ]);
    peer.deliver('{"method":"Page.loadEventFired","params":{"timestamp":1}}');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: 'Page.loadEventFired',
      rawHidden: true,
      dialect: { type: 'event', method: 'Page.loadEventFired' },
    });
    expect(seen.messages.at(-1)?.view?.control).toBeUndefined();
    const withEvents = setup(cdp as typeof jsonrpc, { events: true });
    withEvents.peer.deliver('{"method":"Page.loadEventFired","params":{"timestamp":1}}');
    expect(withEvents.seen.messages.at(-1)?.view?.control).toBeUndefined();
    expect(withEvents.seen.messages.at(-1)?.view?.rawHidden).toBeUndefined();
    expect(withEvents.seen.messages.at(-1)?.view?.text).toBe(
      '{"method":"Page.loadEventFired","params":{"timestamp":1}}',
    );
  });
});

function clientOptions(url: string, subprotocols: string[], dialect?: string): ClientOptions {
  return {
    connect: { url, subprotocols },
    dialect: parseDialectOptions({ dialect }),
  } as unknown as ClientOptions;
}

describe('the dialect feature', () => {
  it('is not used without --dialect, a Socket.IO path or a known subprotocol', async () => {
    expect(await dialectFeature(clientOptions('ws://h/', ['chat']))).toBeUndefined();
    expect(await dialectFeature(clientOptions('ws://h/socket.io/', [], 'none'))).toBeUndefined();
  });

  it('picks by the negotiated subprotocol and announces it; passes other connections through', async () => {
    const f = await dialectFeature(clientOptions('ws://h/', ['graphql-transport-ws', 'mqtt']));
    expect(f?.commands?.map((c) => c.name)).toEqual(
      expect.arrayContaining(['raw', 'raw-binary', 'stop', 'ops', 'pub']),
    );
    const ctx = fakeContext();
    const plain = new FakePeer({ protocol: '' });
    expect(f?.wrap(plain, ctx)).toBe(plain);
    const gql = f?.wrap(new FakePeer({ protocol: 'graphql-transport-ws' }), ctx);
    expect((gql as { dialect?: string } | undefined)?.dialect).toBe('graphql');
    const notes: string[] = [];
    gql?.on('note', (_level, text) => notes.push(text));
    gql?.start();
    expect(notes).toEqual([
      'dialect: graphql (graphql-transport-ws); --dialect none for plain frames',
    ]);
  });

  it('--dialect graphql offers both subprotocols unless -s chose', async () => {
    const ctx = fakeContext();
    const f = await dialectFeature(clientOptions('ws://h/', [], 'graphql'));
    const c = await f?.prepare?.({ url: 'ws://h/', subprotocols: [] } as never, ctx);
    expect(c?.subprotocols).toEqual(['graphql-transport-ws', 'graphql-ws']);
    const g = await dialectFeature(clientOptions('ws://h/', ['graphql-ws'], 'graphql'));
    const d = await g?.prepare?.({ url: 'ws://h/', subprotocols: ['graphql-ws'] } as never, ctx);
    expect(d?.subprotocols).toEqual(['graphql-ws']);
  });

  it('--dialect socketio maps the URL to the Engine.IO endpoint and the namespace', async () => {
    const ctx = fakeContext();
    const f = await dialectFeature(clientOptions('ws://h:3000/admin', [], 'socketio'));
    const c = await f?.prepare?.({ url: 'ws://h:3000/admin?x=1', subprotocols: [] } as never, ctx);
    expect(c?.url).toBe('ws://h:3000/socket.io/?x=1&EIO=4&transport=websocket');
    expect(c?.subprotocols).toEqual([]);
  });
});

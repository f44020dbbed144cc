// The graphql layer against a fake peer, in both protocols: connection_init, held documents,
// ids, next/error/complete, ping/pong and ka, /stop, completing on close, the legacy retry mark
// and re-subscribing after a reconnect.

import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/dialects/graphql.js';
import { parseDialectOptions } from '../../src/dialects/options.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

function setup(
  protocol: string,
  flags: Record<string, string> = {},
  state = graphql.initialState(),
) {
  const peer = new FakePeer({ protocol });
  const d = graphql.create(peer, {
    options: parseDialectOptions({ dialect: 'graphql', ...flags }),
    state,
    ctx: fakeContext(),
  });
  const seen = watch(d);
  d.start();
  return { peer, d, seen, state };
}

const json = (texts: string[]) => texts.map((t) => JSON.parse(t) as Record<string, unknown>);

describe('graphql-transport-ws', () => {
  it('connection_init with --init, documents held until the ack, ids 1, 2, 3', () => {
    const { peer, d, seen } = setup('graphql-transport-ws', {
      init: '{"token":"t"}',
      variables: '{"n":1}',
    });
    expect(json(peer.take())).toEqual([{ type: 'connection_init', payload: { token: 't' } }]);
    d.input('{ hello }', false);
    d.input('{"query":"query Q { q }","operationName":"Q"}', false);
    expect(peer.take()).toEqual([]);
    peer.deliver('{"type":"connection_ack"}');
    expect(json(peer.take())).toEqual([
      { id: '1', type: 'subscribe', payload: { query: '{ hello }', variables: { n: 1 } } },
      {
        id: '2',
        type: 'subscribe',
        payload: { query: 'query Q { q }', operationName: 'Q', variables: { n: 1 } },
      },
    ]);
    expect(d.outstanding()).toBe(2);
    peer.deliver('{"id":"1","type":"next","payload":{"data":{"hello":"world"}}}');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: '[1 next]',
      text: '{"data":{"hello":"world"}}',
      dialect: { type: 'next', id: '1' },
    });
    peer.deliver('{"id":"1","type":"complete"}');
    expect(seen.messages.at(-1)?.view).toMatchObject({ label: '[1 complete]', control: true });
    // Not a heartbeat: --hide-ping-pong keeps it.
    expect(seen.messages.at(-1)?.view?.heartbeat).toBeUndefined();
    peer.deliver('{"id":"2","type":"error","payload":[{"message":"no q"}]}');
    // An application message (counted, matched); raw output leaves it to the stderr line.
    expect(seen.messages.at(-1)?.view).toMatchObject({ label: '[2 error]', rawHidden: true });
    expect(seen.messages.at(-1)?.view?.control).toBeUndefined();
    expect(seen.errors).toEqual([
      { kind: 'application', code: 'GRAPHQL_ERROR', message: 'GraphQL operation 2 failed: no q' },
    ]);
    expect(d.outstanding()).toBe(0);
    expect(seen.settled).toBe(1);
  });

  it('answers ping with pong; /stop completes one operation; close completes the rest', () => {
    const { peer, d, seen } = setup('graphql-transport-ws');
    peer.deliver('{"type":"connection_ack"}');
    peer.deliver('{"type":"ping"}');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: '[ping]',
      control: true,
      heartbeat: true,
    });
    expect(seen.sent.at(-1)?.view).toMatchObject({ label: '[pong]', auto: true, heartbeat: true });
    d.input('subscription {', false);
    d.input('  a', false);
    d.input('}', false);
    d.input('subscription { b }', false);
    expect(json(peer.take()).map((m) => [m.type, m.id])).toEqual([
      ['connection_init', undefined],
      ['pong', undefined],
      ['subscribe', '1'],
      ['subscribe', '2'],
    ]);
    d.command('stop', '1');
    expect(json(peer.take())).toEqual([{ id: '1', type: 'complete' }]);
    peer.deliver('{"id":"1","type":"next","payload":{"data":{"a":9}}}');
    expect(seen.messages.at(-1)?.view).toMatchObject({ control: true, note: 'after /stop' });
    expect(() => d.command('stop', '9')).toThrow(/no active operation 9/);
    d.close(1000, '');
    expect(json(peer.take())).toEqual([{ id: '2', type: 'complete' }]);
    expect(peer.closed).toEqual({ code: 1000, reason: '' });
  });

  it('a 1002 close before the ack (a legacy-only server) marks the retry with graphql-ws', async () => {
    const state = graphql.initialState();
    const ctx = fakeContext();
    const prepared = await graphql.prepare?.(
      { subprotocols: ['graphql-transport-ws', 'graphql-ws'] } as never,
      { options: parseDialectOptions({ dialect: 'graphql' }), state, ctx, explicit: true },
    );
    expect(prepared?.subprotocols).toEqual(['graphql-transport-ws', 'graphql-ws']);
    const { peer } = setup('graphql-transport-ws', {}, state);
    peer.end({ code: 1002 });
    expect(graphql.retry?.(state)).toBe(true);
    expect(graphql.retry?.(state)).toBe(false);
    const again = await graphql.prepare?.(
      { subprotocols: ['graphql-transport-ws', 'graphql-ws'] } as never,
      { options: parseDialectOptions({ dialect: 'graphql' }), state, ctx, explicit: true },
    );
    expect(again?.subprotocols).toEqual(['graphql-ws']);
  });

  it('a new connection (--reconnect) re-subscribes the active operations with their ids', () => {
    const first = setup('graphql-transport-ws');
    first.peer.deliver('{"type":"connection_ack"}');
    first.d.input('subscription { a }', false);
    first.d.input('{ b }', false);
    first.peer.deliver('{"id":"2","type":"complete"}');
    first.peer.end({ code: 1006, closeFrameReceived: false });
    const second = setup('graphql-transport-ws', {}, first.state);
    second.peer.take();
    second.peer.deliver('{"type":"connection_ack"}');
    expect(json(second.peer.take())).toEqual([
      { id: '1', type: 'subscribe', payload: { query: 'subscription { a }' } },
    ]);
    second.d.input('{ c }', false);
    expect(json(second.peer.take())[0]?.id).toBe('3');
  });
});

describe('legacy graphql-ws (subscriptions-transport-ws)', () => {
  it('start/stop, data as next, ka as control, connection_error exit 5, terminate on close', () => {
    const { peer, d, seen } = setup('graphql-ws');
    peer.deliver('{"type":"connection_ack"}');
    peer.deliver('{"type":"ka"}');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: '[ka]',
      control: true,
      heartbeat: true,
    });
    d.input('subscription { t }', false);
    peer.deliver('{"id":"1","type":"data","payload":{"data":{"t":1}}}');
    expect(seen.messages.at(-1)?.view).toMatchObject({
      label: '[1 next]',
      text: '{"data":{"t":1}}',
    });
    d.close(1000, '');
    expect(json(peer.take()).map((m) => m.type)).toEqual([
      'connection_init',
      'start',
      'stop',
      'connection_terminate',
    ]);
    const bad = setup('graphql-ws');
    bad.d.input('{ x }', false);
    bad.peer.deliver('{"type":"connection_error","payload":{"message":"nope"}}');
    expect(bad.seen.errors.map((e) => [e.kind, e.message])).toEqual([
      ['application', 'GraphQL connection_error: nope'],
    ]);
    expect(bad.d.outstanding()).toBe(0);
  });
});

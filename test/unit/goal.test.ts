// --count / --expect (Goal): which messages count — heartbeats, acks and receipts do not; CDP
// events and error responses, which raw output leaves out, do (SPEC §12, §17).

import { describe, expect, it } from 'vitest';
import { cdp } from '../../src/dialects/cdp.js';
import { jsonrpc } from '../../src/dialects/jsonrpc.js';
import { parseDialectOptions } from '../../src/dialects/options.js';
import type { MessageView } from '../../src/peer.js';
import { Goal } from '../../src/session/goal.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

const buf = (s: string) => Buffer.from(s);

describe('Goal: heartbeats vs control vs raw-hidden messages', () => {
  it('a heartbeat and an ack are not counted; a raw-hidden message is', () => {
    const goal = new Goal({ count: 2, expect: undefined });
    const heartbeat: MessageView = { control: true, heartbeat: true, label: '[ping]', body: '' };
    const ack: MessageView = { control: true, label: '[ack 0]', text: '[6]' };
    expect(goal.record(buf('2'), false, heartbeat)).toBe(false);
    expect(goal.record(buf('430[6]'), false, ack)).toBe(false);
    expect(goal.received).toBe(0);
    const event: MessageView = { rawHidden: true, text: '{"method":"Page.loadEventFired"}' };
    expect(goal.record(buf('{"method":"Page.loadEventFired"}'), false, event)).toBe(false);
    expect(goal.received).toBe(1);
    expect(goal.record(buf('x'), false, undefined)).toBe(true);
    expect(goal.met).toBe(true);
  });

  it('--expect matches a raw-hidden message, never a heartbeat or control frame', () => {
    const expectGoal = () => new Goal({ count: undefined, expect: /loadEventFired|ping/ });
    const g1 = expectGoal();
    expect(g1.record(buf('2'), false, { control: true, heartbeat: true, text: 'ping' })).toBe(
      false,
    );
    expect(g1.record(buf('p'), false, { control: true, text: 'ping' })).toBe(false);
    expect(g1.unmet).toBe(true);
    const g2 = expectGoal();
    expect(g2.record(buf('{}'), false, { rawHidden: true, text: '"Page.loadEventFired"' })).toBe(
      true,
    );
  });

  it('counts the views the cdp and jsonrpc dialects give events and error responses', () => {
    const run = (spec: typeof jsonrpc, frames: string[]) => {
      const peer = new FakePeer();
      const d = spec.create(peer, {
        options: parseDialectOptions({ dialect: spec.name }),
        state: spec.initialState(),
        ctx: fakeContext(),
      });
      const seen = watch(d);
      d.start();
      d.input(spec === jsonrpc ? 'a' : 'Page.navigate', false);
      for (const f of frames) peer.deliver(f);
      const goal = new Goal({ count: frames.length, expect: undefined });
      const hits = seen.messages.map((m) => goal.record(m.data, m.binary, m.view));
      return { goal, hits, views: seen.messages.map((m) => m.view) };
    };
    // CDP: an event (raw output leaves it out without --events) and a result: two messages.
    const c = run(cdp as typeof jsonrpc, [
      '{"method":"Page.loadEventFired","params":{"timestamp":1}}',
      '{"id":1,"result":{}}',
    ]);
    expect(c.views[0]).toMatchObject({ rawHidden: true });
    expect(c.goal.received).toBe(2);
    expect(c.hits).toEqual([false, true]);
    // JSON-RPC: an error response is an application message too.
    const j = run(jsonrpc, ['{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"no"}}']);
    expect(j.views[0]).toMatchObject({ rawHidden: true });
    expect(j.hits).toEqual([true]);
  });
});

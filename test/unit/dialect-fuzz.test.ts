// Seeded fuzz: random server frames and random typed lines never throw out of a dialect layer
// (a bad line is a usage error event, a bad frame is shown with a note), in every dialect.

import { describe, expect, it } from 'vitest';
import { cdp } from '../../src/dialects/cdp.js';
import type { Dialect, DialectSpec } from '../../src/dialects/dialect.js';
import { graphql } from '../../src/dialects/graphql.js';
import { jsonrpc } from '../../src/dialects/jsonrpc.js';
import { parseDialectOptions } from '../../src/dialects/options.js';
import { socketio } from '../../src/dialects/socketio.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';
import { pick, randomBytes, rng } from '../helpers/random.js';

/** Pieces real frames are made of, so random ones get past the first check now and then. */
const PIECES = [
  '0{"sid":"a","pingInterval":25000,"pingTimeout":20000}',
  '40',
  '40{"sid":"b"}',
  '42["chat","hi"]',
  '451-["f",{"_placeholder":true,"num":0}]',
  '43',
  '430[1]',
  '44{"message":"x"}',
  '2',
  '3',
  '{"type":"connection_ack"}',
  '{"id":"1","type":"next","payload":{"data":null}}',
  '{"id":"1","type":"error","payload":null}',
  '{"type":"ping"}',
  '{"jsonrpc":"2.0","id":1,"result":[1]}',
  '{"id":1,"error":7}',
  '{"method":"X.y","params":null}',
  '[{"id":2},null,3]',
  '{',
  '"',
  '[',
  '}',
  '\u0000',
  '{"id":{"nested":1},"result":{}}',
];

const LINES = [
  '/emit',
  '/emit --ack',
  '/emit "x" @hex:zz',
  '/emit x @file:/no/such/file',
  '/ack',
  '/ack x',
  '/ack 1 {',
  '/stop',
  '/stop 99',
  '/ops',
  '/notify',
  '/notify m [',
  '/raw',
  '/raw-binary 0',
  '{',
  '}',
  '[',
  '["x"',
  'method {"a":',
  'subscription { x',
  '',
  '   ',
  '//raw',
];

const SPECS: Array<[string, DialectSpec]> = [
  ['socketio', socketio as DialectSpec],
  ['graphql', graphql as DialectSpec],
  ['jsonrpc', jsonrpc as DialectSpec],
  ['cdp', cdp as DialectSpec],
];

describe.each(SPECS)('%s never throws on random input', (name, spec) => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i', (seed) => {
    const r = rng(seed * 7919);
    const peer = new FakePeer({ protocol: name === 'graphql' ? 'graphql-transport-ws' : '' });
    const state = spec.initialState();
    if (name === 'socketio') Object.assign(state as object, { eio: seed % 2 === 0 ? 4 : 3 });
    const d: Dialect = spec.create(peer, {
      options: parseDialectOptions({ dialect: name }),
      state,
      ctx: fakeContext(),
    });
    const seen = watch(d);
    d.start();
    for (let i = 0; i < 300; i++) {
      const roll = r();
      if (roll < 0.45) {
        const text = pick(r, PIECES) + (r() < 0.3 ? pick(r, PIECES) : '');
        peer.deliver(text);
      } else if (roll < 0.55) {
        peer.deliver(randomBytes(r, 40), true);
      } else if (roll < 0.8) {
        d.input(pick(r, LINES) + (r() < 0.5 ? pick(r, PIECES) : ''), false);
      } else if (roll < 0.9) {
        const line = pick(r, LINES);
        const m = /^\/([\w-]+)\s*(.*)$/.exec(line);
        if (m?.[1] && d.hasCommand(m[1])) {
          try {
            d.command(m[1], m[2] ?? '');
          } catch (err) {
            // Commands throw usage errors for the REPL to print: never anything else.
            expect((err as { kind?: string }).kind).toBe('usage');
          }
        }
      } else {
        d.input(randomBytes(r, 20), true);
      }
      if (peer.isClosed) break;
    }
    expect(seen.errors.every((e) => ['usage', 'protocol', 'application'].includes(e.kind))).toBe(
      true,
    );
    expect(d.outstanding()).toBeGreaterThanOrEqual(0);
    // The connection ends: the layer's timers stop.
    peer.end({ code: 1006, closeFrameReceived: false });
    expect(seen.closes).toHaveLength(1);
  });
});

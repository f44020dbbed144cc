// Codecs against the reference libraries' own encodings, and the decode and filter layers on a
// fake peer: decoded views, notes instead of aborts, order kept across one jq run, --encode.

import { deflateRawSync, gzipSync } from 'node:zlib';
import * as msgpack from '@msgpack/msgpack';
import * as cbor from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { parseConversationOptions } from '../../src/conversation/options.js';
import type { SessionOptions } from '../../src/options.js';
import { loadCodec, toJsonValue } from '../../src/views/codecs.js';
import { DecodeFeature } from '../../src/views/decode.js';
import { FilterFeature } from '../../src/views/filter.js';
import { compileJq } from '../../src/views/jq.js';
import { unfilteredText } from '../../src/views/unfiltered.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

const session = (mode: SessionOptions['mode'] = 'pipe') => ({ mode }) as SessionOptions;

describe('toJsonValue', () => {
  it.each([
    [2n ** 64n - 1n, '18446744073709551615'],
    [-(2n ** 63n), '-9223372036854775808'],
    [42n, 42],
    [new Uint8Array([1, 2, 255]), 'AQL/'],
    [new Date(Date.UTC(2026, 0, 2)), '2026-01-02T00:00:00.000Z'],
    [
      new Map<unknown, unknown>([
        [1, 'a'],
        ['k', new Set([1n])],
      ]),
      { '1': 'a', k: [1] },
    ],
    [Number.NaN, 'NaN'],
    [undefined, null],
    [{ nested: [{ big: 2n ** 60n }] }, { nested: [{ big: '1152921504606846976' }] }],
  ])('%o → %j', (input, out) => {
    expect(toJsonValue(input)).toEqual(out);
  });
});

describe('codecs decode what the reference libraries encode', () => {
  const value = { a: 1, s: 'x', list: [true, null], big: 2n ** 63n };
  it.each([
    ['msgpack', () => Buffer.from(msgpack.encode(value, { useBigInt64: true }))],
    ['cbor', () => Buffer.from(new cbor.Encoder({ useRecords: false }).encode(value))],
  ] as const)('%s', async (codec, make) => {
    const c = await loadCodec(codec, { maxBytes: 1e6 });
    const d = c.decode(make());
    expect(d.value).toEqual({ a: 1, s: 'x', list: [true, null], big: '9223372036854775808' });
    expect(JSON.parse(d.text)).toEqual(d.value);
  });

  it('gzip keeps the JSON text as sent (a long integer survives in the text)', async () => {
    const c = await loadCodec('gzip', { maxBytes: 1e6 });
    const d = c.decode(gzipSync('{"id":12345678901234567890}'));
    expect(d.text).toBe('{"id":12345678901234567890}');
  });

  it('deflate reads raw streams too; text that is not JSON becomes a string', async () => {
    const c = await loadCodec('deflate', { maxBytes: 1e6 });
    expect(c.decode(deflateRawSync('plain words')).value).toBe('plain words');
  });

  it('refuses a decompression larger than the message limit', async () => {
    const c = await loadCodec('gzip', { maxBytes: 1000 });
    expect(() => c.decode(gzipSync(Buffer.alloc(5000, 'a')))).toThrow();
  });
});

describe('the decode layer', () => {
  async function decodeLayer(textShown = true) {
    const codec = await loadCodec('msgpack', { maxBytes: 1e6 });
    const feature = new DecodeFeature(codec, codec, session(), textShown);
    const peer = new FakePeer();
    const layer = feature.wrap(peer, fakeContext());
    return { peer, layer, seen: watch(layer) };
  }

  it('decodes binary frames into the view; text frames pass unchanged', async () => {
    const { peer, seen } = await decodeLayer();
    peer.deliver(Buffer.from(msgpack.encode({ k: [1] })), true);
    peer.deliver('plain');
    expect(seen.messages[0]?.view).toEqual({
      decoded: { codec: 'msgpack', value: { k: [1] } },
      text: '{"k":[1]}',
    });
    expect(seen.messages[1]?.view).toBeUndefined();
  });

  it('a frame that does not decode: the bytes as they came and a one-line note', async () => {
    const { peer, seen } = await decodeLayer();
    peer.deliver(Buffer.from([0xc1]), true);
    expect(seen.messages[0]?.data).toEqual(Buffer.from([0xc1]));
    expect(seen.messages[0]?.view?.note).toMatch(/^did not decode as msgpack: [^\n]+$/);
  });

  it('raw output without --decode-raw: no view text (the bytes are written)', async () => {
    const { peer, seen } = await decodeLayer(false);
    peer.deliver(Buffer.from(msgpack.encode(1)), true);
    expect(seen.messages[0]?.view?.text).toBeUndefined();
    expect(seen.messages[0]?.view?.decoded?.value).toBe(1);
  });

  it('--encode: input JSON goes out binary, shown as the JSON it was', async () => {
    const { peer, layer } = await decodeLayer();
    layer.input('{"op":"sub"}', false);
    expect(peer.sent[0]?.binary).toBe(true);
    expect(msgpack.decode(peer.sent[0]?.data as Buffer)).toEqual({ op: 'sub' });
    expect(peer.sent[0]?.view?.text).toBe('{"op":"sub"}');
  });
});

describe('the filter layer', () => {
  async function filterLayer(program: string) {
    const feature = new FilterFeature(await compileJq(program));
    const peer = new FakePeer();
    const layer = feature.wrap(peer, fakeContext());
    return { feature, peer, layer, seen: watch(layer) };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('one jq run for a burst; order kept with messages that are not JSON', async () => {
    const { peer, seen } = await filterLayer('.n * 10');
    peer.deliver('{"n":1}');
    peer.deliver('not json');
    peer.deliver('{"n":2}');
    peer.deliver(Buffer.from([1, 2]), true);
    expect(seen.messages).toHaveLength(0);
    await tick();
    expect(seen.messages.map((m) => m.view?.filtered ?? m.data.toString('hex'))).toEqual([
      [10],
      Buffer.from('not json').toString('hex'),
      [20],
      '0102',
    ]);
    // --await and --reply still see the message as it came.
    const v = seen.messages[0]?.view;
    expect(v && unfilteredText.get(v)).toBe('{"n":1}');
  });

  it('empty hides; several outputs become lines of compact JSON', async () => {
    const { peer, seen } = await filterLayer('select(.keep) | .a[]');
    peer.deliver('{"keep":false,"a":[1]}');
    peer.deliver('{"keep":true,"a":[{"x":1},"s"]}');
    await tick();
    expect(seen.messages[0]?.view?.hidden).toBe(true);
    expect(seen.messages[1]?.view?.text).toBe('{"x":1}\n"s"');
  });

  it('everything received before the close is shown before it', async () => {
    const { peer, layer } = await filterLayer('.');
    const order: string[] = [];
    layer.on('message', (d) => order.push(`message ${d}`));
    layer.on('close', (i) => order.push(`close ${i.code}`));
    peer.deliver('[1]');
    peer.end();
    expect(order).toEqual(['message [1]', 'close 1000']);
  });

  it('/filter replaces and clears the program of the feature (kept across connections)', async () => {
    const { feature, peer, seen } = await filterLayer('.a');
    const printed: string[] = [];
    const ctx = { print: (t: string) => printed.push(t) } as never;
    await feature.commands[0]?.run('.b', ctx);
    peer.deliver('{"a":1,"b":2}');
    await tick();
    expect(seen.messages[0]?.view?.filtered).toEqual([2]);
    await expect(feature.commands[0]?.run('.b |', ctx)).rejects.toThrow(/at line 1, column 4/);
    expect(feature.program?.source).toBe('.b');
    await feature.commands[0]?.run('', ctx);
    expect(feature.program).toBeUndefined();
    expect(printed).toEqual(['filter: .b', 'filter cleared (was: .b)']);
  });
});

describe('parseConversationOptions', () => {
  it('owns the -x messages only when the conversation needs them', () => {
    expect(parseConversationOptions({ execute: ['a'] }, {}, 'client').steps).toEqual([]);
    expect(parseConversationOptions({ execute: ['a'] }, {}, 'listen').steps).toHaveLength(1);
    expect(parseConversationOptions({ execute: ['{{seq}}'] }, {}, 'client').steps).toHaveLength(1);
    expect(parseConversationOptions({ execute: ['a'], reply: ['x=>y'] }, {}, 'client').active).toBe(
      true,
    );
  });

  it('splits --var at the first = and --reply at the first =>', () => {
    const o = parseConversationOptions({ var: ['a=b=c'], reply: ['x=>y=>z'] }, {}, 'client');
    expect(o.vars.get('a')).toBe('b=c');
    expect(o.replies[0]?.source).toBe('x');
    expect(o.replies[0]?.template.source).toBe('y=>z');
  });

  it.each([
    [{ var: ['seq=1'] }, /--var seq: not a usable name/],
    [{ await: ['(?<uuid>x)'] }, /the group name 'uuid' is reserved/],
    [{ heartbeat: ['0.01:x'] }, /at least 0.1 s/],
    [{ encode: 'msgpack', binary: true }, /already sends binary frames: drop -b/],
    [{ filter: '  ' }, /--filter needs a jq program/],
  ])('%j is refused', (flags, message) => {
    expect(() => parseConversationOptions(flags, {}, 'client')).toThrow(message);
  });
});

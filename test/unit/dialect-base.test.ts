// The dialect base: held input until the handshake, slash-command lines, /raw, outstanding and
// 'settled', argument splitting, and the options parser.

import { describe, expect, it } from 'vitest';
import {
  argValue,
  Dialect,
  type DialectEnv,
  parseMethodLine,
  splitArgs,
} from '../../src/dialects/dialect.js';
import { dialectWanted, parseDialectOptions } from '../../src/dialects/options.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

/** A toy protocol: the server says "hello", lines go as "say:<line>", "ask:<x>" awaits "ans:<x>". */
class Toy extends Dialect {
  readonly dialect = 'jsonrpc' as const;
  asked = new Set<string>();
  constructor(inner: FakePeer, env: DialectEnv) {
    super(inner, env, [
      {
        name: 'ask',
        usage: '/ask <x>',
        help: 'ask',
        run: (d, args) => (d as Toy).ask(args),
      },
    ]);
  }
  protected begin(): void {
    this.sendAuto('hi', false, { control: true });
  }
  protected onLine(text: string): void {
    if (text === 'bad') throw new Error('bad line');
    this.send(`say:${text}`, false);
  }
  ask(x: string): void {
    this.whenReady(() => {
      this.asked.add(x);
      this.send(`ask:${x}`, false);
    });
  }
  protected override pending(): number {
    return this.asked.size;
  }
  protected override onMessage(data: Buffer): void {
    const t = data.toString();
    if (t === 'hello') this.markReady();
    else if (t.startsWith('ans:')) {
      this.asked.delete(t.slice(4));
      this.show(data, false, { label: 'ans', body: t.slice(4) });
      this.settled();
    }
  }
}

function setup() {
  const peer = new FakePeer();
  const ctx = fakeContext();
  const d = new Toy(peer, { options: parseDialectOptions({}), state: undefined, ctx });
  const seen = watch(d);
  d.start();
  return { peer, d, seen };
}

describe('Dialect base', () => {
  it('holds input until the handshake completes, then sends it in order', () => {
    const { peer, d, seen } = setup();
    expect(peer.take()).toEqual(['hi']);
    expect(seen.sent[0]?.view).toMatchObject({ auto: true, control: true });
    d.input('one', false);
    d.input('/ask q', false);
    d.input(Buffer.from('two'), false);
    expect(peer.take()).toEqual([]);
    expect(d.outstanding()).toBe(3);
    peer.deliver('hello');
    expect(peer.take()).toEqual(['say:one', 'ask:q', 'say:two']);
    expect(d.outstanding()).toBe(1);
    expect(seen.settled).toBe(0);
    peer.deliver('ans:q');
    expect(d.outstanding()).toBe(0);
    expect(seen.settled).toBe(1);
    expect(seen.messages[0]?.view).toMatchObject({ label: 'ans', body: 'q' });
  });

  it('a handshake that completes with nothing pending settles at once', () => {
    const { peer, seen } = setup();
    peer.deliver('hello');
    expect(seen.settled).toBe(1);
  });

  it('//x is the line /x; unknown slash words are plain lines; /raw goes out at once', () => {
    const { peer, d } = setup();
    peer.take();
    d.input('/raw {"as":"is"}', false);
    expect(peer.take()).toEqual(['{"as":"is"}']);
    peer.deliver('hello');
    d.input('//ask q', false);
    d.input('/unknown thing', false);
    d.input('/raw-binary 0a0b', false);
    const frames = peer.sent.splice(0);
    expect(frames.map((f) => f.text).slice(0, 2)).toEqual(['say:/ask q', 'say:/unknown thing']);
    expect(frames[2]?.binary).toBe(true);
    expect(frames[2]?.data).toEqual(Buffer.from([10, 11]));
  });

  it('a bad line is a usage error event, and the session goes on', () => {
    const { peer, d, seen } = setup();
    peer.deliver('hello');
    peer.take();
    d.input('bad', false);
    d.input('/raw-binary zz', false);
    d.input('good', false);
    expect(seen.errors.map((e) => e.kind)).toEqual(['usage', 'usage']);
    expect(peer.take()).toEqual(['say:good']);
  });

  it('command() refuses a command of another dialect', () => {
    const { d } = setup();
    expect(() => d.command('emit', 'x')).toThrow(/not a jsonrpc command/);
  });
});

describe('argument helpers', () => {
  it('splitArgs keeps JSON values whole', () => {
    expect(splitArgs(' chat "hi there" {"a": [1, "}"]} 7 [1, 2]  x ')).toEqual([
      'chat',
      '"hi there"',
      '{"a": [1, "}"]}',
      '7',
      '[1, 2]',
      'x',
    ]);
    expect(() => splitArgs('{"a":1')).toThrow(/unbalanced/);
  });
  it('argValue: JSON values, bare words as strings', () => {
    expect(argValue('7')).toBe(7);
    expect(argValue('true')).toBe(true);
    expect(argValue('null')).toBe(null);
    expect(argValue('hello')).toBe('hello');
    expect(argValue('"7"')).toBe('7');
    expect(() => argValue('{bad}')).toThrow(/invalid JSON/);
  });
  it('parseMethodLine', () => {
    expect(parseMethodLine('eth_call [1, {"a":2}]', 'x')).toEqual({
      method: 'eth_call',
      params: [1, { a: 2 }],
    });
    expect(parseMethodLine('  Page.enable  ', 'x')).toEqual({
      method: 'Page.enable',
      params: undefined,
    });
    expect(() => parseMethodLine('m 7', 'x')).toThrow(/array or object/);
    expect(() => parseMethodLine('m [1', 'x')).toThrow(/not JSON/);
  });
});

describe('parseDialectOptions', () => {
  it('defaults and validation', () => {
    expect(parseDialectOptions({})).toMatchObject({
      name: 'auto',
      socketioVersion: 4,
      socketioPath: '/socket.io/',
    });
    expect(parseDialectOptions({ dialect: 'GraphQL', variables: '{"id":1}' })).toMatchObject({
      name: 'graphql',
      variables: { id: 1 },
    });
    expect(parseDialectOptions({ socketioPath: '/io' }).socketioPath).toBe('/io/');
    expect(() => parseDialectOptions({ dialect: 'soap' })).toThrow(/unknown dialect 'soap'/);
    expect(() => parseDialectOptions({ dialect: 'jsonrpc', variables: '{}' })).toThrow(
      /--variables is for --dialect graphql/,
    );
    expect(() => parseDialectOptions({ init: '{nope' })).toThrow(/--init takes JSON/);
    expect(() => parseDialectOptions({ dialect: 'graphql', init: '[1]' })).toThrow(/JSON object/);
    expect(() => parseDialectOptions({ socketioVersion: '5' })).toThrow(/2 or 4/);
  });
  it('dialectWanted: --dialect, the Socket.IO path, a known offered subprotocol', () => {
    const auto = parseDialectOptions({});
    expect(dialectWanted(auto, 'ws://h/', [])).toBe(false);
    expect(dialectWanted(auto, 'ws://h/socket.io/?EIO=4', [])).toBe(true);
    expect(dialectWanted(auto, 'ws://h/', ['chat', 'graphql-ws'])).toBe(true);
    expect(dialectWanted(auto, 'ws://h/', ['chat'])).toBe(false);
    expect(dialectWanted(parseDialectOptions({ dialect: 'none' }), 'ws://h/socket.io/', [])).toBe(
      false,
    );
    expect(dialectWanted(parseDialectOptions({ dialect: 'cdp' }), 'ws://h/', [])).toBe(true);
  });
});

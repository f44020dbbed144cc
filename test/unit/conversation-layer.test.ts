// The conversation layer on a fake peer: steps in order, held input, timeouts, replies,
// heartbeats, captures, and how it tells the session it is done (outstanding / settled).

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConversationFeature } from '../../src/conversation/conversation.js';
import {
  type ConversationFlags,
  parseConversationOptions,
} from '../../src/conversation/options.js';
import type { SessionOptions } from '../../src/options.js';
import type { MessageView } from '../../src/peer.js';
import { loadCodec } from '../../src/views/codecs.js';
import { unfilteredText } from '../../src/views/unfiltered.js';
import { FakePeer, fakeContext, watch } from '../helpers/fake-peer.js';

function session(over: Partial<SessionOptions> = {}): SessionOptions {
  return {
    mode: 'execute',
    execute: [],
    binary: false,
    waitMs: 2000,
    waitGiven: false,
    awaitTimeoutMs: 10_000,
    reconnect: undefined,
    ...over,
  } as SessionOptions;
}

function setup(flags: ConversationFlags, over: Partial<SessionOptions> = {}, env = {}) {
  const feature = new ConversationFeature(
    parseConversationOptions(flags, env, 'client'),
    session(over),
    'client',
    undefined,
  );
  const peer = new FakePeer();
  const layer = feature.wrap(peer, fakeContext());
  const seen = watch(layer);
  return { feature, peer, layer, seen };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('steps', () => {
  const steps: ConversationFlags = {
    execute: ['{"op":"auth"}', '{"op":"sub","s":"{{sess}}"}'],
    await: ['"ok":"(?<sess>\\w+)"'],
    steps: [
      { kind: 'execute', value: '{"op":"auth"}' },
      { kind: 'await', value: '"ok":"(?<sess>\\w+)"' },
      { kind: 'execute', value: '{"op":"sub","s":"{{sess}}"}' },
    ],
  };

  it('sends, waits for the match, then sends the next with the capture', () => {
    const { peer, layer, seen } = setup(steps);
    layer.start();
    expect(peer.take()).toEqual(['{"op":"auth"}']);
    expect(layer.outstanding()).toBe(1);
    peer.deliver('{"other":1}');
    expect(peer.take()).toEqual([]);
    peer.deliver('{"ok":"abc"}');
    expect(peer.take()).toEqual(['{"op":"sub","s":"abc"}']);
    // Received messages are passed up, awaited ones too.
    expect(seen.messages.map((m) => m.data.toString())).toEqual(['{"other":1}', '{"ok":"abc"}']);
  });

  it('holds the -w wait after the last step (no -w given), then settles', () => {
    const { peer, layer, seen } = setup(steps);
    layer.start();
    peer.deliver('{"ok":"x"}');
    expect(layer.outstanding()).toBe(1);
    vi.advanceTimersByTime(1999);
    expect(seen.settled).toBe(0);
    vi.advanceTimersByTime(1);
    expect(layer.outstanding()).toBe(0);
    expect(seen.settled).toBe(1);
  });

  it('settles right after the last step when -w was given (the session waits)', () => {
    const { peer, layer, seen } = setup(steps, { waitGiven: true });
    layer.start();
    peer.deliver('{"ok":"x"}');
    expect(layer.outstanding()).toBe(0);
    expect(seen.settled).toBe(1);
  });

  it('holds typed and piped input until the steps are done, and waitForDrain with it', async () => {
    const { peer, layer } = setup({ await: ['ready'] }, { mode: 'pipe' });
    layer.start();
    layer.input('line 1', false);
    layer.input('line 2', false);
    expect(peer.take()).toEqual([]);
    expect(layer.bufferedAmount).toBe(12);
    let drained = false;
    void layer.waitForDrain(0).then(() => {
      drained = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(false);
    peer.deliver('ready');
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(true);
    expect(peer.take()).toEqual(['line 1', 'line 2']);
  });

  it('an unmet --await: an "unmet" error naming the regex and the time, then close 1000', () => {
    const { peer, layer, seen } = setup({ await: ['^never$'] }, { awaitTimeoutMs: 1500 });
    layer.start();
    vi.advanceTimersByTime(1500);
    expect(seen.errors).toEqual([
      { kind: 'unmet', message: '--await /^never$/ not matched within 1.5 s', code: 'AWAIT' },
    ]);
    expect(peer.closed).toEqual({ code: 1000, reason: undefined });
    expect(layer.outstanding()).toBe(0);
  });

  it('the connection ending first: "the connection ended"; no error when --reconnect retries', () => {
    const a = setup({ await: ['x'] });
    a.layer.start();
    a.peer.end({ code: 1000 });
    expect(a.seen.errors.map((e) => e.message)).toEqual([
      '--await /x/ not matched: the connection ended',
    ]);
    const b = setup({ await: ['x'] }, { reconnect: 3 });
    b.layer.start();
    b.peer.end({ code: 1006, closeFrameReceived: false });
    expect(b.seen.errors).toEqual([]);
    expect(b.seen.closes).toHaveLength(1);
  });

  it('matches the decoded text before a filter rewrote it', () => {
    const { peer, layer } = setup({
      execute: ['a', 'b'],
      await: ['"op":"ok"'],
      steps: [
        { kind: 'execute', value: 'a' },
        { kind: 'await', value: '"op":"ok"' },
        { kind: 'execute', value: 'b' },
      ],
    });
    layer.start();
    peer.take();
    const view: MessageView = { filtered: [], text: '', hidden: true };
    unfilteredText.set(view, '{"op":"ok"}');
    peer.emit('message', Buffer.from('\x00binary'), true, view);
    expect(peer.take()).toEqual(['b']);
  });
});

describe('--reply and --heartbeat', () => {
  it('answers with the first matching rule, captures filled in, marked auto and control', () => {
    const { peer, layer, seen } = setup({
      reply: ['"ping":(?<id>\\d+)=>{"pong":{{id}}}', 'ping=>never'],
    });
    layer.start();
    peer.deliver('{"ping":42}');
    expect(peer.sent.map((s) => [s.text, s.view])).toEqual([
      ['{"pong":42}', { control: true, auto: true }],
    ]);
    expect(seen.sent).toHaveLength(1);
  });

  it('ignores control messages (a dialect already answered those)', () => {
    const { peer, layer } = setup({ reply: ['ping=>pong'] });
    layer.start();
    peer.emit('message', Buffer.from('ping'), false, { control: true });
    expect(peer.take()).toEqual([]);
  });

  it('sends auto frames in the --encode form', async () => {
    const encoder = await loadCodec('msgpack', { maxBytes: 1e6 });
    const feature = new ConversationFeature(
      parseConversationOptions({ reply: ['ping=>{"pong":true}'] }, {}, 'client'),
      session(),
      'client',
      encoder,
    );
    const peer = new FakePeer();
    feature.wrap(peer, fakeContext()).start();
    peer.deliver('ping');
    expect(peer.sent[0]?.binary).toBe(true);
    expect(encoder.decode(peer.sent[0]?.data as Buffer).value).toEqual({ pong: true });
    expect(peer.sent[0]?.view?.text).toBe('{"pong":true}');
  });

  it('beats every period with a run-wide {{seq}} and stops at the close', () => {
    const { feature, peer, layer } = setup({ heartbeat: ['0.5:hb {{seq}}'], execute: ['{{seq}}'] });
    layer.start();
    vi.advanceTimersByTime(1600);
    // The -x line is the user's; the beats are auto heartbeats (hidden by --hide-ping-pong).
    expect(peer.sent.map((s) => s.view?.heartbeat)).toEqual([undefined, true, true, true]);
    expect(peer.sent[1]?.view).toMatchObject({ auto: true, control: true, heartbeat: true });
    expect(peer.take()).toEqual(['1', 'hb 2', 'hb 3', 'hb 4']);
    peer.end();
    vi.advanceTimersByTime(2000);
    expect(peer.take()).toEqual([]);
    // A new connection of the same run goes on counting.
    const again = new FakePeer();
    feature.wrap(again, fakeContext()).start();
    expect(again.take()).toEqual(['5']);
  });

  it('a capture that did not participate in the match is a usage error at send time', () => {
    const { peer, layer, seen } = setup({ reply: ['ping(?<n>\\d+)?=>pong {{n}}'] });
    layer.start();
    peer.deliver('ping');
    expect(seen.errors[0]?.kind).toBe('usage');
    expect(seen.errors[0]?.message).toMatch(/unknown template variable \{\{n\}\}/);
    expect(peer.closed?.code).toBe(1000);
  });
});

describe('--template', () => {
  it('fills typed lines in; a bad line in the REPL is a note, not an ending', () => {
    const ctx = fakeContext();
    const feature = new ConversationFeature(
      parseConversationOptions({ template: true, var: ['x=1'] }, {}, 'client'),
      session({ mode: 'repl' }),
      'client',
      undefined,
    );
    const peer = new FakePeer();
    const layer = feature.wrap(peer, ctx);
    const seen = watch(layer);
    layer.start();
    layer.input('v={{x}}', false);
    layer.input('{{y}}', false);
    expect(peer.take()).toEqual(['v=1']);
    expect(ctx.notes[0]).toMatch(/unknown template variable \{\{y\}\}/);
    expect(seen.errors).toEqual([]);
    expect(peer.closed).toBeUndefined();
  });
});

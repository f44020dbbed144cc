import { describe, expect, it } from 'vitest';
import { type Ending, exitCodeFor, WsxError } from '../../src/errors.js';
import { parseRecording } from '../../src/recording.js';
import {
  COMMANDS,
  completeCommand,
  findCommand,
  helpText,
  parseBase64,
  parseClose,
  parseHex,
  parseSlash,
} from '../../src/session/commands.js';
import { MessageBatch, Splitter } from '../../src/session/framing.js';
import { jsonState } from '../../src/session/json-continuation.js';

function split(framing: 'line' | 'null' | 'whole', chunks: string[]): string[] {
  const s = new Splitter(framing);
  const out: string[] = [];
  for (const c of chunks) s.push(Buffer.from(c), (m) => out.push(m.toString()));
  s.end((m) => out.push(m.toString()));
  return out;
}

describe('framing (SPEC §6, §10)', () => {
  it('one message per line; \\r\\n and \\n removed; empty lines are messages', () => {
    expect(split('line', ['a\nb\r\n\nc\n'])).toEqual(['a', 'b', '', 'c']);
  });
  it('a trailing terminator adds no empty message; a last chunk without one is sent', () => {
    expect(split('line', ['a\n'])).toEqual(['a']);
    expect(split('line', ['a\nb'])).toEqual(['a', 'b']);
    expect(split('line', [])).toEqual([]);
  });
  it('joins lines split across chunks, including a \\r\\n split in two', () => {
    expect(split('line', ['he', 'llo\r', '\nwor', 'ld'])).toEqual(['hello', 'world']);
  });
  it('-0 splits on NUL and keeps newlines', () => {
    expect(split('null', ['a\nb\0c\0'])).toEqual(['a\nb', 'c']);
  });
  it('pushBatch (ranges of the chunk) yields exactly what push does, on random input and chunking', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const alphabet = [0x61, 0x62, 0x0d, 0x0a, 0x00, 0xc3, 0xa9];
    for (let round = 0; round < 400; round++) {
      const framing = round % 2 === 0 ? 'line' : 'null';
      const input = Buffer.from(Array.from({ length: rnd(200) }, () => alphabet[rnd(7)] as number));
      const chunks: Buffer[] = [];
      for (let at = 0; at < input.length; ) {
        const n = 1 + rnd(round % 3 === 0 ? 3 : 40);
        chunks.push(input.subarray(at, at + n));
        at += n;
      }
      const want: string[] = [];
      const a = new Splitter(framing);
      for (const c of chunks) a.push(c, (m) => want.push(m.toString('hex')));
      a.end((m) => want.push(m.toString('hex')));
      const got: string[] = [];
      const b = new Splitter(framing);
      const batch = new MessageBatch();
      for (const c of chunks) {
        b.pushBatch(c, batch);
        for (const m of batch.toBuffers()) got.push(m.toString('hex'));
        batch.clear();
      }
      b.end((m) => got.push(m.toString('hex')));
      expect(got).toEqual(want);
    }
  });
  it('--no-split sends everything as one message', () => {
    expect(split('whole', ['a\n', 'b\n'])).toEqual(['a\nb\n']);
    expect(split('whole', [])).toEqual(['']);
  });
});

describe('exit codes (SPEC §7)', () => {
  const cases: Array<[Ending, number]> = [
    [{ kind: 'done' }, 0],
    [{ kind: 'closed', code: 1000, reason: '', closeFrameReceived: true }, 0],
    [{ kind: 'closed', code: 1001, reason: '', closeFrameReceived: true }, 0],
    [{ kind: 'closed', code: 1005, reason: '', closeFrameReceived: true }, 0],
    [{ kind: 'closed', code: 4001, reason: 'x', closeFrameReceived: true }, 3],
    [{ kind: 'closed', code: 1011, reason: '', closeFrameReceived: true }, 3],
    [{ kind: 'closed', code: 1006, reason: '', closeFrameReceived: false }, 1],
    [{ kind: 'error', error: new WsxError('connect', 'x') }, 1],
    [{ kind: 'error', error: new WsxError('protocol', 'x') }, 1],
    [{ kind: 'error', error: new WsxError('usage', 'x') }, 2],
    [{ kind: 'unmet', what: 'x' }, 4],
    [{ kind: 'signal', signal: 'SIGINT' }, 130],
    [{ kind: 'signal', signal: 'SIGTERM' }, 143],
  ];
  it.each(cases)('%j → %i', (ending, code) => {
    expect(exitCodeFor(ending)).toBe(code);
  });
});

describe('slash commands', () => {
  it('parses /close arguments per RFC 6455', () => {
    expect(parseClose('')).toEqual({ code: 1000, reason: '' });
    expect(parseClose('4001 going now')).toEqual({ code: 4001, reason: 'going now' });
    for (const bad of ['abc', '1005', '1006', '999', '5000', '1000.5', '-1']) {
      expect(() => parseClose(bad)).toThrow(WsxError);
    }
    expect(() => parseClose(`1000 ${'x'.repeat(124)}`)).toThrow(/124 bytes/);
    expect(parseClose(`1000 ${'x'.repeat(123)}`).reason).toHaveLength(123);
    expect(() => parseClose(`1000 ${'é'.repeat(62)}`)).toThrow(/124 bytes/);
  });
  it('parses hex and base64 or says what is wrong', () => {
    expect(parseHex('48 65 6c6c 6f')).toEqual(Buffer.from('Hello'));
    expect(parseHex('0xff00')).toEqual(Buffer.from([255, 0]));
    expect(() => parseHex('abc')).toThrow(/odd/);
    expect(() => parseHex('zz')).toThrow(/not hex/);
    expect(() => parseHex('')).toThrow(WsxError);
    expect(parseBase64('aGVsbG8=')).toEqual(Buffer.from('hello'));
    expect(parseBase64('_-8')).toEqual(Buffer.from([0xff, 0xef]));
    expect(() => parseBase64('a')).toThrow(/base64/);
    expect(() => parseBase64('!!')).toThrow(/base64/);
  });
  it('finds commands and aliases, completes names, and /help lists every command', () => {
    expect(findCommand('exit', 'client')?.name).toBe('quit');
    expect(findCommand('kick', 'client')).toBeUndefined();
    expect(findCommand('kick', 'listen')?.name).toBe('kick');
    expect(findCommand('reconnect', 'listen')).toBeUndefined();
    expect(findCommand('PING', 'client')?.name).toBe('ping');
    expect(findCommand('nope', 'client')).toBeUndefined();
    expect(completeCommand('/re', 'client')).toEqual([['/reconnect '], '/re']);
    expect(completeCommand('/k', 'listen')[0]).toEqual(['/kick ']);
    expect(completeCommand('/p', 'client')[0]).toEqual(['/ping ', '/pong ']);
    expect(completeCommand('hello', 'client')[0]).toEqual([]);
    const help = helpText('client');
    const listenHelp = helpText('listen');
    for (const c of COMMANDS) {
      if (c.only !== 'listen') expect(help).toContain(c.usage);
      if (c.only !== 'client') expect(listenHelp).toContain(c.usage);
    }
    expect(help).not.toContain('/kick');
    expect(listenHelp).not.toContain('/reconnect');
    expect(parseSlash('/close 4000 bye now')).toEqual({ name: 'close', args: '4000 bye now' });
  });
});

describe('REPL JSON continuation', () => {
  it('knows complete, incomplete and not-JSON input', () => {
    expect(jsonState('{"a": 1}')).toBe('complete');
    expect(jsonState('{')).toBe('incomplete');
    expect(jsonState('{"a": [1,\n 2')).toBe('incomplete');
    expect(jsonState('{"s": "}"')).toBe('incomplete');
    expect(jsonState('[1, 2]')).toBe('complete');
    expect(jsonState('{oops}')).toBe('not-json');
    expect(jsonState('hello {')).toBe('not-json');
    expect(jsonState('{"a":1}}')).toBe('not-json');
  });
});

describe('recordings (--replay)', () => {
  it('keeps the outgoing messages, timed from the first, text and binary', () => {
    const text = [
      '{"time":"2026-01-01T00:00:01.000Z","event":"open","url":"ws://x/"}',
      '{"time":"2026-01-01T00:00:01.500Z","event":"message","direction":"out","type":"text","data":"a"}',
      '{"time":"2026-01-01T00:00:01.600Z","event":"message","direction":"in","type":"text","data":"b"}',
      '',
      '{"time":"2026-01-01T00:00:02.750Z","event":"message","direction":"out","type":"binary","base64":"AP8="}',
    ].join('\n');
    expect(parseRecording(text, 'f')).toEqual([
      { at: 0, data: Buffer.from('a'), binary: false },
      { at: 1250, data: Buffer.from([0, 255]), binary: true },
    ]);
  });
  it('names the line that is wrong', () => {
    expect(() => parseRecording('{}\n{oops', 'rec.jsonl')).toThrow(
      /line 2 of 'rec.jsonl' is not JSON/,
    );
    expect(() => parseRecording('{"event":"message","direction":"out","data":"x"}', 'r')).toThrow(
      /no valid time/,
    );
  });
});

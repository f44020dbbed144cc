import { describe, expect, it } from 'vitest';
import { closeCodeName, isSendableCloseCode } from '../../src/close-codes.js';
import type { WsxEvent } from '../../src/events.js';
import type { OutputOptions } from '../../src/options.js';
import { maskHeaderValue, maskUrl } from '../../src/render/mask.js';
import { createRenderer, palette } from '../../src/render/renderer.js';
import { sanitize, sanitizeLine } from '../../src/render/sanitize.js';
import { cutUtf8, describeClose, hexdump, PLAIN, prettyJson } from '../../src/render/text.js';

const T = Date.UTC(2026, 10, 25, 19, 21, 39, 123);
const base: OutputOptions = {
  format: 'pretty',
  color: false,
  colorErr: false,
  prettyJson: true,
  hidePingPong: false,
  timestamps: false,
  maxDisplay: 65536,
  binaryAs: 'raw',
  quiet: false,
  verbose: false,
  record: undefined,
};
const render = (o: Partial<OutputOptions>, ev: WsxEvent, stdoutIsTTY = false) =>
  createRenderer({ ...base, ...o }, { stdoutIsTTY, paint: PLAIN, paintErr: PLAIN })(ev);
const msg = (
  data: string | Buffer,
  extra: Partial<Extract<WsxEvent, { event: 'message' }>> = {},
): WsxEvent => ({
  time: T,
  event: 'message',
  direction: 'in',
  binary: Buffer.isBuffer(data),
  data: Buffer.isBuffer(data) ? data : Buffer.from(data),
  ...extra,
});

describe('close codes', () => {
  it('names 1000–1015 and nothing else', () => {
    expect(closeCodeName(1000)).toBe('Normal Closure');
    expect(closeCodeName(1004)).toBe('Reserved');
    expect(closeCodeName(1015)).toBe('TLS Handshake');
    expect(closeCodeName(4001)).toBe('');
  });
  it('matches ws validity rules', () => {
    for (const ok of [1000, 1001, 1003, 1007, 1014, 3000, 4999])
      expect(isSendableCloseCode(ok)).toBe(true);
    for (const bad of [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5, Number.NaN]) {
      expect(isSendableCloseCode(bad)).toBe(false);
    }
  });
  it('describes closes as in SPEC §10', () => {
    expect(describeClose(4001, 'custom bye')).toBe('4001 "custom bye"');
    expect(describeClose(1000, '')).toBe('1000 Normal Closure');
    expect(describeClose(1006, '')).toContain('no close frame');
    expect(describeClose(1008, 'a\x1b[2Jb')).toBe('1008 Policy Violation "a\\x1b[2Jb"');
  });
});

describe('sanitize (terminal safety)', () => {
  it('escapes C0 but tab/newline, DEL, C1, bidi and invisible code points', () => {
    expect(sanitize('a\tb\nc')).toBe('a\tb\nc');
    expect(sanitize('\x1b]0;pwned\x07')).toBe('\\x1b]0;pwned\\x07');
    expect(sanitize('\x1b]52;c;aGk=\x07')).toBe('\\x1b]52;c;aGk=\\x07');
    expect(sanitize('x\x7fy\x9b2J')).toBe('x\\x7fy\\x9b2J');
    expect(sanitize('\r')).toBe('\\x0d');
    expect(sanitize('abc\u202Edef\u2066')).toBe('abc\\u202edef\\u2066');
    expect(sanitize('zero\u200bwidth\ufeff')).toBe('zero\\u200bwidth\\ufeff');
    expect(sanitize('tag\u{E0041}')).toBe('tag\\u{e0041}');
    expect(sanitize('héllo ✓ 日本')).toBe('héllo ✓ 日本');
  });
  it('marks escapes (dimmed) and escapes newlines in one-line contexts', () => {
    expect(sanitize('\x1b', (s) => `[${s}]`)).toBe('[\\x1b]');
    expect(sanitizeLine('a\nb\tc')).toBe('a\\nb\\tc');
  });
});

describe('pretty renderer', () => {
  it('open, with subprotocol and extensions', () => {
    const r = render(
      {},
      {
        time: T,
        event: 'open',
        url: 'ws://h/',
        protocol: 'chat',
        extensions: 'permessage-deflate',
      },
    );
    expect(r.out).toBe(
      'Connected to ws://h/ (subprotocol: chat; extensions: permessage-deflate)\n',
    );
  });
  it('incoming text, escaped', () => {
    expect(render({}, msg('hi \x1b[31mred')).out).toBe('< hi \\x1b[31mred\n');
  });
  it('outgoing text is shown unless typed in the REPL', () => {
    expect(render({}, msg('hi', { direction: 'out' })).out).toBe('> hi\n');
    expect(render({}, msg('hi', { direction: 'out', typed: true })).out).toBeUndefined();
  });
  it('indents JSON, keeps every digit, and --no-pretty-json keeps one line', () => {
    const json = '{"a":[1,{"b":null}],"n":12345678901234567890,"s":"x\\u001b"}';
    expect(render({}, msg(json)).out).toBe(
      '< {\n    "a": [\n      1,\n      {\n        "b": null\n      }\n    ],\n    "n": 12345678901234567890,\n    "s": "x\\u001b"\n  }\n',
    );
    expect(render({ prettyJson: false }, msg(json)).out).toBe(`< ${json}\n`);
    expect(render({}, msg('[]')).out).toBe('< []\n');
    expect(render({}, msg('{not json')).out).toBe('< {not json\n');
  });
  it('escapes bidi overrides inside JSON strings', () => {
    expect(prettyJson('{"k":"a\u202eb"}', PLAIN)).toBe('{\n  "k": "a\\u202eb"\n}');
  });
  it('binary: header and hex dump with ASCII column, first 512 bytes', () => {
    const r = render({}, msg(Buffer.from('Hello\x00\x01\x02world!!!!!!ABCDEF', 'latin1')));
    expect(r.out).toBe(
      '< [binary 25 B]\n' +
        '  00000000  48 65 6c 6c 6f 00 01 02  77 6f 72 6c 64 21 21 21  |Hello...world!!!|\n' +
        '  00000010  21 21 21 41 42 43 44 45  46                       |!!!ABCDEF|\n',
    );
    const big = render({}, msg(Buffer.alloc(2048, 0x41))).out as string;
    expect(big.split('\n').filter((l) => l.includes('|')).length).toBe(32);
    expect(big).toContain('1536 B more (2048 B in all)');
  });
  it('cuts long messages at --max-display bytes on a character boundary', () => {
    const r = render({ maxDisplay: 4 }, msg('ab€cdef')).out as string;
    expect(r).toBe('< ab … [7 B more, 9 B in all]\n');
    expect(render({ maxDisplay: 0 }, msg('x'.repeat(100_000))).out).toHaveLength(100_003);
    expect(cutUtf8(Buffer.from('€'), 2).length).toBe(0);
  });
  it('pings and pongs, with RTT; hidden by --hide-ping-pong; automatic pongs hidden', () => {
    expect(
      render({}, { time: T, event: 'ping', direction: 'in', data: Buffer.from('hb') }).out,
    ).toBe('< [ping] hb\n');
    expect(
      render({}, { time: T, event: 'pong', direction: 'in', data: Buffer.alloc(0), rtt: 0.42 }).out,
    ).toBe('< [pong] (rtt 0.4 ms)\n');
    expect(
      render(
        { hidePingPong: true },
        { time: T, event: 'ping', direction: 'in', data: Buffer.alloc(0) },
      ).out,
    ).toBeUndefined();
    expect(
      render({}, { time: T, event: 'pong', direction: 'out', data: Buffer.alloc(0), auto: true })
        .out,
    ).toBeUndefined();
    expect(
      render({}, { time: T, event: 'ping', direction: 'in', data: Buffer.from([0xff, 0x00]) }).out,
    ).toBe('< [ping] 0xff00\n');
  });
  it('close lines go to stdout', () => {
    expect(
      render({}, { time: T, event: 'close', code: 4001, reason: 'custom bye', clean: true }).out,
    ).toBe('Disconnected: 4001 "custom bye"\n');
  });
  it('errors go to stderr with a hint', () => {
    const r = render(
      {},
      { time: T, event: 'error', message: 'boom', hint: 'try -k', details: ['body: x'] },
    );
    expect(r.out).toBeUndefined();
    expect(r.err).toBe('error: boom\n  body: x\nhint: try -k\n');
  });
  it('timestamps prefix each event and continuation lines line up', () => {
    const r = render({ timestamps: true }, msg('{"a":1}')).out as string;
    const pad = ' '.repeat('00:00:00.000 '.length);
    expect(r).toMatch(/^\d\d:\d\d:\d\d\.\d{3} < \{\n/);
    expect(r.split('\n').slice(1)).toEqual([`${pad}    "a": 1`, `${pad}  }`, '']);
  });
  it('colour codes only when colour is on', async () => {
    const on = createRenderer(base, {
      stdoutIsTTY: true,
      paint: await palette(true),
      paintErr: await palette(true),
    });
    expect(on(msg('hi')).out).toContain('\x1b[');
    expect(render({}, msg('hi')).out).not.toContain('\x1b[');
  });
});

describe('raw renderer', () => {
  const raw = (o: Partial<OutputOptions>, ev: WsxEvent, tty = false) =>
    render({ format: 'raw', ...o }, ev, tty);
  it('writes payloads only: text plus newline, binary bytes as they are', () => {
    expect(raw({}, msg('a\x1bb')).out).toEqual(Buffer.from('a\x1bb\n'));
    expect(raw({}, msg(Buffer.from([0, 255]))).out).toEqual(Buffer.from([0, 255]));
    expect(raw({}, msg('x', { direction: 'out' })).out).toBeUndefined();
    expect(
      raw({}, { time: T, event: 'open', url: 'ws://h/', protocol: '', extensions: '' }),
    ).toEqual({});
    expect(raw({}, { time: T, event: 'ping', direction: 'in', data: Buffer.alloc(0) })).toEqual({});
  });
  it('--binary-as hex|base64 writes one line per binary message', () => {
    expect(raw({ binaryAs: 'hex' }, msg(Buffer.from([0, 255]))).out).toBe('00ff\n');
    expect(raw({ binaryAs: 'base64' }, msg(Buffer.from([0, 255, 16]))).out).toBe('AP8Q\n');
  });
  it('escapes when stdout is a terminal', () => {
    expect(raw({}, msg('a\x1bb'), true).out).toBe('a\\x1bb\n');
    expect(raw({}, msg(Buffer.from([0x1b])), true).out).toBe('1b\n');
  });
  it('Disconnected on stderr only when the close was not normal', () => {
    expect(raw({}, { time: T, event: 'close', code: 1000, reason: '', clean: true })).toEqual({});
    expect(raw({}, { time: T, event: 'close', code: 4001, reason: 'bye', clean: true }).err).toBe(
      'Disconnected: 4001 "bye"\n',
    );
    expect(
      raw({}, { time: T, event: 'close', code: 1006, reason: '', clean: false }).err,
    ).toContain('1006 Abnormal Closure');
  });
});

describe('json renderer', () => {
  const json = (ev: WsxEvent) => {
    const r = render({ format: 'json' }, ev);
    return JSON.parse(String(r.out));
  };
  it('follows the schema of SPEC §3', () => {
    expect(json({ time: T, event: 'open', url: 'ws://h/', protocol: '', extensions: '' })).toEqual({
      time: '2026-11-25T19:21:39.123Z',
      event: 'open',
      url: 'ws://h/',
      protocol: '',
      extensions: '',
    });
    expect(json(msg('hello'))).toEqual({
      time: '2026-11-25T19:21:39.123Z',
      event: 'message',
      direction: 'in',
      type: 'text',
      size: 5,
      data: 'hello',
    });
    expect(json(msg(Buffer.from([0, 255, 16]), { direction: 'out' }))).toMatchObject({
      direction: 'out',
      type: 'binary',
      size: 3,
      base64: 'AP8Q',
    });
    expect(
      json({ time: T, event: 'ping', direction: 'in', data: Buffer.from('ping') }),
    ).toMatchObject({
      event: 'ping',
      size: 4,
      data: 'ping',
    });
    expect(
      json({ time: T, event: 'pong', direction: 'out', data: Buffer.from([0xff]), auto: true }),
    ).toMatchObject({
      event: 'pong',
      direction: 'out',
      base64: '/w==',
    });
    expect(json({ time: T, event: 'close', code: 4001, reason: 'x', clean: true })).toEqual({
      time: '2026-11-25T19:21:39.123Z',
      event: 'close',
      code: 4001,
      name: '',
      reason: 'x',
      clean: true,
    });
  });
  it('errors: a json event on stdout and an error line on stderr', () => {
    const r = render(
      { format: 'json' },
      { time: T, event: 'error', message: 'refused', code: 'ECONNREFUSED' },
    );
    expect(JSON.parse(String(r.out))).toMatchObject({
      event: 'error',
      message: 'refused',
      code: 'ECONNREFUSED',
    });
    expect(r.err).toBe('error: refused\n');
  });
  it('text that is not valid UTF-8 (sent from a pipe) is base64, never lossy', () => {
    expect(json(msg(Buffer.from([0xc3, 0x28]), { binary: false }))).toMatchObject({
      type: 'text',
      base64: 'wyg=',
    });
  });
});

describe('hexdump', () => {
  it('limits to the given bytes', () => {
    expect(hexdump(Buffer.alloc(40), 16)).toHaveLength(2);
  });
});

describe('masking', () => {
  it('hides credentials', () => {
    expect(maskHeaderValue('Authorization', 'Basic dXNlcjpwYXNz')).toBe('Basic ****');
    expect(maskHeaderValue('proxy-authorization', 'token')).toBe('****');
    expect(maskHeaderValue('Cookie', 'a=1; b=2')).toBe('a=****; b=****');
    expect(maskHeaderValue('X-Other', 'v')).toBe('v');
    expect(maskUrl('ws://user:secret@h/')).toBe('ws://user:****@h/');
  });
});

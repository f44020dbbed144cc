import { describe, expect, it } from 'vitest';
import { closeCodeName, isSendableCloseCode } from '../../src/close-codes.js';
import type { WsxEvent } from '../../src/events.js';
import type { OutputOptions } from '../../src/options.js';
import { build } from '../../src/render/chunks.js';
import { maskHeaderValue, maskUrl } from '../../src/render/mask.js';
import { createRenderer, palette } from '../../src/render/renderer.js';
import { sanitize, sanitizeInto, sanitizeLine } from '../../src/render/sanitize.js';
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

describe('pretty-printing is linear and bounded (issue 9, defect 2)', () => {
  it('32,000 and 16,000 nested brackets: one escaped line, no RangeError, no GBs', () => {
    for (const depth of [32_000, 16_000]) {
      const text = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const out = render({}, msg(text)).out;
      expect(String(out)).toBe(`< ${text}\n`);
    }
    expect(prettyJson(`${'['.repeat(129)}${']'.repeat(129)}`, PLAIN)).toBeUndefined();
    expect(prettyJson(`${'['.repeat(128)}${']'.repeat(128)}`, PLAIN)).toContain(
      `\n${'  '.repeat(127)}[]`,
    );
  });
  it('JSON that would grow more than 16× when indented is shown on one line', () => {
    const text = `${'['.repeat(100)}${'1,'.repeat(100_000)}1${']'.repeat(100)}`;
    const out = String(render({ maxDisplay: 0 }, msg(text)).out);
    expect(out.length).toBeLessThanOrEqual(16 * text.length + (1 << 20));
    expect(out).toBe(`< ${text}\n`);
  });
  it('validates JSON itself: what JSON.parse rejects is not indented', () => {
    for (const bad of [
      '{"a":1,}',
      '[1 2]',
      '{"a" 1}',
      '[01]',
      '["\\x"]',
      '["a\tb"]',
      '[1]x',
      '[',
    ]) {
      expect(prettyJson(bad, PLAIN)).toBeUndefined();
    }
    expect(prettyJson(' {"a":-1.5e+3,"b":[true,false,null,"\\u00e9\\n"]} ', PLAIN)).toBe(
      '{\n  "a": -1.5e+3,\n  "b": [\n    true,\n    false,\n    null,\n    "\\u00e9\\n"\n  ]\n}',
    );
  });
  it('--max-display 0 --color with a 45 MB message of \\x01: escaped in one run, as a Buffer', async () => {
    const p = await palette(true);
    const r = createRenderer(
      { ...base, maxDisplay: 0, color: true },
      { stdoutIsTTY: true, paint: p, paintErr: p },
    );
    const n = 45_000_000;
    const before = process.memoryUsage().rss;
    const out = r(msg(Buffer.alloc(n, 1).toString('latin1'))).out;
    const grew = process.memoryUsage().rss - before;
    expect(Buffer.isBuffer(out)).toBe(true);
    const buf = out as Buffer;
    // 4 bytes per \x01, one pair of colour codes per run (per 64 Ki slice), not per character.
    const slices = Math.ceil(n / 65_536);
    const marks = p.dim('x').length - 1;
    expect(buf.length).toBe(p.cyan('<').length + 1 + slices * marks + 4 * n + 1);
    expect(buf.subarray(0, 40).toString()).toBe(
      `${p.cyan('<')} ${p.dim('\\x01'.repeat(20)).slice(0, 40 - p.cyan('<').length - 1)}`,
    );
    expect(buf.subarray(-18).toString()).toBe(`${'\\x01'.repeat(3)}${p.dim('x').slice(-5)}\n`);
    // The output itself is 180 MB; the old path needed 3.2 GB and then threw.
    expect(grew).toBeLessThan(1_000_000_000);
  }, 180_000);
  it('a 10 MB JSON string of \\x01 in json output: valid JSON, built without one giant string', () => {
    const n = 10_000_000;
    const data = Buffer.alloc(n, 1).toString('latin1');
    const out = render({ format: 'json' }, msg(data)).out as Buffer;
    expect(Buffer.isBuffer(out)).toBe(true);
    const ev = JSON.parse(out.toString('latin1'));
    expect(ev.size).toBe(n);
    expect(ev.data === data).toBe(true);
    const bin = render({ format: 'json' }, msg(Buffer.alloc(1_000_001, 7))).out as Buffer;
    expect(Buffer.from(JSON.parse(bin.toString()).base64, 'base64')).toEqual(
      Buffer.alloc(1_000_001, 7),
    );
  }, 120_000);
  it('raw output to a terminal escapes a 10 MB message slice by slice', () => {
    const out = render({ format: 'raw' }, msg(Buffer.alloc(10_000_000, 1).toString('latin1')), true)
      .out as Buffer;
    expect(out.length).toBe(4 * 10_000_000 + 1);
    expect(out.subarray(-9).toString()).toBe('\\x01\\x01\n');
  }, 120_000);
  it('big output is measured, then written once into a Buffer of the exact size', () => {
    const value = Array.from({ length: 40_000 }, (_, i) => ({ id: i, name: `n\u202e${i}` }));
    const text = JSON.stringify(value);
    const out = render({ maxDisplay: 0 }, msg(text)).out as Buffer;
    expect(Buffer.isBuffer(out)).toBe(true);
    const expected = `< ${JSON.stringify(value, null, 2).replaceAll('\u202e', '\\u202e').split('\n').join('\n  ')}\n`;
    expect(out.toString()).toBe(expected);
    // Pretty-printing that fails (too deep) after more than 1 MiB of output: one line after all.
    const deep = `[${'1,'.repeat(600_000)}${'['.repeat(129)}${']'.repeat(129)}]`;
    expect(String(render({ maxDisplay: 0 }, msg(deep)).out)).toBe(`< ${deep}\n`);
  });
  it('slices never split a surrogate pair; a lone surrogate stays one escape', () => {
    const text = `${'a'.repeat(65_535)}\u{E0041}\ud800z${'b'.repeat(70_000)}\n${'c'.repeat(65_535)}\u{1F600}`;
    const out = build((o) => sanitizeInto(o, text, (s) => `[${s}]`, '\n  '));
    expect(out.toString()).toBe(
      `${'a'.repeat(65_535)}[\\u{e0041}\\ud800]z${'b'.repeat(70_000)}\n  ${'c'.repeat(65_535)}\u{1F600}`,
    );
  });
});

describe('json output escapes DEL, C1 and bidi/invisible controls (issue 9, defect 14)', () => {
  const evil = 'a\x7fb\x85c\x9bd\u202ee\u200bf\u2066g\ufeffh\u2028i\u{E0041}j';
  const unsafe =
    /[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/;
  for (const tty of [false, true]) {
    it(`in payloads, keys, reasons and every string (stdout a terminal: ${tty})`, () => {
      const events: WsxEvent[] = [
        msg(evil),
        msg(evil, { view: { dialect: { [`k${evil}`]: evil }, filtered: [{ [evil]: [evil] }] } }),
        { time: T, event: 'ping', direction: 'in', data: Buffer.from(evil) },
        { time: T, event: 'close', code: 4000, reason: evil, clean: true },
        { time: T, event: 'error', message: evil },
        { time: T, event: 'open', url: `ws://h/${evil}`, protocol: evil, extensions: '' },
      ];
      for (const ev of events) {
        const out = render({ format: 'json' }, ev, tty).out as string;
        expect(out).not.toMatch(unsafe);
        expect(out).toContain('\\u007f');
        expect(out.endsWith('\n')).toBe(true);
        expect(JSON.stringify(JSON.parse(out))).toContain(evil);
      }
      const view = JSON.parse(render({ format: 'json' }, events[1] as WsxEvent, tty).out as string);
      expect(view.dialect).toEqual({ [`k${evil}`]: evil });
      expect(view.filtered).toEqual([{ [evil]: [evil] }]);
      expect(view.data).toBe(evil);
    });
  }
});

describe('message views (what layers made of a message)', () => {
  const view = (v: NonNullable<Extract<WsxEvent, { event: 'message' }>['view']>, data = 'raw') =>
    msg(data, { view: v });
  const pretty = (ev: WsxEvent, o: Partial<OutputOptions> = {}) => render(o, ev).out;
  const raw = (ev: WsxEvent, tty = false) => render({ format: 'raw' }, ev, tty).out;
  const json = (ev: WsxEvent) => JSON.parse(String(render({ format: 'json' }, ev).out));

  it('pretty: label and body; JSON bodies indented unless --no-pretty-json', () => {
    expect(pretty(view({ label: '[1 next]', body: '{"a":1}' }))).toBe(
      '< [1 next] {\n    "a": 1\n  }\n',
    );
    expect(pretty(view({ label: '[1 next]', body: '{"a":1}' }), { prettyJson: false })).toBe(
      '< [1 next] {"a":1}\n',
    );
    expect(pretty(view({ label: '[1 complete]', body: '' }))).toBe('< [1 complete]\n');
    expect(pretty(view({ label: 'chat\x1b[2J', text: '"hi"' }))).toBe('< chat\\x1b[2J "hi"\n');
    // No body: the text, then the payload.
    expect(pretty(view({ text: '["chat","hi"]' }))).toBe('< [\n    "chat",\n    "hi"\n  ]\n');
    expect(pretty(view({ label: 'MESSAGE /x' }, 'plain body'))).toBe('< MESSAGE /x plain body\n');
  });
  it('pretty: filter values replace the body, one per line; empty hides the message', () => {
    const v = { filtered: [{ a: 1 }, 'x', 2] };
    expect(pretty(view(v), { prettyJson: false })).toBe('< {"a":1}\n< "x"\n< 2\n');
    expect(pretty(view(v))).toBe('< {\n    "a": 1\n  }\n< "x"\n< 2\n');
    expect(pretty(view({ filtered: [] }))).toBeUndefined();
    expect(pretty(view({ filtered: [10n] }))).toBe('< "10"\n');
  });
  it('pretty: a decoded binary message shows its value, not the hex dump', () => {
    const ev = msg(Buffer.from([0x81, 0xa1, 0x61, 0x01]), {
      view: { decoded: { codec: 'msgpack', value: { a: 1 } } },
    });
    expect(pretty(ev, { prettyJson: false })).toBe('< [msgpack] {"a":1}\n');
  });
  it('pretty: a note is one dim line; colour marks it', async () => {
    expect(pretty(view({ note: 'did not decode as cbor:\nbad' }))).toBe(
      '< raw\n  did not decode as cbor:\\nbad\n',
    );
    const p = await palette(true);
    const r = createRenderer(base, { stdoutIsTTY: true, paint: p, paintErr: p });
    expect(r(view({ note: 'n' })).out).toContain(p.dim('n'));
  });
  it('pretty: outgoing auto messages are > [auto]; --hide-ping-pong hides them and heartbeats; hidden hides', () => {
    const auto = msg('{"op":"pong"}', { direction: 'out', auto: true });
    expect(pretty(auto, { prettyJson: false })).toBe('> [auto] {"op":"pong"}\n');
    const viaView = msg('pong', { direction: 'out', view: { auto: true } });
    expect(pretty(viaView)).toBe('> [auto] pong\n');
    const beat = view({ control: true, heartbeat: true, label: '[ping]', body: '' });
    expect(pretty(beat)).toBe('< [ping]\n');
    for (const ev of [auto, viaView, beat]) {
      expect(pretty(ev, { hidePingPong: true })).toBeUndefined();
    }
    expect(pretty(view({ hidden: true }))).toBeUndefined();
  });
  it('pretty: --hide-ping-pong keeps control messages that are not heartbeats (acks, complete, receipts)', () => {
    const ack = view({ control: true, label: '[ack 3 · 4.1 ms]', body: '7', text: '[7]' });
    const complete = view({ control: true, label: '[1 complete]', body: '' });
    const receipt = view({ control: true, label: 'RECEIPT', body: 'subscribed to /q/a (sub 1)' });
    expect(pretty(ack, { hidePingPong: true })).toBe('< [ack 3 · 4.1 ms] 7\n');
    expect(pretty(complete, { hidePingPong: true })).toBe('< [1 complete]\n');
    expect(pretty(receipt, { hidePingPong: true })).toBe('< RECEIPT subscribed to /q/a (sub 1)\n');
    // A CDP event without --events, an error response: shown in pretty whatever the flag.
    const event = view({ rawHidden: true, label: 'Page.loadEventFired', body: '{"t":1}' });
    expect(pretty(event, { hidePingPong: true, prettyJson: false })).toBe(
      '< Page.loadEventFired {"t":1}\n',
    );
  });
  it('pretty: labels and bodies line up after timestamps and client ids', () => {
    const r = pretty({ ...view({ label: '[1 next]', body: '{"a":1}' }), client: 3 }) as string;
    expect(r).toBe('#3 < [1 next] {\n       "a": 1\n     }\n');
  });

  it('raw: filter values as compact JSON lines (jq -c); text when set; control messages not written', () => {
    expect(raw(view({ filtered: [{ a: [1, 2] }, 'x', null] }))).toBe('{"a":[1,2]}\n"x"\nnull\n');
    expect(raw(view({ filtered: [] }))).toBeUndefined();
    expect(raw(view({ text: '["chat","hi"]', label: 'chat' }))).toBe('["chat","hi"]\n');
    expect(raw(view({ text: 'a\x1bb' }), true)).toBe('a\\x1bb\n');
    expect(raw(view({ control: true, text: '2' }))).toBeUndefined();
    expect(raw(view({ control: true, heartbeat: true, text: '' }))).toBeUndefined();
    // Raw-hidden application messages (CDP events without --events, error responses).
    expect(
      raw(view({ rawHidden: true, text: '{"method":"Page.loadEventFired"}' })),
    ).toBeUndefined();
    expect(raw(view({ rawHidden: true, filtered: [1] }))).toBeUndefined();
    expect(raw(view({ hidden: true }))).toBeUndefined();
    expect(raw(view({ label: 'only a label' }))).toEqual(Buffer.from('raw\n'));
  });

  it('json: auto, control, dialect, decoded + codec, filtered, note', () => {
    expect(json(msg('p', { direction: 'out', auto: true }))).toMatchObject({ auto: true });
    expect(json(msg('p', { direction: 'out', view: { auto: true } }))).toMatchObject({
      auto: true,
    });
    expect(json(msg('p'))).not.toHaveProperty('auto');
    expect(json(view({ control: true }))).toMatchObject({ control: true });
    expect(json(view({ control: true }))).not.toHaveProperty('heartbeat');
    expect(json(view({ control: true, heartbeat: true }))).toMatchObject({
      control: true,
      heartbeat: true,
    });
    expect(json(view({ rawHidden: true }))).not.toHaveProperty('control');
    expect(json(view({ dialect: { type: 'next', id: '1', payload: { a: 1 } } }))).toMatchObject({
      dialect: { type: 'next', id: '1', payload: { a: 1 } },
      data: 'raw',
    });
    expect(json(view({ decoded: { codec: 'cbor', value: { big: 2n ** 64n } } }))).toMatchObject({
      decoded: { big: '18446744073709551616' },
      codec: 'cbor',
    });
    expect(json(view({ filtered: [1, { b: 2 }] }))).toMatchObject({ filtered: [1, { b: 2 }] });
    expect(json(view({ filtered: [] }))).toMatchObject({ filtered: [] });
    expect(json(view({ note: 'did not decode' }))).toMatchObject({ note: 'did not decode' });
    // A value that cannot be JSON (circular, or too big for one string): the event still is.
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(json(view({ dialect: loop }))).toMatchObject({
      event: 'message',
      note: 'the decoded value is too big to write as JSON',
      data: 'raw',
    });
    const plain = json(view({ label: 'x', body: 'y', text: 'z' }));
    expect(Object.keys(plain)).toEqual(['time', 'event', 'direction', 'type', 'size', 'data']);
  });
});

// The STOMP frame codec: NUL-terminated frames with embedded newlines, escapes per version,
// content-length bodies with NULs, frames split across and sharing WebSocket messages.

import { describe, expect, it } from 'vitest';
import {
  type Decoded,
  encodeFrame,
  header,
  headerObject,
  StompDecoder,
  type StompFrame,
  StompFrameError,
  type StompVersion,
} from '../../src/dialects/stomp-frame.js';
import { rng } from '../helpers/random.js';

const frames = (out: Decoded[]): StompFrame[] =>
  out.flatMap((d) => (d === 'heartbeat' ? [] : [d.frame]));

describe('encodeFrame', () => {
  it('writes command, headers, blank line, body and NUL', () => {
    const f = encodeFrame(
      { command: 'SEND', headers: [['destination', '/queue/a']], body: 'hi' },
      '1.2',
    );
    expect(f.toString()).toBe('SEND\ndestination:/queue/a\n\nhi\0');
  });

  it('escapes header values in 1.1 and 1.2 but not in 1.0 or CONNECT', () => {
    const h: Array<[string, string]> = [['x', 'a:b\nc\\d\re']];
    expect(encodeFrame({ command: 'SEND', headers: h }, '1.2').toString()).toBe(
      'SEND\nx:a\\cb\\nc\\\\d\\re\n\n\0',
    );
    expect(encodeFrame({ command: 'SEND', headers: h }, '1.1').toString()).toBe(
      'SEND\nx:a\\cb\\nc\\\\d\re\n\n\0',
    );
    expect(encodeFrame({ command: 'SEND', headers: [['x', 'a:b']] }, '1.0').toString()).toBe(
      'SEND\nx:a:b\n\n\0',
    );
    expect(
      encodeFrame({ command: 'CONNECT', headers: [['passcode', 'p:w\\']] }, '1.2').toString(),
    ).toBe('CONNECT\npasscode:p:w\\\n\n\0');
  });

  it('refuses a line break in an unescaped header', () => {
    expect(() => encodeFrame({ command: 'CONNECT', headers: [['login', 'a\nb']] }, '1.2')).toThrow(
      StompFrameError,
    );
  });

  it('adds content-length when the body holds a NUL, or when asked', () => {
    const body = Buffer.from([1, 0, 2]);
    const f = encodeFrame({ command: 'SEND', headers: [['destination', '/q']], body }, '1.2');
    expect(f.toString('latin1')).toBe('SEND\ndestination:/q\ncontent-length:3\n\n\x01\x00\x02\0');
    const g = encodeFrame({ command: 'SEND', body: 'ab' }, '1.2', { contentLength: true });
    expect(g.toString()).toBe('SEND\ncontent-length:2\n\nab\0');
  });
});

describe('StompDecoder', () => {
  const decoder = (v: StompVersion = '1.2') => new StompDecoder(() => v);

  it('decodes RabbitMQ frames (NUL then an EOL) and counts EOLs as heart-beats', () => {
    const d = decoder();
    const out = d.push(
      Buffer.from('MESSAGE\nsubscription:1\ndestination:/topic/x\ncontent-length:7\n\n{"a":1}\0\n'),
    );
    expect(out).toHaveLength(2);
    const [first, second] = out;
    expect(second).toBe('heartbeat');
    const f = (first as { frame: StompFrame }).frame;
    expect(f.command).toBe('MESSAGE');
    expect(header(f, 'destination')).toBe('/topic/x');
    expect(f.body.toString()).toBe('{"a":1}');
    expect(d.push(Buffer.from('\r\n\n'))).toEqual(['heartbeat', 'heartbeat']);
  });

  it('unescapes headers by version, first repeated header wins', () => {
    const wire = 'MESSAGE\nk:a\\cb\\nc\nk:second\n\n\0';
    const f = frames(decoder().push(Buffer.from(wire)))[0];
    expect(f && header(f, 'k')).toBe('a:b\nc');
    expect(f && headerObject(f)).toEqual({ k: 'a:b\nc' });
    const g = frames(decoder('1.0').push(Buffer.from(wire)))[0];
    expect(g && header(g, 'k')).toBe('a\\cb\\nc');
    expect(() => decoder('1.1').push(Buffer.from('MESSAGE\nk:\\r\n\n\0'))).toThrow(/escape/);
  });

  it('reads a body with NULs by content-length', () => {
    const f = frames(
      decoder().push(Buffer.from('MESSAGE\ncontent-length:3\n\n\0\0\0\0', 'latin1')),
    )[0];
    expect(f?.body).toEqual(Buffer.from([0, 0, 0]));
  });

  it('accepts CRLF line endings (1.2)', () => {
    const f = frames(decoder().push(Buffer.from('CONNECTED\r\nversion:1.2\r\n\r\n\0')))[0];
    expect(f && header(f, 'version')).toBe('1.2');
    expect(f?.body.length).toBe(0);
  });

  it('reassembles frames split anywhere across messages, and several frames in one', () => {
    const wire = Buffer.concat([
      encodeFrame({ command: 'MESSAGE', headers: [['a', 'x:y']], body: 'one\ntwo' }, '1.2'),
      Buffer.from('\n'),
      encodeFrame({ command: 'RECEIPT', headers: [['receipt-id', '7']] }, '1.2'),
      encodeFrame({ command: 'MESSAGE', body: Buffer.from([0, 10, 0]) }, '1.2'),
      Buffer.from('\r\n'),
    ]);
    const r = rng(13);
    for (let trial = 0; trial < 200; trial++) {
      const d = decoder();
      const out: Decoded[] = [];
      let i = 0;
      while (i < wire.length) {
        const n = 1 + Math.floor(r() * 12);
        out.push(...d.push(wire.subarray(i, i + n)));
        i += n;
      }
      expect(d.pending).toBe(0);
      const fs = frames(out);
      expect(fs.map((f) => f.command)).toEqual(['MESSAGE', 'RECEIPT', 'MESSAGE']);
      expect(fs[0]?.body.toString()).toBe('one\ntwo');
      expect(fs[0] && header(fs[0], 'a')).toBe('x:y');
      expect(fs[2]?.body).toEqual(Buffer.from([0, 10, 0]));
      expect(out.filter((o) => o === 'heartbeat')).toHaveLength(2);
    }
  });

  it('round-trips random headers and bodies', () => {
    const r = rng(7);
    const chars = 'ab:\\\n\r c';
    const word = () =>
      Array.from(
        { length: 1 + Math.floor(r() * 6) },
        () => chars[Math.floor(r() * chars.length)],
      ).join('');
    for (let i = 0; i < 300; i++) {
      const headers: Array<[string, string]> = [
        ['k1', word()],
        ['k2', word()],
      ];
      const body = Buffer.from(
        Array.from({ length: Math.floor(r() * 8) }, () => Math.floor(r() * 256)),
      );
      const wire = encodeFrame({ command: 'SEND', headers, body }, '1.2');
      const f = frames(decoder().push(wire))[0];
      expect(f?.headers.slice(0, 2)).toEqual(headers);
      expect(f?.body).toEqual(body);
    }
  });

  it('rejects what is not a frame', () => {
    expect(() => decoder().push(Buffer.from('hello world\n\n\0'))).toThrow(/not a STOMP command/);
    expect(() => decoder().push(Buffer.from('MESSAGE\nnocolon\n\n\0'))).toThrow(/without ':'/);
    expect(() => decoder().push(Buffer.from('MESSAGE\0'))).toThrow(/before its headers/);
    expect(() => decoder().push(Buffer.from('MESSAGE\ncontent-length:1\n\nab\0'))).toThrow(
      /longer than its content-length/,
    );
    expect(() => decoder().push(Buffer.from('MESSAGE\ncontent-length:x\n\n\0'))).toThrow(
      /content-length/,
    );
  });
});

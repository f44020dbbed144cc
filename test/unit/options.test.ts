import { describe, expect, it } from 'vitest';
import { WsxError } from '../../src/errors.js';
import {
  colorFor,
  type Environment,
  normaliseUrl,
  parseBytes,
  parseHeader,
  parseOptions,
  type RawFlags,
} from '../../src/options.js';
import { parseClient } from '../helpers/options.js';

const pipeEnv: Environment = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {} };
const ttyEnv: Environment = { stdinIsTTY: true, stdoutIsTTY: true, stderrIsTTY: true, env: {} };

function usage(fn: () => unknown): WsxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WsxError);
    expect((err as WsxError).kind).toBe('usage');
    return err as WsxError;
  }
  throw new Error('expected a usage error');
}

describe('normaliseUrl (SPEC §1)', () => {
  it.each([
    ['ws://h:1/x', 'ws://h:1/x'],
    ['wss://h/x?y=1', 'wss://h/x?y=1'],
    ['http://h:80/x', 'ws://h/x'],
    ['https://h/x', 'wss://h/x'],
    ['HTTPS://h/x', 'wss://h/x'],
    ['h:9/x', 'ws://h:9/x'],
    ['localhost:8080', 'ws://localhost:8080/'],
    ['127.0.0.1:8080', 'ws://127.0.0.1:8080/'],
    [':8080', 'ws://localhost:8080/'],
    [':8080/path', 'ws://localhost:8080/path'],
    ['8080', 'ws://localhost:8080/'],
    ['example.com/x', 'ws://example.com/x'],
    ['[::1]:9000', 'ws://[::1]:9000/'],
    ['ws://user:pass@h/', 'ws://user:pass@h/'],
    ['ws+unix:///run/app.sock:/path', 'ws+unix:///run/app.sock:/path'],
    ['ws://h/#frag', 'ws://h/'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseUrl(input)).toBe(expected);
  });

  it.each(['ftp://h/', 'ws://', '', 'ws://exa mple.com/', 'ws+unix://', 'h:99999'])(
    'rejects %j naming the value',
    (input) => {
      const err = usage(() => normaliseUrl(input));
      if (input.trim() !== '') expect(err.message).toContain(input.split('/')[0] ? input : input);
    },
  );
});

describe('parseHeader', () => {
  it('splits name and value', () => {
    expect(parseHeader('X-Token: a: b ')).toEqual(['X-Token', 'a: b']);
  });
  it('needs a colon', () => {
    expect(usage(() => parseHeader('NoColon')).message).toContain('NoColon');
  });
  it.each(['Sec-WebSocket-Protocol: x', 'upgrade: x', 'Connection: close', 'sec-websocket-key: k'])(
    'refuses %s with a hint',
    (h) => {
      const err = usage(() => parseHeader(h));
      expect(err.hint).toBeTruthy();
    },
  );
  it('points to -s for subprotocols', () => {
    expect(usage(() => parseHeader('Sec-WebSocket-Protocol: chat')).hint).toContain('-s');
  });
  it('rejects bad names and line breaks', () => {
    usage(() => parseHeader('Bad Name: x'));
    usage(() => parseHeader('X: a\r\nInjected: 1'));
  });
});

describe('parseOptions', () => {
  it('picks modes from -x and the terminal', () => {
    expect(parseClient({ url: ':1' }, ttyEnv).session.mode).toBe('repl');
    expect(parseClient({ url: ':1' }, pipeEnv).session.mode).toBe('pipe');
    expect(parseClient({ url: ':1', execute: ['a'] }, ttyEnv).session.mode).toBe('execute');
  });
  it('defaults output by stdout', () => {
    expect(parseClient({ url: ':1' }, ttyEnv).output.format).toBe('pretty');
    expect(parseClient({ url: ':1' }, pipeEnv).output.format).toBe('raw');
    expect(parseClient({ url: ':1', json: true }, ttyEnv).output.format).toBe('json');
    expect(parseClient({ url: ':1', output: 'json' }, ttyEnv).output.format).toBe('json');
  });
  it('parses numbers and units', () => {
    const o = parseClient(
      {
        url: ':1',
        wait: '0.5',
        count: '3',
        timeout: '2',
        maxDisplay: '1K',
        maxMessageSize: '2M',
        handshakeTimeout: '1.5',
      },
      pipeEnv,
    );
    expect(o.session.waitMs).toBe(500);
    expect(o.session.count).toBe(3);
    expect(o.session.timeoutMs).toBe(2000);
    expect(o.output.maxDisplay).toBe(1024);
    expect(o.connect.maxMessageSize).toBe(2 * 1024 * 1024);
    expect(o.connect.handshakeTimeoutMs).toBe(1500);
    expect(parseClient({ url: ':1', wait: '-1' }, pipeEnv).session.waitMs).toBe(-1);
    expect(parseClient({ url: ':1' }, pipeEnv).session.waitMs).toBe(2000);
  });
  it.each([
    [{ wait: 'soon' }, '--wait'],
    [{ wait: '-2' }, '--wait'],
    [{ count: '0' }, '--count'],
    [{ count: '1.5' }, '--count'],
    [{ timeout: '-1' }, '--timeout'],
    [{ expect: '(' }, '--expect'],
    [{ output: 'yaml' }, '--output'],
    [{ binaryAs: 'octal' }, '--binary-as'],
    [{ protocolVersion: '7' }, '--protocol-version'],
    [{ maxDisplay: 'lots' }, '--max-display'],
    [{ handshakeTimeout: '0' }, '--handshake-timeout'],
    [{ handshakeTimeout: 'x' }, '--handshake-timeout'],
    [{ pingTimeout: '1' }, '--ping-timeout needs --ping-interval'],
    [{ pingInterval: '0' }, '--ping-interval'],
    [{ replay: 'f', execute: ['x'] }, '--replay and -x'],
    [{ replaySpeed: '2' }, '--replay-speed needs --replay'],
    [{ replay: 'f', replaySpeed: '-1' }, '--replay-speed'],
  ])('rejects %j', (flags, name) => {
    expect(usage(() => parseClient({ url: ':1', ...flags }, pipeEnv)).message).toContain(name);
  });
  it('needs a URL unless --demo', () => {
    usage(() => parseClient({}, pipeEnv));
    expect(parseClient({ demo: true }, pipeEnv).demo).toBe(true);
    usage(() => parseClient({ demo: true, url: ':1' }, pipeEnv));
  });
  it('--auth user without a password needs a terminal', () => {
    expect(usage(() => parseClient({ url: ':1', auth: 'alice' }, pipeEnv)).message).toContain(
      'alice',
    );
    expect(parseClient({ url: ':1', auth: 'alice' }, ttyEnv).connect.auth).toEqual({
      user: 'alice',
      pass: undefined,
    });
    expect(parseClient({ url: ':1', auth: 'alice:s:e' }, pipeEnv).connect.auth).toEqual({
      user: 'alice',
      pass: 's:e',
    });
  });
  it('framing flags', () => {
    expect(parseClient({ url: ':1', null: true }, pipeEnv).session.framing).toBe('null');
    expect(parseClient({ url: ':1', split: false }, pipeEnv).session.framing).toBe('whole');
    usage(() => parseClient({ url: ':1', split: false, null: true }, pipeEnv));
  });
});

describe('colour', () => {
  it('follows the terminal, NO_COLOR, FORCE_COLOR and the flags, in that order of strength', () => {
    expect(colorFor(true, undefined, {})).toBe(true);
    expect(colorFor(false, undefined, {})).toBe(false);
    expect(colorFor(true, undefined, { NO_COLOR: '1' })).toBe(false);
    expect(colorFor(false, undefined, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorFor(true, undefined, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorFor(false, true, { NO_COLOR: '1' })).toBe(true);
    expect(colorFor(true, false, { FORCE_COLOR: '1' })).toBe(false);
  });
});

describe('parseBytes', () => {
  it('takes suffixes', () => {
    expect(parseBytes('--x', '64K', 0, 0)).toBe(65536);
    expect(parseBytes('--x', '0', 1, 0)).toBe(0);
    expect(parseBytes('--x', '1.5M', 0, 0)).toBe(1572864);
  });
});

describe('listen options (SPEC §8)', () => {
  const listen = (flags: RawFlags) => {
    const o = parseOptions(flags, pipeEnv);
    if (o.kind !== 'listen') throw new Error('expected listen options');
    return o;
  };
  it('parses -l, --bind and the serving flags', () => {
    const o = listen({ listen: '0', echo: true, once: true, subprotocol: ['chat'] });
    expect(o).toMatchObject({
      port: 0,
      bind: '127.0.0.1',
      echo: true,
      broadcast: false,
      once: true,
      subprotocols: ['chat'],
    });
    expect(listen({ listen: '8080', bind: '::1' }).bind).toBe('::1');
    expect(listen({ listen: '8080', bind: '[::]' }).bind).toBe('::');
    expect(listen({ listen: '8080', bind: 'localhost' }).bind).toBe('localhost');
  });
  it.each([['x'], ['-1'], ['65536'], ['80.5']])('rejects -l %s', (port) => {
    expect(usage(() => parseOptions({ listen: port }, pipeEnv)).message).toContain('-l');
  });
  it.each(['999.1.1.1', 'bad host', '1.2.3', ''])('rejects --bind %j', (bind) => {
    usage(() => parseOptions({ listen: '0', bind }, pipeEnv));
  });
  it('refuses client-only options with -l, and listen-only options without it', () => {
    expect(usage(() => parseOptions({ listen: '0', url: ':1' }, pipeEnv)).message).toContain('-l');
    expect(
      usage(() => parseOptions({ listen: '0', proxy: 'http://p:1' }, pipeEnv)).message,
    ).toContain('--proxy');
    expect(usage(() => parseOptions({ listen: '0', header: ['a: b'] }, pipeEnv)).message).toContain(
      '-H',
    );
    expect(usage(() => parseOptions({ url: ':1', echo: true }, pipeEnv)).message).toContain(
      '--echo',
    );
  });
});

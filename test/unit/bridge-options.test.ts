// Pure parsing of the bridge flags (src/bridge/options.ts): forms accepted and usage errors.

import { describe, expect, it } from 'vitest';
import { parseBridgeOptions, parseHostPort, parseTarget } from '../../src/bridge/options.js';
import { parseOptions } from '../../src/options.js';

const env = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {} };

describe('bridge options', () => {
  it('no bridge flag: no bridge', () => {
    expect(parseBridgeOptions({}, 'client')).toBeUndefined();
    expect(parseOptions({ url: 'ws://h/' }, env).bridge).toBeUndefined();
  });

  it('--stream, --tcp-listen, --exec, --to', () => {
    expect(parseOptions({ url: 'ws://h/', stream: true }, env).bridge).toEqual({
      kind: 'stream',
      waitGiven: false,
    });
    expect(parseOptions({ url: 'ws://h/', tcpListen: '2222' }, env).bridge).toEqual({
      kind: 'tcp-listen',
      host: '127.0.0.1',
      port: 2222,
    });
    expect(
      parseOptions({ url: 'ws://h/', exec: 'cat', stream: true, wait: '1' }, env).bridge,
    ).toEqual({ kind: 'exec', command: 'cat', stream: true, waitGiven: true });
    expect(parseOptions({ listen: '0', to: 'tcp:localhost:22' }, env).bridge).toEqual({
      kind: 'to',
      target: { kind: 'tcp', host: 'localhost', port: 22 },
    });
    expect(parseOptions({ listen: '0', exec: 'cat' }, env).bridge).toMatchObject({ kind: 'exec' });
  });

  it('host:port forms', () => {
    expect(parseHostPort('0.0.0.0:80', 'x', false)).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseHostPort('[::1]:80', 'x', false)).toEqual({ host: '::1', port: 80 });
    expect(parseTarget('unix:/run/a.sock')).toEqual({ kind: 'unix', path: '/run/a.sock' });
    expect(parseTarget('tcp:[::1]:5900')).toEqual({ kind: 'tcp', host: '::1', port: 5900 });
  });

  it.each([
    [{ url: 'ws://h/', stream: true, execute: ['x'] }, /-x cannot be used with --stream/],
    [{ url: 'ws://h/', stream: true, null: true }, /-0 cannot be used with --stream/],
    [{ url: 'ws://h/', tcpListen: '70000' }, /--tcp-listen: '70000' is not a port number/],
    [{ url: 'ws://h/', tcpListen: '1', exec: 'cat' }, /exclude each other/],
    [{ url: 'ws://h/', exec: '  ' }, /--exec needs a command/],
    [{ url: 'ws://h/', to: 'tcp:h:1' }, /--to is for listen mode/],
    [{ listen: '0', to: 'h:1' }, /--to takes tcp:HOST:PORT or unix:PATH/],
    [{ listen: '0', to: 'tcp:h' }, /needs a host and a port/],
    [{ listen: '0', to: 'tcp:h:1', exec: 'cat' }, /exclude each other/],
    [{ listen: '0', stream: true }, /-l --stream needs a target/],
    [{ listen: '0', to: 'tcp:h:1', echo: true }, /--echo cannot be used with --to/],
    [{ listen: '0', tcpListen: '1' }, /--tcp-listen cannot be used with -l/],
    [{ demo: true, stream: true }, /--demo cannot be used with --stream/],
  ])('usage error: %j', (flags, message) => {
    expect(() => parseOptions(flags, env)).toThrow(message);
  });
});

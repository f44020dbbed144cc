// Sessions in-process: run() over in-memory streams, and the controller against real sockets.

import { describe, expect, it } from 'vitest';
import { connect } from '../../src/connection.js';
import type { WsxEvent } from '../../src/events.js';
import type { RawFlags } from '../../src/options.js';
import { prepareConnect } from '../../src/prepare.js';
import { run } from '../../src/run.js';
import { Controller } from '../../src/session/controller.js';
import { echoServer, wsServer } from '../fixtures/servers.js';
import { memoryIo } from '../helpers/memory-io.js';
import { parseClient } from '../helpers/options.js';
import { pick, rng } from '../helpers/random.js';
import { tracker } from '../helpers/spawn.js';

// Servers made by a test are closed after it (closing one twice is harmless).
const track = tracker();

const noSignals = { onSignal: () => () => {} };

async function runWith(flags: RawFlags, input?: string) {
  const io = memoryIo();
  const options = parseClient(flags, {
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
  });
  if (input !== undefined) io.input.end(input);
  const code = await run(options, io, noSignals);
  return { code, out: io.out(), err: io.err() };
}

describe('run() over injected streams', () => {
  it('pipe: lines in, replies out, exit 0', async () => {
    const s = await track(echoServer());
    const r = await runWith({ url: s.url, wait: '0.1' }, 'one\ntwo\n');
    expect(r).toEqual({ code: 0, out: 'one\ntwo\n', err: '' });
  });

  it('execute + json: every event on stdout', async () => {
    const s = await track(echoServer());
    const r = await runWith({ url: s.url, execute: ['hi'], wait: '0.1', json: true });
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    expect(events).toEqual(['open', 'message', 'message', 'close']);
  });

  it('server close 4001 → exit 3 from the same exit-code table', async () => {
    const s = await track(echoServer());
    const r = await runWith({ url: s.url, execute: ['bye'] });
    expect(r.code).toBe(3);
    expect(r.err).toBe('Disconnected: 4001 "custom bye"\n');
  });

  it('a refused connection is exit 1 with one error line', async () => {
    const s = await track(echoServer());
    const url = s.url;
    await s.close();
    const r = await runWith({ url, execute: ['x'] });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: connection refused by 127\.0\.0\.1:\d+\nhint: /);
  });
});

describe('Controller', () => {
  it('/reconnect closes with 1000 and opens a new connection with the same options', async () => {
    const closes: number[] = [];
    const s = await track(wsServer((ws) => ws.on('close', (code) => closes.push(code))));
    const options = parseClient(
      { url: s.url },
      { stdinIsTTY: true, stdoutIsTTY: true, stderrIsTTY: true, env: {} },
    );
    const events: WsxEvent[] = [];
    const ctl = new Controller({
      connect: async (signal) =>
        connect(await prepareConnect(options.connect, undefined), { signal }),
      emit: (e) => events.push(e),
      session: options.session,
      showOutgoing: true,
    });
    expect(await ctl.open()).toBe(true);
    const first = ctl.peer;
    await ctl.reconnect();
    expect(ctl.peer).not.toBe(first);
    expect(ctl.peer?.isOpen).toBe(true);
    for (let i = 0; i < 40 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(closes).toEqual([1000]);
    expect(events.map((e) => e.event)).toEqual(['open', 'close', 'note', 'open']);
    ctl.quit();
    expect(await ctl.ended).toEqual({ kind: 'done' });
  });

  it('an interrupt before the connection opens ends with the signal', async () => {
    const s = await track(
      wsServer(() => {}, { verifyClient: (_i, cb) => setTimeout(() => cb(true), 2000) }),
    );
    const options = parseClient(
      { url: s.url },
      { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {} },
    );
    const ctl = new Controller({
      connect: async (signal) =>
        connect(await prepareConnect(options.connect, undefined), { signal }),
      emit: () => {},
      session: options.session,
      showOutgoing: false,
    });
    const opening = ctl.open();
    setTimeout(() => ctl.interrupt('SIGINT'), 100);
    expect(await opening).toBe(false);
    expect(await ctl.ended).toEqual({ kind: 'signal', signal: 'SIGINT' });
  });
});

describe('REPL over injected streams', () => {
  it('sends lines, joins multi-line JSON, runs commands, survives bad input, and /quit exits 0', async () => {
    const got: string[] = [];
    const closes: number[] = [];
    const s = await track(
      wsServer((ws) => {
        ws.on('message', (d) => got.push(String(d)));
        ws.on('close', (c) => closes.push(c));
        ws.send('server says hi');
      }),
    );
    const io = memoryIo({ tty: true, env: { NO_COLOR: '1' } });
    const options = parseClient(
      { url: s.url, history: false },
      { stdinIsTTY: true, stdoutIsTTY: true, stderrIsTTY: true, env: { NO_COLOR: '1' } },
    );
    const done = run(options, io, noSignals);
    const type = async (text: string) => {
      io.input.write(text);
      await new Promise((r) => setTimeout(r, 60));
    };
    const waitFor = async (pred: () => boolean) => {
      for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => io.out().includes('server says hi'));
    await type('hello\r');
    await type('[1,\r');
    await type(' 2]\r');
    await type('/close nope\r');
    await type('/binary 0g\r');
    await type('//slash\r');
    await waitFor(() => got.length === 3);
    expect(got).toEqual(['hello', '[1,\n 2]', '/slash']);
    expect(io.err()).toContain("error: cannot send close code 'nope'");
    expect(io.err()).toContain("error: not hex: 'g'");
    await type('/quit\r');
    expect(await done).toBe(0);
    expect(closes).toEqual([1000]);
    expect(io.out()).toContain('< server says hi');
    expect(io.out().replace(/\x1b\[[0-9;]*m/g, '')).toContain('Disconnected: 1000 Normal Closure');
  });
});

describe('nothing a user types can crash the REPL (seeded fuzz)', () => {
  it('400 random lines of commands, arguments and control bytes; the session goes on and /quit exits 0', async () => {
    const seed = 20261125;
    const r = rng(seed);
    const s = await track(wsServer((ws) => ws.on('message', (d) => ws.send(d as Buffer))));
    const io = memoryIo({ tty: true, env: { NO_COLOR: '1' } });
    const options = parseClient(
      { url: s.url, history: false },
      { stdinIsTTY: true, stdoutIsTTY: true, stderrIsTTY: true, env: {} },
    );
    const done = run(options, io, noSignals);
    for (let i = 0; i < 50 && !io.out().includes('Connected'); i++)
      await new Promise((res) => setTimeout(res, 20));
    const commands = [
      '/ping',
      '/pong',
      '/close',
      '/binary',
      '/base64',
      '/file',
      '/status',
      '/headers',
      '/help',
      '/nope',
      '//',
      '/',
      '{',
      '[',
      '',
    ];
    const junk = () =>
      Array.from({ length: Math.floor(r() * 40) }, () => {
        const c = Math.floor(r() * 0x3000);
        // Keep out the keys that would legitimately end or clear the session (Ctrl-C, Ctrl-D, Enter).
        return c === 3 || c === 4 || c === 13 || c === 10 || (c >= 0xd800 && c <= 0xdfff)
          ? 'x'
          : String.fromCharCode(c);
      }).join('');
    for (let i = 0; i < 400; i++) {
      let line = `${pick(r, commands)} ${junk()}`;
      // /close with a valid code would end the session on purpose; keep those invalid.
      if (line.startsWith('/close') && /^\/close\s+\d/.test(line))
        line = `/close x${line.slice(6)}`;
      io.input.write(`${line}\r`);
      if (i % 50 === 0) await new Promise((res) => setTimeout(res, 10));
    }
    // Close any half-finished JSON continuation, then leave.
    io.input.write('\x03');
    await new Promise((res) => setTimeout(res, 100));
    io.input.write('/quit\r');
    expect(await done, `seed ${seed}`).toBe(0);
    expect(io.err()).not.toMatch(/internal error|\n\s+at /);
    expect(io.out().replace(/\x1b\[[0-9;]*m/g, '')).toContain('Disconnected: 1000 Normal Closure');
  });
});

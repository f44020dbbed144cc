// The built CLI against local servers, well-behaved and hostile: every ending of SPEC §7.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  acceptResponse,
  echoServer,
  frame,
  httpServer,
  tcpServer,
  wsServer,
} from '../fixtures/servers.js';
import { BIN, runCli } from '../helpers/cli.js';
import { pick, randomBytes, rng } from '../helpers/random.js';
import { tracker } from '../helpers/spawn.js';

// Servers made by a test are closed after it (closing one twice is harmless).
const track = tracker();

/** One `error:` line (plus optional details/hint), never a stack trace. */
function expectCleanError(stderr: string, pattern: RegExp) {
  expect(stderr).toMatch(/^error: /m);
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.match(/^error: /gm)?.length).toBe(1);
}

describe('execute mode', () => {
  it('sends, prints the reply and exits 0 without reading stdin', async () => {
    const s = await track(echoServer());
    const r = await runCli([s.url, '-x', 'hello', '-x', 'world', '-w', '0.3']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('hello\nworld\n');
    expect(r.stderr).toBe('');
  });

  it('works with stdin closed (cron, nohup)', async () => {
    const s = await track(echoServer());
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        'sh',
        ['-c', `exec 0<&- ; exec "${process.execPath}" "${BIN}" "$0" -x hi -w 0.2`, s.url],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, NO_COLOR: '1' },
        },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const t = setTimeout(() => child.kill('SIGKILL'), 15000);
      child.on('close', (code) => {
        clearTimeout(t);
        resolve({ code, out });
      });
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe('hi\n');
  });

  it('pretty output shows sent and received messages and the close', async () => {
    const s = await track(echoServer());
    const r = await runCli([s.url, '-x', '{"a":1}', '-w', '0.2', '--output', 'pretty']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `Connected to ${s.url}\n> {\n    "a": 1\n  }\n< {\n    "a": 1\n  }\nDisconnected: 1000 Normal Closure\n`,
    );
  });
});

describe('pipe mode', () => {
  it('sends one message per line and gets them back in order', async () => {
    const s = await track(echoServer());
    const r = await runCli([s.url, '-w', '0.3'], { input: 'a\r\nb\n\nc' });
    expect(r.code).toBe(0);
    expect(r.out).toBe('a\nb\n\nc\n');
  });

  it('200,000 numbered lines come back byte-exact and in order', async () => {
    const s = await track(echoServer());
    const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const input = `${lines.join('\n')}\n`;
    const r = await runCli([s.url, '-w', '1'], { input, timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.out.length).toBe(input.length);
    expect(r.out === input).toBe(true);
  }, 90_000);

  it('-0 splits on NUL, --no-split sends one message, -b sends binary', async () => {
    const got: Array<[string, boolean]> = [];
    const s = await track(
      wsServer((ws) => ws.on('message', (d, bin) => got.push([(d as Buffer).toString(), bin]))),
    );
    expect((await runCli([s.url, '-0', '-w', '0.2'], { input: 'a\nb\0c\0' })).code).toBe(0);
    expect(got.splice(0)).toEqual([
      ['a\nb', false],
      ['c', false],
    ]);
    expect((await runCli([s.url, '--no-split', '-w', '0.2'], { input: 'x\ny\n' })).code).toBe(0);
    expect(got.splice(0)).toEqual([['x\ny\n', false]]);
    expect((await runCli([s.url, '-b', '-w', '0.2'], { input: 'z\n' })).code).toBe(0);
    expect(got.splice(0)).toEqual([['z', true]]);
  });

  it('warns once when piped text is not valid UTF-8 (and -b is the way to send bytes)', async () => {
    const got: Array<[string, boolean]> = [];
    const s = await track(
      wsServer(
        (ws) => ws.on('message', (d, bin) => got.push([(d as Buffer).toString('hex'), bin])),
        { skipUTF8Validation: true },
      ),
    );
    const input = Buffer.from('ok\n\xff\xfe\n\xc3\x28\n', 'latin1');
    const text = await runCli([s.url, '-w', '0.2'], { input });
    expect(text.code).toBe(0);
    expect(
      text.stderr.match(/warning: input message 2 is not valid UTF-8 but goes as text; use -b/g),
    ).toHaveLength(1);
    expect(got.splice(0)).toEqual([
      ['6f6b', false],
      ['fffe', false],
      ['c328', false],
    ]);
    const bin = await runCli([s.url, '-b', '-w', '0.2'], { input });
    expect(bin.stderr).toBe('');
    expect(got.map(([, b]) => b)).toEqual([true, true, true]);
  });

  it('queues input that arrives before the connection opens', async () => {
    const got: string[] = [];
    const s = await track(
      wsServer((ws) => ws.on('message', (d) => got.push(String(d))), {
        // Hold the handshake for 700 ms while the input is already written and closed.
        verifyClient: (_info, cb) => setTimeout(() => cb(true), 700),
      }),
    );
    const r = await runCli([s.url, '-w', '0.2'], { input: '1\n2\n3\n' });
    expect(r.code).toBe(0);
    expect(got).toEqual(['1', '2', '3']);
  });

  it('stops reading stdin while the socket cannot drain (bounded memory)', async () => {
    // The server stops reading its socket: wsx must stop reading stdin, so the writer blocks.
    const s = await track(
      wsServer((ws) => (ws as unknown as { _socket: { pause(): void } })._socket.pause()),
    );
    const child = spawn(process.execPath, [BIN, s.url, '-w', '0'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child.stdin.on('error', () => {});
    const chunk = Buffer.alloc(1024 * 1024, 'a\n');
    let written = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(
          () => reject(new Error('wsx kept reading: no back-pressure')),
          20_000,
        );
        const pump = () => {
          while (written < 2 * 1024 * 1024 * 1024) {
            written += chunk.length;
            if (!child.stdin.write(chunk)) {
              // Blocked: wait to see whether wsx drains us within a second.
              const idle = setTimeout(() => {
                clearTimeout(deadline);
                resolve();
              }, 1500);
              child.stdin.once('drain', () => {
                clearTimeout(idle);
                pump();
              });
              return;
            }
          }
          reject(new Error('wrote 2 GiB without back-pressure'));
        };
        pump();
      });
      const status = await import('node:fs').then((fs) =>
        fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'),
      );
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      expect(written).toBeLessThan(256 * 1024 * 1024);
      expect(rssKb).toBeLessThan(300 * 1024);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('endings and exit codes', () => {
  it('server close 4001 → exit 3, stderr names the code and reason', async () => {
    const s = await track(echoServer());
    const r = await runCli([s.url, '-x', 'bye']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('Disconnected: 4001 "custom bye"\n');
  });

  it('server close 1001 → exit 0', async () => {
    const s = await track(wsServer((ws) => ws.close(1001, 'restarting')));
    const r = await runCli([s.url, '-w', '-1'], { input: '' });
    expect(r.code).toBe(0);
  });

  it('TCP drop without a close frame → 1006, exit 1', async () => {
    const s = await track(wsServer((ws) => ws.on('message', () => ws.terminate())));
    const r = await runCli([s.url, '-x', 'x', '--output', 'pretty']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'Disconnected: 1006 Abnormal Closure (no close frame: the connection dropped)',
    );
  });

  it('connection refused → exit 1 with one error line', async () => {
    const s = await track(echoServer());
    const port = s.port;
    await s.close();
    const r = await runCli([`ws://127.0.0.1:${port}/`, '-x', 'x']);
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /connection refused by 127\.0\.0\.1/);
  });

  it('DNS failure → exit 1', async () => {
    const preload = fileURLToPath(new URL('../fixtures/fake-dns.cjs', import.meta.url));
    const r = await runCli(['ws://nowhere.wsx-test/', '-x', 'x'], {
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /could not resolve host 'nowhere\.wsx-test'/);
  });

  it('a name that resolves to several addresses: every one is tried (::1 refused, then 127.0.0.1)', async () => {
    const preload = fileURLToPath(new URL('../fixtures/fake-dns.cjs', import.meta.url));
    const s = await track(wsServer((ws) => ws.send('reached over IPv4')));
    const r = await runCli([`ws://api.dual.wsx-test:${s.port}/`, '-w', '0.3'], {
      input: '',
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('reached over IPv4\n');
  });

  it('a non-101 answer shows the status, WWW-Authenticate and the body, escaped', async () => {
    const s = await track(
      httpServer((_req, res) => {
        res.writeHead(401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="x"' });
        res.end(`denied \x1b]0;owned\x07 ${'z'.repeat(3000)}`);
      }),
    );
    const r = await runCli([s.url, '-x', 'x']);
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /HTTP 401 Unauthorized/);
    expect(r.stderr).toContain('WWW-Authenticate: Basic realm="x"');
    expect(r.stderr).toContain('body: denied \\x1b]0;owned\\x07 zzz');
    expect(r.stderr).not.toContain('\x1b');
    expect(r.stderr.length).toBeLessThan(1500);
  });

  it('a redirect without -L shows the Location', async () => {
    const s = await track(
      httpServer((_req, res) => {
        res.writeHead(302, { Location: 'ws://127.0.0.1:1/elsewhere' });
        res.end();
      }),
    );
    const r = await runCli([s.url, '-x', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HTTP 302');
    expect(r.stderr).toContain('Location: ws://127.0.0.1:1/elsewhere');
  });

  it('invalid UTF-8 in a text frame → protocol error, exit 1', async () => {
    const s = await track(
      tcpServer((socket, req) => {
        socket.write(acceptResponse(req));
        socket.write(frame(1, Buffer.from([0x68, 0xc3, 0x28])));
      }),
    );
    const r = await runCli([s.url, '-w', '-1'], { input: '' });
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /not valid UTF-8/);
  });

  it('an invalid opcode → protocol error, exit 1', async () => {
    const s = await track(
      tcpServer((socket, req) => {
        socket.write(acceptResponse(req));
        socket.write(frame(3, Buffer.from('x')));
      }),
    );
    const r = await runCli([s.url, '-w', '-1'], { input: '' });
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /protocol error/);
  });

  it('a bad Sec-WebSocket-Accept → exit 1', async () => {
    const s = await track(
      tcpServer((socket) => {
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n',
        );
      }),
    );
    const r = await runCli([s.url, '-x', 'x']);
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /Sec-WebSocket-Accept/);
  });

  it('a silent server times out at --handshake-timeout', async () => {
    const s = await track(tcpServer(() => {}));
    const t0 = Date.now();
    const r = await runCli([s.url, '-x', 'x', '--handshake-timeout', '0.8']);
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /did not complete within 0\.8 s/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a server that trickles its 101 one byte at a time still times out (a deadline, not an idle timer)', async () => {
    const s = await track(
      tcpServer((socket, req) => {
        const bytes = Buffer.from(acceptResponse(req));
        let i = 0;
        const t = setInterval(() => {
          if (socket.destroyed || i >= bytes.length) return clearInterval(t);
          socket.write(bytes.subarray(i, i + 1));
          i++;
        }, 100);
        socket.on('close', () => clearInterval(t));
      }),
    );
    const t0 = Date.now();
    const r = await runCli([s.url, '-x', 'x', '--handshake-timeout', '1']);
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /did not complete within 1 s/);
    expect(Date.now() - t0).toBeLessThan(6000);
  });

  it('SIGINT closes with 1001 and exits 130; SIGTERM exits 143', async () => {
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const closes: number[] = [];
      const s = await track(
        wsServer((ws) => {
          ws.on('close', (c) => closes.push(c));
          ws.send('ready');
        }),
      );
      const r = await runCli([s.url, '-x', 'x', '-w', '-1'], {
        onSpawn: (child) => child.stdout?.once('data', () => child.kill(signal)),
      });
      expect(r.code).toBe(code);
      expect(closes).toEqual([1001]);
    }
  });

  it('a reader that goes away (`| head -1`) ends the run quietly: close 1000, exit 0, no stack trace', async () => {
    const closes: number[] = [];
    const s = await track(
      wsServer((ws) => {
        ws.on('close', (c) => closes.push(c));
        const t = setInterval(
          () => (ws.readyState === 1 ? ws.send('x'.repeat(1000)) : clearInterval(t)),
          2,
        );
      }),
    );
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, s.url, '-w', '-1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    // Like `head -1`: read once, then close the read end of the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('close', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(4000);
    for (let i = 0; i < 50 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closes).toEqual([1000]);
  });

  it('usage errors exit 2 with one error line', async () => {
    for (const args of [
      ['--bogus'],
      ['ftp://x'],
      [':1', '--count', 'x'],
      [':1', '-H', 'nocolon'],
      [],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expectCleanError(r.stderr, /./);
    }
  });
});

describe('nothing received can crash wsx (seeded fuzz)', () => {
  it('random frames after the handshake: always a §7 exit code, never an internal error or a raw escape', async () => {
    const seed = 6455;
    const r = rng(seed);
    const closeFrame = (code: number) => {
      const body = Buffer.alloc(2);
      body.writeUInt16BE(code);
      return frame(8, Buffer.concat([body, Buffer.from('bye \x1b[2J')]));
    };
    /** Valid traffic (text with escapes, binary, pings), then one of: a clean close, an error
     * close, random junk, or nothing (a drop). */
    const frames = (): Buffer => {
      const out: Buffer[] = [];
      for (let i = 0, n = Math.floor(r() * 4); i < n; i++) {
        const kind = pick(r, ['text', 'binary', 'ping'] as const);
        if (kind === 'text')
          out.push(frame(1, Buffer.from(`{"k":"\x1b]0;x\x07\u202e","n":[${i}]}`)));
        else if (kind === 'binary') out.push(frame(2, randomBytes(r, 300)));
        else out.push(frame(9, randomBytes(r, 100)));
      }
      const ending = pick(r, ['clean', 'error', 'junk', 'drop'] as const);
      if (ending === 'clean') out.push(closeFrame(1000));
      else if (ending === 'error') out.push(closeFrame(4000 + Math.floor(r() * 999)));
      else if (ending === 'junk') {
        const f = frame(pick(r, [0, 1, 2, 3, 8, 9, 11, 15]), randomBytes(r, 200), r() < 0.8);
        if (r() < 0.3) f[0] = (f[0] ?? 0) | 0x70; // RSV bits
        if (r() < 0.2) f[1] = (f[1] ?? 0) | 0x80; // masked (servers must not mask)
        out.push(r() < 0.2 ? f.subarray(0, Math.floor(f.length / 2)) : f);
      }
      return Buffer.concat(out);
    };
    const cases = Array.from({ length: 24 }, () => frames());
    const seen = new Set<number | null>();
    for (let batch = 0; batch < cases.length; batch += 6) {
      await Promise.all(
        cases.slice(batch, batch + 6).map(async (bytes, k) => {
          const s = await track(
            tcpServer((socket, req) => {
              socket.write(acceptResponse(req));
              socket.end(bytes);
            }),
          );
          const res = await runCli([s.url, '--output', 'pretty', '-w', '0.3'], { input: '' });
          const which = `seed ${seed}, case ${batch + k}: ${bytes.toString('hex').slice(0, 80)}`;
          seen.add(res.code);
          expect([0, 1, 3], which).toContain(res.code);
          expect(res.stderr, which).not.toMatch(/internal error|\n\s+at /);
          expect(res.out, which).not.toMatch(/[\x1b\x07\x9b\u202e]/);
        }),
      );
    }
    // The cases reach every kind of ending (clean 0, error/drop 1, server close 3), not one early exit.
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });
});

describe('receiving', () => {
  it('answers server pings automatically; json shows ping in and pong out', async () => {
    let pong: string | undefined;
    const s = await track(
      wsServer((ws) => {
        ws.on('pong', (d) => {
          pong = String(d);
          ws.close(1000);
        });
        ws.ping('are you there');
      }),
    );
    const r = await runCli([s.url, '--json', '-w', '-1'], { input: '' });
    expect(r.code).toBe(0);
    expect(pong).toBe('are you there');
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.event}:${e.direction ?? ''}`)).toEqual([
      'open:',
      'ping:in',
      'pong:out',
      'close:',
    ]);
    expect(events[3]).toMatchObject({ code: 1000, name: 'Normal Closure', clean: true });
  });

  it('a 100,000-message flood arrives complete and in order', async () => {
    const s = await track(
      wsServer((ws) => {
        for (let i = 0; i < 100_000; i++) ws.send(`m${i}`);
        ws.close(1000);
      }),
    );
    const r = await runCli([s.url, '-w', '-1'], { input: '', timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines.length).toBe(100_001);
    expect(lines[0]).toBe('m0');
    expect(lines[99_999]).toBe('m99999');
  });

  it('a 16 MiB binary message arrives byte-exact in raw mode', async () => {
    const big = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    const s = await track(
      wsServer((ws) => {
        ws.send(big, { binary: true });
        ws.close(1000);
      }),
    );
    const r = await runCli([s.url, '-w', '-1'], { input: '', timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(big.length);
    expect(r.stdout.equals(big)).toBe(true);
  });

  it('messages the server sends before its close frame are never lost', async () => {
    const s = await track(
      wsServer((ws) => {
        // When our close arrives, ws answers it by calling close(): send 500 messages first.
        const origClose = ws.close.bind(ws);
        ws.close = ((code?: number, reason?: string) => {
          for (let i = 0; i < 500; i++) ws.send(`late ${i}`);
          origClose(code, reason);
        }) as typeof ws.close;
      }),
    );
    const r = await runCli([s.url, '-w', '0.1'], { input: '' });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(500);
    expect(lines[499]).toBe('late 499');
  });

  it('--max-message-size: a larger message closes with 1009 and says so', async () => {
    const closes: number[] = [];
    const s = await track(
      wsServer((ws) => {
        ws.on('close', (c) => closes.push(c));
        ws.send('x'.repeat(2048));
      }),
    );
    const r = await runCli([s.url, '--max-message-size', '1K', '-w', '-1'], { input: '' });
    expect(r.code).toBe(1);
    expectCleanError(r.stderr, /larger than --max-message-size.*1009/);
    expect(closes).toEqual([1009]);
  });

  it('terminal safety: escape sequences from the server never reach pretty output raw', async () => {
    const evil = '\x1b]0;title\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07\x1b[6n\x9b31m\u202eevil';
    const s = await track(
      wsServer((ws) => {
        ws.send(evil);
        ws.send(Buffer.from(evil), { binary: true });
        ws.close(4000, '\x1b[2Jbye');
      }),
    );
    const r = await runCli([s.url, '--output', 'pretty', '-w', '-1'], { input: '' });
    expect(r.code).toBe(3);
    expect(r.out).not.toMatch(/[\x1b\x07\x9b\u202e]/);
    expect(r.out).toContain('\\x1b]0;title\\x07');
    expect(r.out).toContain('\\u202eevil');
    expect(r.out).toContain('Disconnected: 4000 "\\x1b[2Jbye"');
  });
});

describe('--record, --replay', () => {
  it('--record appends every event as json lines; --replay sends the outgoing ones with their spacing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-rec-'));
    const file = join(dir, 'session.jsonl');
    const s = await track(echoServer());
    const r = await runCli([s.url, '-x', 'one', '-x', 'two', '-w', '0.2', '--record', file]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('one\ntwo\n');
    const events = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.event}:${e.direction ?? ''}`)).toEqual([
      'open:',
      'message:out',
      'message:out',
      'message:in',
      'message:in',
      'close:',
    ]);
    await runCli([s.url, '-x', 'three', '-w', '0', '--record', file]);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(6 + 4);

    // A hand-made recording: text, then binary 400 ms later.
    const rec = join(dir, 'timed.jsonl');
    writeFileSync(
      rec,
      [
        {
          time: '2026-01-01T00:00:00.000Z',
          event: 'open',
          url: 'ws://x/',
          protocol: '',
          extensions: '',
        },
        {
          time: '2026-01-01T00:00:00.000Z',
          event: 'message',
          direction: 'out',
          type: 'text',
          size: 5,
          data: 'first',
        },
        {
          time: '2026-01-01T00:00:00.100Z',
          event: 'message',
          direction: 'in',
          type: 'text',
          size: 5,
          data: 'ignored',
        },
        {
          time: '2026-01-01T00:00:00.400Z',
          event: 'message',
          direction: 'out',
          type: 'binary',
          size: 2,
          base64: 'AP8=',
        },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const got: Array<[string, boolean, number]> = [];
    const t = await track(
      wsServer((ws) =>
        ws.on('message', (d, bin) => got.push([(d as Buffer).toString('hex'), bin, Date.now()])),
      ),
    );
    expect((await runCli([t.url, '--replay', rec, '-w', '0.1'])).code).toBe(0);
    expect(got.map(([hex, bin]) => [hex, bin])).toEqual([
      [Buffer.from('first').toString('hex'), false],
      ['00ff', true],
    ]);
    const gap = (got[1]?.[2] ?? 0) - (got[0]?.[2] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(300);
    got.length = 0;
    expect((await runCli([t.url, '--replay', rec, '--replay-speed', '0', '-w', '0.1'])).code).toBe(
      0,
    );
    expect((got[1]?.[2] ?? 0) - (got[0]?.[2] ?? 0)).toBeLessThan(200);
  });

  it('unreadable or invalid files are usage errors naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-rec-'));
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"event":"open"}\nnot json\n');
    for (const [args, pattern] of [
      [
        ['--replay', join(dir, 'missing.jsonl')],
        /cannot read --replay file .*missing\.jsonl': no such file/,
      ],
      [['--replay', bad], /line 2 of .*bad\.jsonl' is not JSON/],
      [['--record', join(dir, 'no', 'such', 'dir.jsonl'), '-x', 'x'], /cannot write --record file/],
    ] as const) {
      const r = await runCli(['ws://127.0.0.1:1/', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expectCleanError(r.stderr, pattern);
    }
  });
});

describe('--reconnect', () => {
  it('after an abnormal ending it reconnects with back-off and sends the -x messages again', async () => {
    let n = 0;
    const got: string[] = [];
    const s = await track(
      wsServer((ws) => {
        const me = ++n;
        ws.on('message', (d) => {
          got.push(`${me}:${d}`);
          // First connection: restart (1012); second: drop without a close frame; third: normal close.
          if (me === 1) ws.close(1012, 'restarting');
          else if (me === 2) ws.terminate();
          else ws.close(1000);
        });
      }),
    );
    const t0 = Date.now();
    const r = await runCli([s.url, '-x', 'hi', '--reconnect', '3', '-w', '-1']);
    expect(r.code).toBe(0);
    expect(got).toEqual(['1:hi', '2:hi', '3:hi']);
    expect(r.stderr).toMatch(
      /warning: the connection ended \(1012\); reconnecting in [\d.]+ s \(attempt 1 of 3\)/,
    );
    expect(r.stderr).toMatch(
      /warning: the connection ended \(1006\); reconnecting in [\d.]+ s \(attempt 2 of 3\)/,
    );
    // 0.5 s then 1 s, each at least 80% of that.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1200);
  });

  it('failed connects are retried at most n times, then exit 1; other closes end the run', async () => {
    const t0 = Date.now();
    const refused = await runCli(['ws://127.0.0.1:1/', '-x', 'x', '--reconnect', '2']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.match(/reconnecting in/g)).toHaveLength(2);
    expect(refused.stderr).toMatch(/^error: connection refused/m);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1200);
    const s = await track(echoServer());
    const r = await runCli([s.url, '-x', 'bye', '--reconnect']);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain('reconnecting');
  });
});

describe('--ping-interval, --ping-timeout', () => {
  it('sends keepalive pings and shows the pongs with their RTT', async () => {
    const s = await track(wsServer());
    const r = await runCli([s.url, '--ping-interval', '0.1', '-w', '0.45', '--json'], {
      input: '',
    });
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const pings = events.filter((e) => e.event === 'ping' && e.direction === 'out');
    const pongs = events.filter((e) => e.event === 'pong' && e.direction === 'in');
    expect(pings.length).toBeGreaterThanOrEqual(2);
    expect(pongs.length).toBeGreaterThanOrEqual(2);
    expect(typeof pongs[0].rtt).toBe('number');
  });

  it('a server that stops answering pings is a dead connection: exit 1', async () => {
    const s = await track(wsServer(() => {}, { autoPong: false }));
    const t0 = Date.now();
    const r = await runCli([s.url, '--ping-interval', '0.2', '--ping-timeout', '0.3', '-w', '-1'], {
      input: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no pong within 0\.3 s: the connection is dead$/m);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('--count, --expect, --timeout, --wait', () => {
  const ticker = () =>
    wsServer((ws) => {
      let i = 0;
      const t = setInterval(() => ws.readyState === 1 && ws.send(`tick ${i++}`), 20);
      ws.on('close', () => clearInterval(t));
    });

  it('--count n prints exactly n messages, then closes with 1000 and exits 0', async () => {
    const s = await track(ticker());
    const r = await runCli([s.url, '--count', '3'], { input: '' });
    expect(r.code).toBe(0);
    expect(r.out).toBe('tick 0\ntick 1\ntick 2\n');
  });

  it('--expect finishes at the first match', async () => {
    const s = await track(ticker());
    const r = await runCli([s.url, '--expect', 'tick [2-9]'], { input: '' });
    expect(r.code).toBe(0);
    expect(r.out).toBe('tick 0\ntick 1\ntick 2\n');
  });

  it('--expect unmet at --timeout → exit 4', async () => {
    const s = await track(ticker());
    const r = await runCli([s.url, '--expect', 'never', '--timeout', '0.5'], { input: '' });
    expect(r.code).toBe(4);
    expectCleanError(r.stderr, /not satisfied: --expect never/);
  });

  it('--count unmet when the server closes normally → exit 4', async () => {
    const s = await track(
      wsServer((ws) => {
        ws.send('only one');
        ws.close(1000);
      }),
    );
    const r = await runCli([s.url, '--count', '2'], { input: '' });
    expect(r.code).toBe(4);
    expect(r.out).toBe('only one\n');
  });

  it('--timeout alone closes with 1000 and exits 0', async () => {
    const s = await track(ticker());
    const t0 = Date.now();
    const r = await runCli([s.url, '--timeout', '0.3', '-w', '-1'], { input: '' });
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('-w keeps receiving after the input ends', async () => {
    const s = await track(
      wsServer((ws) =>
        ws.on('message', (d) => setTimeout(() => ws.readyState === 1 && ws.send(`late ${d}`), 300)),
      ),
    );
    const quick = await runCli([s.url, '-x', 'a', '-w', '0']);
    expect(quick.out).toBe('');
    const patient = await runCli([s.url, '-x', 'a', '-w', '1']);
    expect(patient.out).toBe('late a\n');
    expect(patient.code).toBe(0);
  });
});

describe('handshake options reach the server', () => {
  it('-H (twice), -s, -o, --host, --auth, -p 13', async () => {
    const s = await track(
      wsServer(() => {}, { handleProtocols: (protocols) => (protocols.has('b') ? 'b' : false) }),
    );
    const conn = s.nextConnection();
    const r = await runCli([
      s.url,
      '-H',
      'X-A: 1',
      '-H',
      'X-A: 2',
      '-s',
      'a',
      '-s',
      'b',
      '-o',
      'http://origin.test',
      '--host',
      'example.test',
      '--auth',
      'alice:secret',
      '-x',
      'hi',
      '-w',
      '0',
      '--output',
      'pretty',
    ]);
    const { req } = await conn;
    expect(r.code).toBe(0);
    expect(req.headers['x-a']).toBe('1, 2');
    expect(req.rawHeaders.filter((h) => h === 'X-A')).toHaveLength(2);
    expect(req.headers['sec-websocket-protocol']).toBe('a, b');
    expect(req.headers.origin).toBe('http://origin.test');
    expect(req.headers.host).toBe('example.test');
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from('alice:secret').toString('base64')}`,
    );
    expect(req.headers['sec-websocket-version']).toBe('13');
    expect(req.headers['sec-websocket-extensions']).toContain('permessage-deflate');
    expect(r.out).toContain('(subprotocol: b)');
  });

  it('Basic auth from the URL userinfo; the password is never printed', async () => {
    const s = await track(wsServer());
    const conn = s.nextConnection();
    const url = s.url.replace('ws://', 'ws://carol:pa55word@');
    const r = await runCli([url, '-x', 'x', '-w', '0', '--output', 'pretty', '-v']);
    expect(r.code).toBe(0);
    expect((await conn).req.headers.authorization).toBe(
      `Basic ${Buffer.from('carol:pa55word').toString('base64')}`,
    );
    expect(r.out).toContain(`Connected to ${s.url.replace('ws://', 'ws://carol:****@')}`);
    expect(r.out + r.stderr).not.toContain('pa55word');
    expect(r.stderr).not.toContain(Buffer.from('carol:pa55word').toString('base64'));
    const json = await runCli([url, '-x', 'x', '-w', '0', '--json']);
    expect(JSON.parse(json.out.split('\n')[0] ?? '').url).toBe(
      s.url.replace('ws://', 'ws://carol:****@'),
    );
  });

  it('--no-compress offers no extension; -p 8 sends version 8', async () => {
    const s = await track(wsServer());
    const conn = s.nextConnection();
    await runCli([s.url, '--no-compress', '-x', 'x', '-w', '0']);
    expect((await conn).req.headers['sec-websocket-extensions']).toBeUndefined();
    const t = await track(
      tcpServer((socket, req) => {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        (t as unknown as { seen: string }).seen = req;
      }),
    );
    await runCli([t.url, '-p', '8', '-x', 'x']);
    expect((t as unknown as { seen: string }).seen).toMatch(/Sec-WebSocket-Version: 8/i);
  });

  it('a server that picks no subprotocol is a warning; one not offered is a failure', async () => {
    const none = await track(wsServer(() => {}, { handleProtocols: () => false }));
    const r1 = await runCli([none.url, '-s', 'chat', '-x', 'x', '-w', '0']);
    expect(r1.code).toBe(0);
    expect(r1.stderr).toMatch(
      /warning: the server chose none of the offered subprotocols \(chat\)/,
    );
    const rogue = await track(
      tcpServer((socket, req) =>
        socket.write(acceptResponse(req, 'Sec-WebSocket-Protocol: evil\r\n')),
      ),
    );
    const r2 = await runCli([rogue.url, '-s', 'chat', '-x', 'x']);
    expect(r2.code).toBe(1);
    expectCleanError(r2.stderr, /subprotocol 'evil' that was not offered/);
  });

  it('ws+unix:// connects over a Unix socket', async () => {
    const { createServer } = await import('node:http');
    const { WebSocketServer } = await import('ws');
    const path = `/tmp/wsx-test-${process.pid}-${Date.now()}.sock`;
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws, req) => ws.send(`path=${req.url}`));
    await new Promise<void>((resolve) => http.listen(path, resolve));
    try {
      const r = await runCli([`ws+unix://${path}:/chat`, '-x', 'x', '-w', '0.3']);
      expect(r.code).toBe(0);
      expect(r.out).toBe('path=/chat\n');
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});

describe('--demo', () => {
  it('starts the built-in server: greeting, binary frame, echo', async () => {
    const r = await runCli(['--demo', '--json', '-w', '0.3'], { input: 'hello demo\n' });
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const incoming = events.filter((e) => e.event === 'message' && e.direction === 'in');
    expect(JSON.parse(incoming[0].data)).toMatchObject({ type: 'welcome' });
    expect(incoming[1].type).toBe('binary');
    expect(incoming[2].data).toBe('hello demo');
  });
});

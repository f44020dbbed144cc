// Regression tests for the defects hostile testing found in the lifecycle (issue 9): each one
// failed before the reshaping into one Lifecycle, layers and the flag table.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { acceptResponse, echoServer, frame, tcpServer, wsServer } from '../fixtures/servers.js';
import { BIN, runCli } from '../helpers/cli.js';
import { tracker } from '../helpers/spawn.js';

const track = tracker();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A closed port: listen, note the port, close. */
async function closedPort(): Promise<number> {
  const s = await tcpServer(() => {});
  await s.close();
  return s.port;
}

/** Peak resident memory of a running process, in MiB (Linux). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** `wsx -l 0 …` as a child: its port once it listens, its stderr so far, and a stop that waits. */
async function listenChild(args: string[], stdout: 'ignore' | 'pipe' = 'ignore') {
  const child = spawn(process.execPath, [BIN, '-l', '0', ...args], {
    stdio: ['ignore', stdout, 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  for (let i = 0; i < 100 && !/Listening on/.test(err); i++) await sleep(50);
  return {
    child,
    port: Number(/127\.0\.0\.1:(\d+)/.exec(err)?.[1]),
    err: () => err,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      child.kill(signal);
      await new Promise((r) => child.once('close', r));
    },
  };
}

describe('--reconnect with piped stdin (defect 1)', () => {
  it('a drop after the input ended: reconnects, then ends instead of hanging', async () => {
    const got: string[] = [];
    let n = 0;
    const s = await track(
      wsServer((ws) => {
        n++;
        ws.on('message', (d) => got.push(String(d)));
        // Well inside -w: a loaded machine once ended the run (-w 0.3) before a drop at 300 ms.
        if (n === 1) setTimeout(() => ws.terminate(), 150);
      }),
    );
    const r = await runCli([s.url, '--reconnect', '-w', '1'], {
      input: 'hi\nthere\n',
      timeoutMs: 15_000,
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(n).toBe(2);
    expect(got).toEqual(['hi', 'there']);
    expect(r.stderr).toMatch(/reconnecting in/);
  });

  it('a server that closes with 1012 every 20 messages gets every line exactly once, in order', async () => {
    const got: string[] = [];
    let connections = 0;
    const s = await track(
      wsServer((ws) => {
        connections++;
        let count = 0;
        ws.on('message', (d) => {
          got.push(String(d));
          if (++count === 20) ws.close(1012, 'restart');
        });
      }),
    );
    const input = new PassThrough();
    const done = runCli([s.url, '--reconnect', '-w', '0.5'], { input, timeoutMs: 60_000 });
    for (let i = 0; i < 200; i++) {
      input.write(`line ${i}\n`);
      await sleep(5);
    }
    input.end();
    const r = await done;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i}`));
    expect(connections).toBeGreaterThanOrEqual(3);
  }, 70_000);
});

describe('deadlines and quitting during back-off (defects 6, 7)', () => {
  it('--timeout ends the run while backing off after refused connects', async () => {
    const port = await closedPort();
    const started = Date.now();
    const r = await runCli(
      [`ws://127.0.0.1:${port}/`, '--reconnect', '--timeout', '2', '-x', 'hi'],
      {
        timeoutMs: 25_000,
      },
    );
    // Without the fix the back-off went on past 20 s.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--timeout reached/);
  });

  it('--timeout holds against a server that drops every connection after 1 s', async () => {
    const s = await track(wsServer((ws) => setTimeout(() => ws.terminate(), 1000)));
    const started = Date.now();
    const r = await runCli([s.url, '--reconnect', '--timeout', '2.8', '-w', '-1', '-x', 'hi'], {
      timeoutMs: 30_000,
    });
    expect(Date.now() - started).toBeLessThan(9000);
    expect(r.signal).toBeNull();
  });
});

describe('--ping-timeout and a slow stdout (defect 8)', () => {
  it('a healthy connection is not declared dead while stdout is not being read', async () => {
    const line = 'x'.repeat(1000);
    const s = await track(
      wsServer((ws) => {
        for (let i = 0; i < 20_000; i++) ws.send(line);
        setTimeout(() => ws.close(1000), 4000);
      }),
    );
    // stdout goes to a reader that sleeps first: wsx must pause delivery, not kill the link.
    const child = spawn(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${BIN}" "$0" --ping-interval 1 --ping-timeout 2 -w -1 | (sleep 5; wc -l)`,
        s.url,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect(err).not.toMatch(/no pong/);
    expect(code).toBe(0);
    expect(out.trim()).toBe('20000');
  }, 40_000);
});

describe('--replay with --reconnect (defect 10)', () => {
  it('each connection gets the recording from its start, once, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-replay-'));
    const file = join(dir, 'rec.jsonl');
    const t0 = Date.parse('2026-11-25T10:00:00.000Z');
    writeFileSync(
      file,
      Array.from({ length: 6 }, (_, i) =>
        JSON.stringify({
          time: new Date(t0 + i * 100).toISOString(),
          event: 'message',
          direction: 'out',
          type: 'text',
          size: 2,
          data: `m${i}`,
        }),
      ).join('\n'),
    );
    const perConnection: string[][] = [];
    const s = await track(
      wsServer((ws) => {
        const mine: string[] = [];
        perConnection.push(mine);
        ws.on('message', (d) => {
          mine.push(String(d));
          // The first connection drops mid-recording.
          if (perConnection.length === 1 && mine.length === 3) ws.terminate();
        });
      }),
    );
    const r = await runCli([s.url, '--replay', file, '--reconnect', '1', '-w', '0.5'], {
      timeoutMs: 20_000,
    });
    expect(r.code).toBe(0);
    expect(perConnection).toEqual([
      ['m0', 'm1', 'm2'],
      ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'],
    ]);
  });
});

describe('no spurious stdin warning (defect 11)', () => {
  it('--count ends the run while stdin is still an open pipe: no "Premature close"', async () => {
    const s = await track(wsServer((ws) => ws.send('one')));
    const input = new PassThrough();
    const r = await runCli([s.url, '--count', '1'], { input, timeoutMs: 10_000 });
    input.end();
    expect(r.code).toBe(0);
    expect(r.out).toBe('one\n');
    expect(r.stderr).not.toMatch(/Premature close|reading stdin failed/);
  });

  it('the server closing while stdin is open: no warning either', async () => {
    const s = await track(wsServer((ws) => setTimeout(() => ws.close(1000), 200)));
    const input = new PassThrough();
    const r = await runCli([s.url], { input, timeoutMs: 10_000 });
    input.end();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('--record (defect 12)', () => {
  it('is created with mode 0600', async () => {
    const s = await track(echoServer());
    const file = join(mkdtempSync(join(tmpdir(), 'wsx-rec-')), 'new.jsonl');
    const r = await runCli([s.url, '-x', 'secret', '-w', '0.2', '--record', file]);
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/"data":"secret"/);
  });

  it('a write failure is reported, not silent (/dev/full)', async () => {
    const s = await track(echoServer());
    const r = await runCli([s.url, '-x', 'hello', '-w', '0.2', '--record', '/dev/full']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: writing the --record file '\/dev\/full' failed: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('usage errors instead of internal errors (defect 13, 17)', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-H', 'X: a\x01b', 'ws://127.0.0.1:9/'], /header 'X' has a control character \(\\x01\)/],
    [['-o', 'x\ny', 'ws://127.0.0.1:9/'], /-o has a control character/],
    [['--host', 'x\ny', 'ws://127.0.0.1:9/'], /--host has a control character/],
    [['wss+unix:///x.sock:/'], /wss\+unix: is not supported/],
    [['-H', 'Transfer-Encoding: chunked', 'ws://127.0.0.1:9/'], /cannot be set with -H/],
    [['-H', 'Content-Length: 3', 'ws://127.0.0.1:9/'], /cannot be set with -H/],
    [['-w', '0x10', 'ws://127.0.0.1:9/'], /--wait takes a number of seconds/],
    [['--ping-interval', '0.0005', 'ws://127.0.0.1:9/'], /--ping-interval must be at least/],
    [['-l', '0', '--reconnect'], /--reconnect cannot be used with -l/],
    [['-l', '0', '-w', '1'], /-w cannot be used with -l/],
    [['-l', '0', '-L'], /-L cannot be used with -l/],
    [['-l', '0', '--proxy', 'http://127.0.0.1:1'], /--proxy cannot be used with -l/],
    [['ws://127.0.0.1:9/', '--passphrase', 'ws://127.0.0.1:8/'], /two URLs given/],
  ];
  for (const [args, pattern] of cases) {
    it(`wsx ${JSON.stringify(args)} → exit 2`, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/TypeError|SyntaxError|\n\s+at /);
    });
  }

  it('a --replay file holding `null` is a usage error naming the line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wsx-null-')), 'rec.jsonl');
    writeFileSync(file, 'null\n');
    const r = await runCli(['ws://127.0.0.1:9/', '--replay', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 1 .* is not a json event object/);
  });

  it('--reconnect before the URL does not swallow it; -s a -s a offers a once', async () => {
    let offered: string | undefined;
    const s = await track(
      wsServer(
        (ws) => {
          ws.send('hi');
          setTimeout(() => ws.close(1000), 100);
        },
        {
          handleProtocols: (set, req) => {
            offered = req.headers['sec-websocket-protocol'];
            return set.values().next().value ?? false;
          },
        },
      ),
    );
    const r = await runCli(['--reconnect', s.url, '-s', 'a', '-s', 'a']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('hi\n');
    expect(offered).toBe('a');
  });
});

describe('listen mode memory is bounded (defect 5)', () => {
  it('--broadcast: a client that never reads is closed with 1008 past --max-backlog', async () => {
    const l = await listenChild(['--broadcast', '--max-backlog', '4M']);
    const { port } = l;
    try {
      // The stalled client: a real handshake, then it never reads again.
      const stalled = tcpConnect(port, '127.0.0.1');
      stalled.write(
        `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      await new Promise((r) => stalled.once('data', r));
      stalled.pause();
      const sender = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((r) => sender.once('open', r));
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      // 128 MiB: far more than the backlog limit, paced by the sender's own buffer.
      for (let i = 0; i < 2048 && !/1008/.test(l.err()); i++) {
        sender.send(chunk);
        while (sender.bufferedAmount > 4 * 1024 * 1024) await sleep(5);
      }
      for (let i = 0; i < 100 && !/1008/.test(l.err()); i++) await sleep(50);
      expect(l.err()).toMatch(/#1: more than 4 MiB unsent .*closing it with 1008/);
      expect(peakRssMiB(l.child.pid ?? 0)).toBeLessThan(250);
      sender.close();
      stalled.destroy();
    } finally {
      await l.stop();
    }
  }, 60_000);

  it('--echo: a client that does not take its echoes is not read from (memory stays flat)', async () => {
    const l = await listenChild(['--echo']);
    const { port } = l;
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((r) => ws.once('open', r));
      // Never read the echoes.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      const started = Date.now();
      let sent = 0;
      // Push until our own socket is blocked for a while (wsx stopped reading) or 256 MiB.
      while (sent < 4096 && Date.now() - started < 15_000) {
        if (ws.bufferedAmount > 8 * 1024 * 1024) {
          await sleep(20);
          continue;
        }
        ws.send(chunk);
        sent++;
      }
      expect(peakRssMiB(l.child.pid ?? 0)).toBeLessThan(250);
      ws.terminate();
    } finally {
      await l.stop();
    }
  }, 60_000);

  it('a client sending invalid UTF-8 is reported as the client, not the server (defect 16)', async () => {
    const l = await listenChild([]);
    const { port } = l;
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
      ws.send(Buffer.from([0xff, 0xfe]), { binary: false });
      expect(await closed).toBe(1007);
      for (let i = 0; i < 40 && !/UTF-8/.test(l.err()); i++) await sleep(25);
      expect(l.err()).toMatch(/the client sent text .* not valid UTF-8/);
      expect(l.err()).not.toMatch(/the server sent/);
    } finally {
      await l.stop();
    }
  });
});

describe('protocol errors and close frames (defect 17)', () => {
  it('a 1-byte close payload is named as such, and wsx says it closed (not "dropped")', async () => {
    const s = await track(
      tcpServer((socket, request) => {
        socket.write(acceptResponse(request));
        socket.write(frame(0x8, Buffer.from([0x03])));
      }),
    );
    const r = await runCli([`ws://127.0.0.1:${s.port}/`, '--output', 'pretty'], {
      input: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/close frame with a 1-byte payload/);
    expect(r.out + r.stderr).not.toMatch(/connection dropped/);
    expect(r.out + r.stderr).toMatch(/Disconnected: 1002/);
  });
});

describe('426 answers (defect 17)', () => {
  it('hints at -p only when the answer names the versions the server takes', async () => {
    for (const [extra, hinted] of [
      ['', false],
      ['Sec-WebSocket-Version: 8\r\n', true],
    ] as const) {
      const s = await track(
        tcpServer((socket) => {
          socket.end(`HTTP/1.1 426 Upgrade Required\r\n${extra}Content-Length: 0\r\n\r\n`);
        }),
      );
      const r = await runCli([`ws://127.0.0.1:${s.port}/`, '-x', 'x']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/HTTP 426/);
      if (hinted)
        expect(r.stderr).toMatch(/hint: the server takes protocol version 8 \(-p 8 or 13\)/);
      else expect(r.stderr).not.toMatch(/-p 8 or 13/);
    }
  });
});

describe('signals with a stalled stdout (defect 17)', () => {
  it('the first SIGTERM ends wsx even while nobody reads its stdout', async () => {
    const line = 'y'.repeat(4096);
    const s = await track(
      wsServer((ws) => {
        const flood = () => {
          if (ws.readyState !== ws.OPEN) return;
          for (let i = 0; i < 64; i++) ws.send(line);
          setTimeout(flood, 5);
        };
        flood();
      }),
    );
    // stdout is a pipe that is never read: wsx's writes block and it pauses the socket.
    const child = spawn(process.execPath, [BIN, s.url, '-w', '-1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pause();
    await sleep(1500);
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect(code).toBe(143);
    expect(Date.now() - started).toBeLessThan(6000);
  }, 30_000);
});

describe('a --replay gap longer than setTimeout can hold (defect 17)', () => {
  it('a 30-day gap waits (no TimeoutOverflowWarning, the message is not sent at once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-gap-'));
    const file = join(dir, 'rec.jsonl');
    const t0 = Date.parse('2026-11-01T00:00:00.000Z');
    const event = (at: number, data: string) =>
      JSON.stringify({
        time: new Date(at).toISOString(),
        event: 'message',
        direction: 'out',
        type: 'text',
        size: data.length,
        data,
      });
    writeFileSync(file, `${event(t0, 'first')}\n${event(t0 + 30 * 86_400_000, 'second')}\n`);
    const got: string[] = [];
    const s = await track(wsServer((ws) => ws.on('message', (d) => got.push(String(d)))));
    const r = await runCli([s.url, '--replay', file, '--timeout', '1.5']);
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
    expect(r.code).toBe(0);
    expect(got).toEqual(['first']);
  });
});

describe('listen mode: a client that connects while stdout is backed up (defect 16)', () => {
  it('starts paused like the others, so memory stays bounded', async () => {
    const l = await listenChild([], 'pipe');
    // Nobody reads wsx's stdout.
    l.child.stdout?.pause();
    const { port } = l;
    try {
      const chunk = Buffer.alloc(64 * 1024, 0x63);
      const flood = async (ws: WebSocket, mib: number) => {
        const until = Date.now() + 8000;
        for (let i = 0; i < mib * 16 && Date.now() < until; i++) {
          while (ws.bufferedAmount > 4 * 1024 * 1024 && Date.now() < until) await sleep(10);
          ws.send(chunk);
        }
      };
      const a = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((r) => a.once('open', r));
      await flood(a, 64);
      const b = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((r) => b.once('open', r));
      await flood(b, 256);
      expect(peakRssMiB(l.child.pid ?? 0)).toBeLessThan(200);
      a.terminate();
      b.terminate();
    } finally {
      await l.stop('SIGKILL');
    }
  }, 40_000);
});

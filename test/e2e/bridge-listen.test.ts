// Listen-side bridges (SPEC §13): `wsx -l --to` against websockify's behaviour (ssh through wsx
// on both ends, the `binary` subprotocol, text frames as bytes, a refusing target, a Unix socket
// served by socat) and `wsx -l --exec` against Debian's websocketd running the same script.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  freePort,
  killAll,
  type Sshd,
  sha256,
  startSshd,
  startWsx,
  until,
  waitForPort,
  websocketd,
} from '../fixtures/bridges.js';
import { has } from '../fixtures/proxies.js';
import { BIN } from '../helpers/cli.js';

afterEach(() => killAll());

const LISTENING = /Listening on (\S+)/;

interface Talk {
  messages: Array<{ text: string; binary: boolean }>;
  close: { code: number; reason: string };
  protocol: string;
}

/** Connect with ws, send `send` once open, collect everything until the close. */
function talk(
  url: string,
  send: Array<string | Buffer>,
  opts: { protocols?: string[]; headers?: Record<string, string>; closeAfter?: number } = {},
): Promise<Talk> {
  const ws = new WebSocket(url, opts.protocols, { headers: opts.headers });
  const messages: Talk['messages'] = [];
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => {
      for (const m of send) ws.send(m, { binary: Buffer.isBuffer(m) });
    });
    ws.on('message', (d: Buffer, binary) => {
      messages.push({ text: d.toString('latin1'), binary });
      if (opts.closeAfter !== undefined && messages.length === opts.closeAfter) ws.close(1000);
    });
    ws.on('close', (code, reason) =>
      resolve({ messages, close: { code, reason: reason.toString() }, protocol: ws.protocol }),
    );
  });
}

/** A TCP server that records what each connection sent and answers with `reply`. */
async function tcpTarget(
  onConnection: (sock: Socket, received: Promise<Buffer>) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    const received = new Promise<Buffer>((resolve) => {
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('end', () => resolve(Buffer.concat(chunks)));
    });
    sock.on('error', () => {});
    onConnection(sock, received);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

describe.runIf(has('/usr/sbin/sshd'))('wsx -l --to: ssh through wsx on both ends', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 30_000);
  afterAll(async () => {
    await sshd?.close();
  });

  it('ssh -o ProxyCommand="wsx --stream" → wsx -l 0 --to tcp:sshd: 25 MB byte-exact', async () => {
    const server = await startWsx(
      BIN,
      ['-l', '0', '--to', `tcp:127.0.0.1:${sshd.port}`],
      LISTENING,
    );
    const ssh = spawn(
      'ssh',
      [
        ...sshd.sshArgs(['-o', `ProxyCommand=${process.execPath} ${BIN} --stream ${server.found}`]),
        'root@127.0.0.1',
        'f=$(mktemp); head -c 25000000 /dev/urandom > $f; sha256sum $f | cut -c1-64 >&2; cat $f; rm -f $f',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    let err = '';
    ssh.stdout.on('data', (d: Buffer) => out.push(d));
    ssh.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => ssh.on('close', resolve));
    expect(code, err).toBe(0);
    const data = Buffer.concat(out);
    expect(data.length).toBe(25_000_000);
    expect(err.trim()).toBe(sha256(data));
    // The ProxyCommand's connection ended with a close frame, not a drop.
    expect(server.err()).not.toContain('1006');
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(130);
  }, 120_000);
});

describe('wsx -l --to: websockify-compatible', () => {
  it('accepts the binary subprotocol; client text and binary frames reach the target as bytes; the target closing ends the client with 1000', async () => {
    let got: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    const target = await tcpTarget((sock, received) => {
      got = received;
      sock.write('hello from target');
      void received.then(() => sock.end());
    });
    try {
      const server = await startWsx(
        BIN,
        ['-l', '0', '--to', `tcp:127.0.0.1:${target.port}`],
        LISTENING,
      );
      const ws = new WebSocket(server.found, ['binary']);
      const messages: Array<{ data: Buffer; binary: boolean }> = [];
      ws.on('message', (d: Buffer, binary) => messages.push({ data: d, binary }));
      await new Promise((resolve) => ws.once('open', resolve));
      expect(ws.protocol).toBe('binary');
      ws.send('text frame\n');
      ws.send(Buffer.from([0, 1, 2, 0xff]));
      await until(() => messages.length > 0, 'the greeting');
      // The client's close ends the target's input (FIN) after the bytes already sent.
      ws.close(1000);
      const code = await new Promise<number>((resolve) => ws.once('close', resolve));
      expect(code).toBe(1000);
      expect(
        (await got).equals(
          Buffer.concat([Buffer.from('text frame\n'), Buffer.from([0, 1, 2, 0xff])]),
        ),
      ).toBe(true);
      expect(messages[0]?.binary).toBe(true);
      expect(messages[0]?.data.toString()).toBe('hello from target');
    } finally {
      target.server.close();
    }
  });

  it('the target closing first: its last bytes reach the client, then a 1000 close', async () => {
    const payload = randomBytes(3_000_000);
    const target = await tcpTarget((sock) => {
      sock.end(payload);
    });
    try {
      const server = await startWsx(
        BIN,
        ['-l', '0', '--to', `tcp:127.0.0.1:${target.port}`],
        LISTENING,
      );
      const r = await talk(server.found, []);
      expect(r.close.code).toBe(1000);
      expect(r.messages.every((m) => m.binary)).toBe(true);
      expect(sha256(Buffer.from(r.messages.map((m) => m.text).join(''), 'latin1'))).toBe(
        sha256(payload),
      );
      expect(r.protocol).toBe('');
    } finally {
      target.server.close();
    }
  });

  it('a slow target still gets every byte sent before the client closed (20 MB, sha256)', async () => {
    let hash: Promise<string> = Promise.resolve('');
    const target = await tcpTarget((sock, received) => {
      // A slow reader: a pause after every chunk.
      sock.on('data', () => {
        sock.pause();
        setTimeout(() => sock.resume(), 2);
      });
      hash = received.then((b) => sha256(b));
      void received.then(() => sock.end());
    });
    try {
      const server = await startWsx(
        BIN,
        ['-l', '0', '--to', `tcp:127.0.0.1:${target.port}`],
        LISTENING,
      );
      const data = randomBytes(20_000_000);
      const client = await startWsx(BIN, ['--stream', server.found], undefined, { stdin: 'pipe' });
      client.child.stdin?.end(data);
      expect(await client.exited, client.err()).toBe(0);
      expect(await hash).toBe(sha256(data));
    } finally {
      target.server.close();
    }
  });

  it('a refusing target: the client is closed with 1011 and a reason naming the target', async () => {
    const port = await freePort();
    const server = await startWsx(BIN, ['-l', '0', '--to', `tcp:127.0.0.1:${port}`], LISTENING);
    const r = await talk(server.found, ['x']);
    expect(r.close.code).toBe(1011);
    expect(r.close.reason).toBe(`cannot connect to tcp:127.0.0.1:${port}: connection refused`);
    expect(server.err()).toContain(`cannot connect to tcp:127.0.0.1:${port}`);
    // The server keeps serving.
    expect(server.child.exitCode).toBe(null);
  });

  it.runIf(has('socat'))(
    '--to unix:PATH, served by socat: bytes both ways, the target closing ends the client',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wsx-unix-'));
      const sock = join(dir, 'hash.sock');
      const N = 5_000_000;
      // For every connection: the sha256 of its first N bytes, then the end.
      const socat = spawn(
        'socat',
        [`UNIX-LISTEN:${sock},fork`, `SYSTEM:head -c ${N} | sha256sum`],
        {
          stdio: 'ignore',
        },
      );
      try {
        await until(() => {
          try {
            readFileSync(sock);
            return true;
          } catch (err) {
            return (err as NodeJS.ErrnoException).code !== 'ENOENT';
          }
        }, 'the socat socket');
        const server = await startWsx(BIN, ['-l', '0', '--to', `unix:${sock}`], LISTENING);
        const data = randomBytes(N);
        // stdin stays open: the end of the connection (socat closing) ends the run.
        const client = await startWsx(BIN, ['--stream', server.found], undefined, {
          stdin: 'pipe',
        });
        client.child.stdin?.write(data);
        expect(await client.exited, client.err()).toBe(0);
        expect(client.out().toString()).toBe(`${sha256(data)}  -\n`);
      } finally {
        socat.kill('SIGKILL');
      }
    },
  );
});

// The same script under Debian's websocketd and under wsx -l --exec: the same messages.
const SCRIPT = [
  'echo "hello $QUERY_STRING"',
  'read a',
  'read b',
  'echo "$a+$b"',
  "printf 'crlf\\r\\nmid\\n\\n'",
  'seq 1 200',
  'echo done',
  // The status does not matter: the process exiting closes the client with 1000 (SPEC §17).
  'exit 3',
].join('; ');

describe.runIf(has('websocketd'))('wsx -l --exec: websocketd-compatible', () => {
  it('the same script gives the same messages as under websocketd', async () => {
    const d = await websocketd(SCRIPT);
    let reference: Talk;
    try {
      reference = await talk(`${d.url}x?q=1`, ['one', 'two'], { closeAfter: 206 });
    } finally {
      await d.close();
    }
    const server = await startWsx(BIN, ['-l', '0', '--exec', SCRIPT], LISTENING);
    const ours = await talk(`${server.found}x?q=1`, ['one', 'two']);
    expect(reference.messages.length).toBe(206);
    expect(ours.messages).toEqual(reference.messages);
    // The process exiting closes the client with 1000 (websocketd drops the connection).
    expect(ours.close.code).toBe(1000);
  });

  it("the program gets websocketd's CGI environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-cgi-'));
    const script = join(dir, 'env.sh');
    // Only the CGI variables: both servers pass other parts of their own environment.
    writeFileSync(
      script,
      `#!/bin/sh\nenv | grep -E '^(AUTH_TYPE|CONTENT_|GATEWAY_|HTTP_|PATH_INFO|PATH_TRANSLATED|QUERY_STRING|REMOTE_|REQUEST_|SCRIPT_NAME|SERVER_|UNIQUE_ID|HTTPS)' | sort\n`,
      { mode: 0o755 },
    );
    const headers = { 'X-Custom-Header': 'custom value', Cookie: 'a=1' };
    const port = await freePort();
    const d = spawn(
      'websocketd',
      [`--port=${port}`, '--address=127.0.0.1', '--loglevel=error', script],
      { stdio: 'ignore' },
    );
    let reference: Talk;
    try {
      await waitForPort(port, d, 'websocketd');
      reference = await talk(`ws://127.0.0.1:${port}/some/path?a=1&b=two`, [], { headers });
    } finally {
      d.kill('SIGKILL');
    }
    const server = await startWsx(BIN, ['-l', '0', '--exec', script], LISTENING);
    const ours = await talk(`${server.found}some/path?a=1&b=two`, [], { headers });
    const vars = (t: Talk) =>
      new Map(
        t.messages.map((m) => {
          const eq = m.text.indexOf('=');
          return [m.text.slice(0, eq), m.text.slice(eq + 1)] as const;
        }),
      );
    const want = vars(reference);
    const got = vars(ours);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    // Per connection or per server, by nature: the client's port, the server's own port and
    // name, the key, the id.
    const differ = new Set([
      'REMOTE_PORT',
      'SERVER_PORT',
      'SERVER_SOFTWARE',
      'UNIQUE_ID',
      'HTTP_SEC_WEBSOCKET_KEY',
    ]);
    for (const [k, v] of want) if (!differ.has(k)) expect([k, got.get(k)]).toEqual([k, v]);
    expect(got.get('SERVER_PORT')).toBe(new URL(server.found).port);
    expect(got.get('HTTP_X_CUSTOM_HEADER')).toBe('custom value');
    expect(got.get('PATH_INFO')).toBe('/some/path');
    expect(got.get('QUERY_STRING')).toBe('a=1&b=two');
  });

  it('--stream --exec: binary frames, bytes untouched (20 MB through sha256sum)', async () => {
    const server = await startWsx(
      BIN,
      ['-l', '0', '--stream', '--exec', 'head -c 20000000 | sha256sum'],
      LISTENING,
    );
    const data = randomBytes(20_000_000);
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += 65536) chunks.push(data.subarray(i, i + 65536));
    const r = await talk(server.found, chunks);
    expect(r.messages).toEqual([{ text: `${sha256(data)}  -\n`, binary: true }]);
    expect(r.close.code).toBe(1000);
  });

  it("the client leaving closes the program's stdin; a program that ignores it gets SIGTERM 2 s later", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsx-term-'));
    const log = join(dir, 'log');
    const server = await startWsx(
      BIN,
      [
        '-l',
        '0',
        '--exec',
        // One reads its stdin to the end; the other never reads and must be stopped.
        `if [ "$QUERY_STRING" = reader ]; then cat >/dev/null; echo eof >> ${log}; else trap 'echo term >> ${log}; exit 0' TERM; echo ready; while :; do sleep 0.1; done; fi`,
      ],
      LISTENING,
    );
    const reader = new WebSocket(`${server.found}?reader`);
    await new Promise((resolve) => reader.once('open', resolve));
    reader.close(1000);
    await until(() => {
      try {
        return readFileSync(log, 'utf8').includes('eof');
      } catch {
        return false;
      }
    }, 'the reader to see the end of its input');
    const stubborn = new WebSocket(`${server.found}?stubborn`);
    await new Promise((resolve) => stubborn.once('message', resolve));
    stubborn.close(1000);
    await until(
      () => readFileSync(log, 'utf8').includes('term'),
      'the stubborn program to get SIGTERM',
      8000,
    );
    expect(readFileSync(log, 'utf8')).toBe('eof\nterm\n');
  });

  it('--once: exits 0 after the first client; a port in use exits 1', async () => {
    const server = await startWsx(BIN, ['-l', '0', '--once', '--exec', 'echo hi'], LISTENING);
    const r = await talk(server.found, []);
    expect(r.messages).toEqual([{ text: 'hi', binary: false }]);
    expect(r.close.code).toBe(1000);
    expect(await server.exited).toBe(0);
    const holder = await startWsx(BIN, ['-l', '0', '--exec', 'cat'], LISTENING);
    const again = await startWsx(
      BIN,
      ['-l', new URL(holder.found).port, '--exec', 'cat'],
      undefined,
    );
    expect(await again.exited).toBe(1);
    expect(again.err()).toMatch(/^error: port \d+ on 127\.0\.0\.1 is already in use/);
  });

  it('stopping a program stops what it started too (its process group)', async () => {
    // A unique duration marks the grandchildren so that pgrep finds only ours.
    const marker = `${4000 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const server = await startWsx(
      BIN,
      ['-l', '0', '--exec', `echo up; sleep ${marker} | sleep ${marker}`],
      LISTENING,
    );
    const running = () => {
      try {
        return execFileSync('pgrep', ['-f', `^sleep ${marker}$`])
          .toString()
          .trim()
          .split('\n').length;
      } catch {
        return 0;
      }
    };
    const ws = new WebSocket(server.found);
    await new Promise((resolve) => ws.once('message', resolve));
    await until(() => running() === 2, 'the pipeline to start');
    ws.close(1000);
    await until(() => running() === 0, 'the pipeline to be stopped', 8000);
  });

  it('SIGINT: open clients are closed with 1001, exit 130', async () => {
    const server = await startWsx(BIN, ['-l', '0', '--exec', 'echo hi; exec cat'], LISTENING);
    const ws = new WebSocket(server.found);
    await new Promise((resolve) => ws.once('message', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    server.child.kill('SIGINT');
    expect(await closed).toBe(1001);
    expect(await server.exited).toBe(130);
  });
});

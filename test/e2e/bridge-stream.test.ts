// --stream (SPEC §13, §17): ssh's ProxyCommand through Debian's websockify to a real sshd, tens
// of megabytes both ways checked by sha256; framing, endings and bounded memory against ws.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  type Daemon,
  killAll,
  type Sshd,
  sha256,
  startSshd,
  startWsx,
  until,
  websockify,
} from '../fixtures/bridges.js';
import { has } from '../fixtures/proxies.js';
import { type WsTestServer, wsServer } from '../fixtures/servers.js';
import { BIN, runCli } from '../helpers/cli.js';

const MB = 1_000_000;

/** Run ssh with these arguments; stdout hashed as it streams, stderr kept. */
function ssh(
  args: string[],
  input?: Buffer,
): Promise<{ code: number | null; out: Buffer; outHash: string; outBytes: number; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const h = createHash('sha256');
    let bytes = 0;
    let err = '';
    const out: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => {
      if (bytes < 4096) out.push(d);
      h.update(d);
      bytes += d.length;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    if (input && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out: Buffer.concat(out), outHash: h.digest('hex'), outBytes: bytes, err });
    });
  });
}

const proxyCommand = (url: string) => `ProxyCommand=${process.execPath} ${BIN} --stream ${url}`;
// The remote side: N random bytes to stdout, their sha256 to stderr (a temp file keeps the
// order deterministic: the hash is complete before the bytes start).
const download = (n: number) =>
  `f=$(mktemp); head -c ${n} /dev/urandom > $f; sha256sum $f | cut -c1-64 >&2; cat $f; rm -f $f`;

afterEach(() => killAll());

describe.runIf(has('sshd') || has('/usr/sbin/sshd'))('--stream: ssh through websockify', () => {
  let sshd: Sshd;
  let gateway: Daemon;
  beforeAll(async () => {
    sshd = await startSshd();
    gateway = await websockify(sshd.port);
  }, 30_000);
  afterAll(async () => {
    await gateway?.close();
    await sshd?.close();
  });

  it('ssh -o ProxyCommand="wsx --stream ws://…" downloads 30 MB byte-exact', async () => {
    const r = await ssh([
      ...sshd.sshArgs(['-o', proxyCommand(gateway.url)]),
      'root@127.0.0.1',
      download(30 * MB),
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.outBytes).toBe(30 * MB);
    expect(r.err.trim()).toBe(r.outHash);
  }, 120_000);

  it('uploads 20 MB byte-exact (the remote sha256sum sees end of file)', async () => {
    const data = randomBytes(20 * MB);
    const r = await ssh(
      [...sshd.sshArgs(['-o', proxyCommand(gateway.url)]), 'root@127.0.0.1', 'sha256sum'],
      data,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toBe(`${sha256(data)}  -\n`);
  }, 120_000);
});

describe('--stream against a ws server', () => {
  let server: WsTestServer;
  const seen: Array<{ ws: WebSocket; messages: Array<{ data: Buffer; binary: boolean }> }> = [];
  beforeAll(async () => {
    server = await wsServer((ws) => {
      const entry = { ws, messages: [] as Array<{ data: Buffer; binary: boolean }> };
      seen.push(entry);
      ws.on('message', (data, binary) => {
        entry.messages.push({ data: data as Buffer, binary });
      });
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sends each stdin read as one binary message of at most 64 KiB, bytes untouched, and closes with 1000 at the end of stdin', async () => {
    // Newlines, NULs and CRs are just bytes: nothing split, stripped or added.
    const input = Buffer.concat([Buffer.from('one\ntwo\r\n\0three\n'), randomBytes(300_000)]);
    const closed = server.nextConnection().then(
      ({ ws }) =>
        new Promise<number>((resolve) => {
          ws.on('close', (code) => resolve(code));
        }),
    );
    const r = await runCli(['--stream', server.url], { input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(await closed).toBe(1000);
    const messages = seen.at(-1)?.messages ?? [];
    expect(messages.every((m) => m.binary && m.data.length <= 64 * 1024)).toBe(true);
    expect(sha256(Buffer.concat(messages.map((m) => m.data)))).toBe(sha256(input));
  });

  it('writes received text and binary messages to stdout as their bytes, nothing added', async () => {
    const parts = [Buffer.from('text one\n'), Buffer.from([0, 1, 2, 255]), Buffer.from('é')];
    const next = server.nextConnection().then(({ ws }) => {
      ws.send(parts[0] as Buffer, { binary: false });
      ws.send(parts[1] as Buffer, { binary: true });
      ws.send(parts[2] as Buffer, { binary: false });
      ws.close(1000);
    });
    // stdin stays open (a pipe nobody ends): the end of the connection ends the run.
    const stdin = new Readable({ read() {} });
    const r = await runCli(['--stream', server.url], { input: stdin });
    await next;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.equals(Buffer.concat(parts))).toBe(true);
  });

  it('exit codes: 3 after a 4001 close, 1 after a drop without a close frame, 1 when refused', async () => {
    const stdin = () => new Readable({ read() {} });
    void server.nextConnection().then(({ ws }) => ws.close(4001, 'custom bye'));
    const r4001 = await runCli(['--stream', server.url], { input: stdin() });
    expect(r4001.code).toBe(3);
    expect(r4001.stderr).toContain('Disconnected: 4001 "custom bye"');

    void server.nextConnection().then(({ ws }) => ws.terminate());
    const dropped = await runCli(['--stream', server.url], { input: stdin() });
    expect(dropped.code).toBe(1);
    expect(dropped.stderr).toContain('1006');

    const refused = await runCli(['--stream', 'ws://127.0.0.1:1/'], { input: stdin() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: connection refused/);
  });

  it('-w keeps receiving after the end of stdin', async () => {
    void server.nextConnection().then(({ ws }) => {
      ws.on('message', () => {
        // Answer a while after the client's stdin has ended: -w 5 must still take it.
        setTimeout(() => ws.send(Buffer.from('late answer')), 300);
      });
    });
    const r = await runCli(['--stream', '-w', '5', server.url], { input: 'ask' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toBe('late answer');
  });

  it('SIGTERM closes the connection with 1001 and exits 143', async () => {
    const wsx = await startWsx(BIN, ['--stream', server.url], undefined, { stdin: 'pipe' });
    const { ws } = await server.nextConnection();
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    // Open on wsx's side too (it has written what came through) before the signal.
    ws.send('ready');
    await until(() => wsx.out().toString() === 'ready', 'the first bytes');
    wsx.child.kill('SIGTERM');
    expect(await wsx.exited, wsx.err()).toBe(143);
    expect(await closed).toBe(1001);
  });

  it('--ping-interval keeps pinging; --ping-timeout ends a tunnel whose peer stopped answering (exit 1)', async () => {
    const silent = await wsServer(() => {}, { autoPong: false });
    try {
      const stdin = new Readable({ read() {} });
      const r = await runCli(
        ['--stream', '--ping-interval', '0.2', '--ping-timeout', '0.5', silent.url],
        { input: stdin },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: no pong within 0.5 s: the connection is dead/);
    } finally {
      await silent.close();
    }
    let pings = 0;
    void server.nextConnection().then(({ ws }) => {
      ws.on('ping', () => {
        pings++;
        if (pings === 3) ws.close(1000);
      });
    });
    const r = await runCli(['--stream', '--ping-interval', '0.1', server.url], {
      input: new Readable({ read() {} }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(pings).toBe(3);
  });

  it('usage errors: --stream with -x, -0 or --count', async () => {
    for (const extra of [['-x', 'hi'], ['-0'], ['--count', '1']]) {
      const r = await runCli(['--stream', ...extra, server.url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: .* cannot be used with --stream/);
    }
  });
});

describe('--stream: memory stays bounded when the other side is slow', () => {
  // A ws server in this process that reads slowly (upload) or sends much more than the reader
  // of wsx's stdout takes (download): wsx must hold back, not buffer.
  const TOTAL = 64 * 1024 * 1024;
  const source = randomBytes(TOTAL);
  let server: WsTestServer;
  let mode: 'sink' | 'source' = 'sink';
  let sinkHash: Promise<string> = Promise.resolve('');

  beforeAll(async () => {
    server = await wsServer((ws) => {
      if (mode === 'source') {
        // Respect back-pressure on this side too: one 64 KiB message at a time.
        let offset = 0;
        const next = () => {
          if (offset >= TOTAL) {
            ws.close(1000);
            return;
          }
          const chunk = source.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          ws.send(chunk, { binary: true }, next);
        };
        next();
        return;
      }
      const h = createHash('sha256');
      sinkHash = new Promise((resolve) => {
        ws.on('message', (d: Buffer) => {
          h.update(d);
          // Slow reader: a pause after every message.
          ws.pause();
          setTimeout(() => ws.resume(), 2);
        });
        ws.on('close', () => resolve(h.digest('hex')));
      });
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it(`uploads ${TOTAL / 1024 / 1024} MiB to a slow reader with peak RSS under 160 MB`, async () => {
    mode = 'sink';
    const wsx = await startWsx(BIN, ['--stream', server.url], undefined, { stdin: 'pipe' });
    Readable.from(
      (function* () {
        for (let i = 0; i < TOTAL; i += 1024 * 1024) yield source.subarray(i, i + 1024 * 1024);
      })(),
    ).pipe(wsx.child.stdin as NodeJS.WritableStream);
    expect(await wsx.exited, wsx.err()).toBe(0);
    expect(await sinkHash).toBe(sha256(source));
    expect(wsx.peakKb()).toBeGreaterThan(0);
    expect(wsx.peakKb()).toBeLessThan(160_000);
  }, 120_000);

  it(`downloads ${TOTAL / 1024 / 1024} MiB into a slow stdout reader with peak RSS under 160 MB`, async () => {
    mode = 'source';
    const wsx = await startWsx(BIN, ['--stream', server.url], undefined, { stdin: 'pipe' });
    const h = createHash('sha256');
    const stdout = wsx.child.stdout as Readable;
    stdout.removeAllListeners('data');
    stdout.on('data', (d: Buffer) => {
      h.update(d);
      stdout.pause();
      setTimeout(() => stdout.resume(), 2);
    });
    expect(await wsx.exited, wsx.err()).toBe(0);
    expect(h.digest('hex')).toBe(sha256(source));
    expect(wsx.peakKb()).toBeGreaterThan(0);
    expect(wsx.peakKb()).toBeLessThan(160_000);
  }, 120_000);
});

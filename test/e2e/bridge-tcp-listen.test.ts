// --tcp-listen (SPEC §13, §17): a local port forward. ssh to the forwarded port through
// websockify to a real sshd; several connections at once with half-close both ways; every
// connection option applied to each WebSocket; Ctrl-C.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  type Daemon,
  freePort,
  killAll,
  type Sshd,
  sha256,
  startSshd,
  startWsx,
  until,
  websockify,
} from '../fixtures/bridges.js';
import { makeCerts } from '../fixtures/certs.js';
import { has, tinyproxy } from '../fixtures/proxies.js';
import {
  acceptResponse,
  frame,
  tcpServer,
  tlsWsServer,
  type WsTestServer,
  wsServer,
} from '../fixtures/servers.js';
import { BIN } from '../helpers/cli.js';

afterEach(() => killAll());

const FORWARDING = /Forwarding 127\.0\.0\.1:(\d+) → \S+/;

/** Connect to the forward, send `data`, half-close, and collect everything until FIN. */
function exchange(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('end', () => {
      resolve(Buffer.concat(chunks));
      sock.end();
    });
    sock.on('error', reject);
    sock.on('connect', () => sock.end(data));
  });
}

describe.runIf(has('/usr/sbin/sshd') && has('websockify'))(
  '--tcp-listen: ssh to a forwarded port',
  () => {
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

    it('ssh -p <forwarded port>: 20 MB byte-exact, twice at once', async () => {
      const forward = await startWsx(BIN, ['--tcp-listen', '0', gateway.url], FORWARDING);
      expect(forward.err()).toContain(`→ ${gateway.url}`);
      const one = () =>
        new Promise<{ code: number | null; data: Buffer; err: string }>((resolve) => {
          const ssh = spawn(
            'ssh',
            [
              ...sshd.sshArgs(['-p', forward.found]),
              'root@127.0.0.1',
              'f=$(mktemp); head -c 20000000 /dev/urandom > $f; sha256sum $f | cut -c1-64 >&2; cat $f; rm -f $f',
            ],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          const out: Buffer[] = [];
          let err = '';
          ssh.stdout.on('data', (d: Buffer) => out.push(d));
          ssh.stderr.on('data', (d) => {
            err += d;
          });
          ssh.on('close', (code) => resolve({ code, data: Buffer.concat(out), err }));
        });
      const results = await Promise.all([one(), one()]);
      for (const r of results) {
        expect(r.code, r.err).toBe(0);
        expect(r.data.length).toBe(20_000_000);
        expect(r.err.trim()).toBe(sha256(r.data));
      }
      forward.child.kill('SIGINT');
      expect(await forward.exited).toBe(130);
    }, 120_000);
  },
);

describe('--tcp-listen against a ws server', () => {
  let server: WsTestServer;
  const requests: Array<Record<string, string | string[] | undefined>> = [];
  const closes: number[] = [];
  beforeAll(async () => {
    server = await wsServer((ws: WebSocket, req) => {
      requests.push(req.headers);
      ws.on('message', (d: Buffer, binary) => ws.send(d, { binary }));
      ws.on('close', (code) => closes.push(code));
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('several connections at once, each its own WebSocket; a FIN closes with 1000 after the bytes and what the server sent before its close still arrives', async () => {
    const forward = await startWsx(BIN, ['--tcp-listen', '0', server.url], FORWARDING);
    const before = closes.length;
    const inputs = [0, 1, 2, 3].map(() => randomBytes(2_000_000));
    const outputs = await Promise.all(inputs.map((d) => exchange(Number(forward.found), d)));
    for (const [i, out] of outputs.entries()) expect(sha256(out)).toBe(sha256(inputs[i] as Buffer));
    // The server's close event comes when its socket closes, which may be after the FIN.
    await until(() => closes.length >= before + 4, 'the four closes');
    expect(closes.slice(before)).toEqual([1000, 1000, 1000, 1000]);
  });

  it('after a FIN the server may still send before its close frame: those bytes reach the TCP client, then FIN', async () => {
    // A hand-written server that answers the client's close frame with more data first.
    const raw = await tcpServer((sock, request) => {
      sock.write(acceptResponse(request));
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          if (buf.length < 2) return;
          const opcode = (buf[0] as number) & 0x0f;
          let len = (buf[1] as number) & 0x7f;
          let off = 2;
          if (len === 126) {
            if (buf.length < 4) return;
            len = buf.readUInt16BE(2);
            off = 4;
          } else if (len === 127) {
            if (buf.length < 10) return;
            len = Number(buf.readBigUInt64BE(2));
            off = 10;
          }
          if (buf.length < off + 4 + len) return;
          buf = buf.subarray(off + 4 + len);
          if (opcode === 8) {
            sock.write(frame(2, Buffer.from('late bytes after your close')));
            const code = Buffer.alloc(2);
            code.writeUInt16BE(1000);
            sock.end(frame(8, code));
            return;
          }
        }
      });
    });
    try {
      const forward = await startWsx(BIN, ['--tcp-listen', '0', raw.url], FORWARDING);
      const got = await exchange(Number(forward.found), Buffer.from('request'));
      expect(got.toString()).toBe('late bytes after your close');
    } finally {
      await raw.close();
    }
  });

  it('applies the connection options to every WebSocket: headers, Basic auth, subprotocols', async () => {
    const forward = await startWsx(
      BIN,
      [
        '--tcp-listen',
        '127.0.0.1:0',
        '-H',
        'X-Token: abc',
        '--auth',
        'user:pw',
        '-s',
        'chat',
        server.url,
      ],
      FORWARDING,
    );
    const before = requests.length;
    await exchange(Number(forward.found), Buffer.from('x'));
    await exchange(Number(forward.found), Buffer.from('y'));
    const seen = requests.slice(before);
    expect(seen).toHaveLength(2);
    for (const h of seen) {
      expect(h['x-token']).toBe('abc');
      expect(h.authorization).toBe(`Basic ${Buffer.from('user:pw').toString('base64')}`);
      expect(h['sec-websocket-protocol']).toBe('chat');
    }
  });

  it.runIf(has('tinyproxy') && has('openssl'))(
    'wss through an HTTP proxy with --ca: TLS and proxy options apply to every connection',
    async () => {
      const certs = makeCerts();
      const tls = await tlsWsServer(
        { cert: certs.server.certPem, key: certs.server.keyPem },
        (ws) => {
          ws.on('message', (d: Buffer, binary) => ws.send(d, { binary }));
        },
      );
      const proxy = await tinyproxy();
      try {
        const forward = await startWsx(
          BIN,
          ['--tcp-listen', '0', '--ca', certs.ca, '--proxy', proxy.url(), tls.url],
          FORWARDING,
        );
        const data = randomBytes(1_000_000);
        const [a, b] = await Promise.all([
          exchange(Number(forward.found), data),
          exchange(Number(forward.found), data),
        ]);
        expect(sha256(a as Buffer)).toBe(sha256(data));
        expect(sha256(b as Buffer)).toBe(sha256(data));
        // The proxy is really in the path: one that refuses these credentials fails the connection.
        const strict = await tinyproxy({ auth: ['user', 'right'] });
        try {
          const refused = await startWsx(
            BIN,
            [
              '--tcp-listen',
              '0',
              '--ca',
              certs.ca,
              '--proxy',
              strict.url('user', 'wrong'),
              tls.url,
            ],
            FORWARDING,
          );
          await exchange(Number(refused.found), data).catch(() => Buffer.alloc(0));
          await until(() => /warning: #1: .*proxy/i.test(refused.err()), 'the proxy refusal');
        } finally {
          await strict.close();
        }
      } finally {
        await proxy.close();
        await tls.close();
      }
    },
  );

  it('a WebSocket that cannot connect drops that TCP connection with a warning; the forward keeps running', async () => {
    const port = await freePort();
    const forward = await startWsx(
      BIN,
      ['--tcp-listen', '0', `ws://127.0.0.1:${port}/`],
      FORWARDING,
    );
    const got = await exchange(Number(forward.found), Buffer.from('hello')).catch(() =>
      Buffer.alloc(0),
    );
    expect(got.length).toBe(0);
    await until(() => /warning: #1: connection refused/.test(forward.err()), 'the warning');
    expect(forward.child.exitCode).toBe(null);
  });

  it('Ctrl-C closes the open WebSockets with 1001 and exits 130', async () => {
    const forward = await startWsx(BIN, ['--tcp-listen', '0', server.url], FORWARDING);
    const sock = connect({ port: Number(forward.found), host: '127.0.0.1' });
    sock.on('error', () => {});
    const { ws } = await server.nextConnection().then(async function skip(c): Promise<{
      ws: WebSocket;
    }> {
      // Earlier tests' connections may still be queued: take the one that is open.
      return c.ws.readyState === c.ws.OPEN ? c : skip(await server.nextConnection());
    });
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    // The echo coming back means the WebSocket is open on wsx's side too.
    let echoed = '';
    sock.on('data', (d) => {
      echoed += d;
    });
    sock.write('ping');
    await until(() => echoed === 'ping', 'the echo');
    forward.child.kill('SIGINT');
    expect(await closed).toBe(1001);
    expect(await forward.exited).toBe(130);
    sock.destroy();
  });

  it('a port in use exits 1', async () => {
    const holder = await startWsx(BIN, ['--tcp-listen', '0', server.url], FORWARDING);
    const again = await startWsx(BIN, ['--tcp-listen', holder.found, server.url], undefined);
    expect(await again.exited).toBe(1);
    expect(again.err()).toBe(
      `error: --tcp-listen: 127.0.0.1:${holder.found} is already in use\nhint: pick another port, or 0 for a free one\n`,
    );
  });

  it('usage: a bad port and a clash with --exec are usage errors', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const bad = await runCli(['--tcp-listen', 'x:y', server.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --tcp-listen: 'y' is not a port number/);
    const clash = await runCli(['--tcp-listen', '0', '--exec', 'cat', server.url]);
    expect(clash.code).toBe(2);
  });
});

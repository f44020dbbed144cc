// Listen mode answers a plain HTTP request (no Upgrade) with 426 Upgrade Required at once
// (issue 9 defect 9, SPEC §17), with and without --http2, with and without TLS: a raw socket.

import { type ChildProcess, spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Certs, makeCerts } from '../fixtures/certs.js';
import { BIN } from '../helpers/cli.js';

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function listen(args: string[]): Promise<{ port: number; err: () => string }> {
  const child = spawn(process.execPath, [BIN, '-l', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  const deadline = Date.now() + 10_000;
  while (!/Listening on \S+:(\d+)\//.test(text)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no Listening: ${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port: Number(/Listening on \S+:(\d+)\//.exec(text)?.[1]), err: () => text };
}

/**
 * Send a request on a raw socket and read until the server closes the connection, or a bound
 * passes (the defect: no answer for 300 s). `secure` uses TLS (ALPN http/1.1).
 */
function rawRequest(
  port: number,
  request: string,
  secure = false,
): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = secure
      ? tlsConnect({
          port,
          host: '127.0.0.1',
          ca: certs.caPem,
          servername: 'localhost',
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect(port, '127.0.0.1');
    let text = '';
    const finish = (closedByServer: boolean) => {
      clearTimeout(bound);
      socket.destroy();
      resolve({ text, closedByServer });
    };
    const bound = setTimeout(() => finish(false), 5000);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (d) => {
      text += d;
    });
    socket.on('error', () => finish(true));
    socket.on('end', () => finish(true));
  });
}

const GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('a plain HTTP request to wsx -l', () => {
  for (const [name, args] of [
    ['ws', []],
    ['ws with --http2 (h2c detected by its preface)', ['--http2']],
  ] as const) {
    it(`${name}: 426 Upgrade Required with Upgrade: websocket, then the connection closes`, async () => {
      const server = await listen([...args]);
      const answer = await rawRequest(server.port, GET);
      expect(answer.text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
      expect(answer.text).toMatch(/\r\nUpgrade: websocket\r\n/i);
      expect(answer.text).toContain('This is a WebSocket server (wsx)');
      expect(answer.closedByServer).toBe(true);
      // No WebSocket client connected: the server shows no client for it.
      expect(server.err()).not.toMatch(/#1 /);
    });
  }

  it('wss (--cert/--key), with and without --http2', async () => {
    for (const extra of [[], ['--http2']]) {
      const server = await listen([
        '--cert',
        certs.server.cert,
        '--key',
        certs.server.key,
        ...extra,
      ]);
      const answer = await rawRequest(server.port, GET, true);
      expect(answer.text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
      expect(answer.closedByServer).toBe(true);
    }
  });
});

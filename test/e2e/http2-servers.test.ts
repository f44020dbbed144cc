// WebSockets over HTTP/2 through real RFC 8441 servers (Debian's HAProxy 2.6 and Apache 2.4 with
// mod_http2's H2WebSockets), each in front of an HTTP/1.1 ws backend, h2c and TLS. Their access
// logs prove the request really came over HTTP/2.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { type Certs, makeCerts } from '../fixtures/certs.js';
import { apache, type FrontServer, haproxy } from '../fixtures/h2-servers.js';
import { has } from '../fixtures/proxies.js';
import { type WsTestServer, wsServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';

let certs: Certs;
let backend: WsTestServer;
/** What the backend saw: each connection's messages and the close code it received. */
const seen: Array<{ messages: string[]; close?: number; reason?: string; upgrade?: string }> = [];

beforeAll(async () => {
  certs = makeCerts();
  backend = await wsServer((ws: WebSocket, req) => {
    const log: (typeof seen)[number] = { messages: [], upgrade: req.headers.upgrade };
    seen.push(log);
    ws.on('message', (d, binary) => {
      const text = String(d);
      log.messages.push(text);
      if (text === 'bye') ws.close(4001, 'custom bye');
      else ws.send(d as Buffer, { binary });
    });
    ws.on('close', (code, reason) => {
      log.close = code;
      log.reason = String(reason);
    });
  });
});
afterAll(async () => {
  await backend.close();
});

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function suite(name: string, start: () => Promise<FrontServer>, h2LogLine: RegExp) {
  describe.runIf(has(name))(`through ${name}`, () => {
    let front: FrontServer;
    beforeAll(async () => {
      front = await start();
    });
    afterAll(async () => {
      await front?.close();
    });

    it('h2c: text both ways, permessage-deflate negotiated end to end, a clean close', async () => {
      const before = seen.length;
      const big = 'z'.repeat(200_000);
      const r = await runCli(['--http2-only', '-v', front.h2cUrl, '-w', '0.5'], {
        input: `hello\n${big}\n`,
      });
      expect(r.code).toBe(0);
      expect(r.out).toBe(`hello\n${big}\n`);
      expect(r.stderr).toContain('HTTP/2 with prior knowledge (h2c)');
      expect(r.stderr).toMatch(/< SETTINGS .*SETTINGS_ENABLE_CONNECT_PROTOCOL=1/);
      expect(r.stderr).toContain('< :status: 200');
      expect(r.stderr).toMatch(/extensions: permessage-deflate/);
      await until(() => seen[before]?.close !== undefined);
      expect(seen[before]?.messages).toEqual(['hello', big]);
      expect(seen[before]?.close).toBe(1000);
      expect(front.log()).toMatch(h2LogLine);
    });

    it("TLS (ALPN h2): the backend's close code comes back through the stream", async () => {
      const before = seen.length;
      const r = await runCli([
        '--http2-only',
        front.tlsUrl,
        '--ca',
        certs.ca,
        '-x',
        'bye',
        '-w',
        '-1',
      ]);
      expect(r.stderr).toContain('Disconnected: 4001 "custom bye"');
      expect(r.code).toBe(3);
      await until(() => seen[before]?.close !== undefined);
      expect(seen[before]?.close).toBe(4001);
      const lines = front
        .log()
        .split('\n')
        .filter((l) => l.includes('https://') || l.includes('"GET'));
      expect(lines.some((l) => h2LogLine.test(l))).toBe(true);
    });

    it('binary and a ping with its RTT (json)', async () => {
      const r = await runCli(
        [
          '--http2-only',
          front.h2cUrl,
          '--json',
          '-b',
          '--no-split',
          '--ping-interval',
          '0.2',
          '-w',
          '0.6',
        ],
        { input: Buffer.from([1, 2, 3, 0, 255]) },
      );
      expect(r.code).toBe(0);
      const events = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events).toContainEqual(
        expect.objectContaining({
          event: 'message',
          direction: 'in',
          type: 'binary',
          base64: 'AQIDAP8=',
        }),
      );
      const pong = events.find((e) => e.event === 'pong' && e.direction === 'in');
      expect(typeof pong?.rtt).toBe('number');
    });
  });
}

suite(
  'haproxy',
  () => haproxy(backend.port, certs.server),
  // HAProxy's log-format "%ci:%cp %ft %ST %HM %HU %HV": the upgrade as HTTP/2.0.
  / 101 GET https?:\/\/127\.0\.0\.1:\d+\/ HTTP\/2\.0/,
);
suite(
  'apache2',
  () => apache(backend.port, certs.server),
  // Apache's LogFormat "%h \"%r\" %>s %H".
  /"GET \/ws HTTP\/2\.0" 101 HTTP\/2\.0/,
);

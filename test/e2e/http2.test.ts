// WebSockets over HTTP/2 (SPEC §15, RFC 8441), client and server side, against a Node http2
// peer that frames with ws's Receiver/Sender: messages, pings, close codes both ways, the stream
// ending cleanly, fallback and --http2-only, TLS with a test CA, -v, proxies, ws+unix, the REPL.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcp, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Certs, makeCerts } from '../fixtures/certs.js';
import { h2Client, type NodeH2Server, nodeH2Server } from '../fixtures/h2-servers.js';
import { has, type TestProxy, tinyproxy } from '../fixtures/proxies.js';
import { echoServer, tlsWsServer, type WsTestServer } from '../fixtures/servers.js';
import { BIN, runCli } from '../helpers/cli.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

let certs: Certs;
let plain: NodeH2Server;
let tls: NodeH2Server;
let h1: WsTestServer;

beforeAll(async () => {
  certs = makeCerts();
  plain = await nodeH2Server();
  tls = await nodeH2Server({ tls: { cert: certs.server.certPem, key: certs.server.keyPem } });
  h1 = await echoServer();
});
afterAll(async () => {
  await Promise.all([plain.close(), tls.close(), h1.close()]);
});

const children: ChildProcess[] = [];
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const c of closers.splice(0)) await c();
});

describe('wsx --http2 against a Node http2 server (h2c)', () => {
  it('sends and receives text over an extended CONNECT stream, and closes it cleanly', async () => {
    const next = plain.next();
    const r = await runCli(['--http2-only', plain.url, '-x', 'hello', '-x', 'wörld', '-w', '0.5']);
    expect(r.stderr).toBe('');
    expect(r.out).toBe('hello\nwörld\n');
    expect(r.code).toBe(0);
    const s = await next;
    await s.done;
    expect(s.headers[':method']).toBe('CONNECT');
    expect(s.headers[':protocol']).toBe('websocket');
    expect(s.headers[':scheme']).toBe('http');
    expect(s.headers['sec-websocket-version']).toBe('13');
    expect(s.headers['sec-websocket-key']).toBeUndefined();
    expect(s.alpn).toBe('h2c');
    expect(s.messages.map((m) => m.data.toString())).toEqual(['hello', 'wörld']);
    // Our close frame reached the server, and the stream ended with END_STREAM, not a reset.
    expect(s.closeCode).toBe(1000);
    expect(s.ended).toBe(true);
    expect(s.rstCode).toBe(0);
  });

  it('binary messages both ways (-b, raw bytes out)', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const next = plain.next();
    const r = await runCli(['--http2-only', plain.url, '-b', '--no-split', '-w', '0.5'], {
      input: bytes,
    });
    expect(r.code).toBe(0);
    expect(r.stdout.equals(bytes)).toBe(true);
    const s = await next;
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]?.binary).toBe(true);
    expect(s.messages[0]?.data.equals(bytes)).toBe(true);
  });

  it("shows the server's close code and reason (4001 → exit 3), never 1006", async () => {
    const next = plain.next();
    const r = await runCli(['--http2-only', plain.url, '-x', 'bye', '-w', '-1']);
    expect(r.stderr).toContain('Disconnected: 4001 "custom bye"');
    expect(r.stderr).not.toContain('1006');
    expect(r.code).toBe(3);
    const s = await next;
    await s.done;
    // We answered its close frame with the same code over the stream.
    expect(s.closeCode).toBe(4001);
    expect(s.rstCode).toBe(0);
  });

  it('json output: open, messages, a ping from the server answered, a clean close', async () => {
    const r = await runCli([
      '--http2-only',
      plain.url,
      '--json',
      '-x',
      'ping',
      '-x',
      'm',
      '-w',
      '0.5',
    ]);
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'open', url: plain.url });
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'ping', direction: 'in', data: 'srv' }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'pong', direction: 'out', data: 'srv' }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'message', direction: 'in', data: 'm' }),
    );
    expect(events.at(-1)).toMatchObject({ event: 'close', code: 1000, clean: true });
  });

  it('--max-message-size: a larger message closes the stream with 1009', async () => {
    const next = plain.next();
    const r = await runCli([
      '--http2-only',
      plain.url,
      '--max-message-size',
      '1000',
      '-x',
      'big:5000',
      '-w',
      '-1',
    ]);
    expect(r.stderr).toMatch(/larger than --max-message-size/);
    expect(r.code).toBe(1);
    const s = await next;
    await s.done;
    expect(s.closeCode).toBe(1009);
  });

  it('back-pressure: 3000 lines of 64 KiB go through the stream in order, none lost', async () => {
    const line = (i: number) => `${String(i).padStart(6, '0')}${'y'.repeat(65536 - 6)}`;
    const input = `${Array.from({ length: 3000 }, (_, i) => line(i)).join('\n')}\n`;
    const next = plain.next();
    const r = await runCli(['--http2-only', plain.url, '-w', '2'], { input, timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const got = r.out.split('\n').filter((l) => l !== '');
    expect(got).toHaveLength(3000);
    expect(got.every((l, i) => l === line(i))).toBe(true);
    const s = await next;
    expect(s.messages).toHaveLength(3000);
  }, 70_000);

  it('-v: the SETTINGS by their RFC names, the CONNECT pseudo-headers sent, the :status received', async () => {
    const r = await runCli([
      '--http2-only',
      '-v',
      plain.url,
      '-H',
      'Authorization: Bearer sekrit',
      '-x',
      'hi',
      '-w',
      '0.2',
    ]);
    expect(r.code).toBe(0);
    const err = r.stderr;
    expect(err).toContain('HTTP/2 with prior knowledge (h2c)');
    expect(err).toMatch(
      /< SETTINGS .*SETTINGS_INITIAL_WINDOW_SIZE=\d+.*SETTINGS_ENABLE_CONNECT_PROTOCOL=1/,
    );
    expect(err).toMatch(/> SETTINGS .*SETTINGS_ENABLE_PUSH=0/);
    for (const h of [
      ':method: CONNECT',
      ':protocol: websocket',
      ':scheme: http',
      ':path: /',
      `:authority: 127.0.0.1:${plain.port}`,
      'sec-websocket-version: 13',
    ])
      expect(err).toContain(`> ${h}`);
    expect(err).toContain('< :status: 200');
    expect(err).not.toContain('sekrit');
    expect(err).toMatch(/> authorization: Bearer \*+/);
    expect(err).not.toMatch(/HTTP\/1\.1/);
  });

  it('a non-2xx answer to the CONNECT is a failed handshake: status, headers and body, exit 1', async () => {
    const refusing = await nodeH2Server({ status: 403 });
    closers.push(() => refusing.close());
    const r = await runCli(['--http2', refusing.url, '-x', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: the server answered :status 403 (Forbidden) to the HTTP/2 extended CONNECT',
    );
    expect(r.stderr).toContain('body: go away, h2 test server');
    expect(r.stderr).not.toContain('falling back');
  });

  it('the handshake deadline covers the HTTP/2 session: a server that never sends SETTINGS', async () => {
    const sockets: Array<{ destroy(): void }> = [];
    const silent: TcpServer = createTcp((s) => {
      s.on('error', () => {});
      sockets.push(s);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise((r) => {
          for (const s of sockets) s.destroy();
          silent.close(r);
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const r = await runCli([
      '--http2',
      `ws://127.0.0.1:${port}/`,
      '--handshake-timeout',
      '1',
      '-x',
      'x',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the opening handshake did not complete within 1 s');
  });

  it('ws+unix: h2c over the Unix socket', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'wsx-h2-unix-')), 's.sock');
    const unix = await nodeH2Server({ path });
    closers.push(() => unix.close());
    const next = unix.next();
    const r = await runCli([
      '--http2-only',
      `ws+unix://${path}:/chat`,
      '-x',
      'over unix',
      '-w',
      '0.3',
    ]);
    expect(r.stderr).toBe('');
    expect(r.out).toBe('over unix\n');
    expect((await next).headers[':path']).toBe('/chat');
  });

  it.runIf(has('tinyproxy'))(
    '--proxy: CONNECT through tinyproxy first, then h2c in the tunnel',
    async () => {
      const proxy: TestProxy = await tinyproxy();
      closers.push(() => proxy.close());
      const next = plain.next();
      const r = await runCli([
        '--http2-only',
        '--proxy',
        proxy.url(),
        plain.url,
        '-x',
        'tunnelled',
        '-w',
        '0.3',
      ]);
      expect(r.stderr).toBe('');
      expect(r.out).toBe('tunnelled\n');
      const s = await next;
      expect(s.alpn).toBe('h2c');
      expect(s.messages[0]?.data.toString()).toBe('tunnelled');
    },
  );
});

describe('wsx --http2 over TLS (ALPN h2) with a test CA', () => {
  it('connects, verifies the certificate, and the server saw h2', async () => {
    const next = tls.next();
    const r = await runCli([
      '--http2-only',
      '-v',
      tls.url,
      '--ca',
      certs.ca,
      '-x',
      'secure',
      '-w',
      '0.3',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('secure\n');
    expect(r.stderr).toContain('HTTP/2 over TLS (ALPN h2)');
    expect(r.stderr).toContain('> :scheme: https');
    expect(r.stderr).toMatch(/TLS TLSv1\.[23]/);
    expect((await next).alpn).toBe('h2');
  });

  it('an untrusted certificate is a TLS error (hint --ca), not a fallback', async () => {
    const r = await runCli(['--http2', tls.url, '-x', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: TLS: /);
    expect(r.stderr).toContain('--ca');
    expect(r.stderr).not.toContain('falling back');
  });
});

describe('fallback to HTTP/1.1', () => {
  it('a plain HTTP/1.1 ws server: a note, then HTTP/1.1 on a new connection', async () => {
    const r = await runCli(['--http2', h1.url, '-x', 'old school', '-w', '0.3']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('old school\n');
    expect(r.stderr).toMatch(
      /^note: the server did not answer the HTTP\/2 connection preface .*; falling back to HTTP\/1\.1\n$/,
    );
  });

  it('wss to an HTTP/1.1-only TLS server: ALPN did not pick h2, so a note and HTTP/1.1', async () => {
    const server = await tlsWsServer(
      { cert: certs.server.certPem, key: certs.server.keyPem },
      (ws) => ws.on('message', (d) => ws.send(String(d))),
    );
    closers.push(() => server.close());
    const r = await runCli(['--http2', server.url, '--ca', certs.ca, '-x', 'tls h1', '-w', '0.3']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('tls h1\n');
    expect(r.stderr).toContain(
      'note: the server did not choose h2 in TLS ALPN (it chose http/1.1); falling back to HTTP/1.1',
    );
  });

  it('the note is shown in pretty mode too, and -q hides it', async () => {
    const pretty = await runCli(['--http2', h1.url, '--output', 'pretty', '-x', 'a', '-w', '0.2']);
    expect(pretty.stderr).toContain(
      'note: the server did not answer the HTTP/2 connection preface',
    );
    const quiet = await runCli(['--http2', '-q', h1.url, '-x', 'a', '-w', '0.2']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('an HTTP/2 server without SETTINGS_ENABLE_CONNECT_PROTOCOL: the note says so', async () => {
    const noConnect = await nodeH2Server({ enableConnectProtocol: false });
    closers.push(() => noConnect.close());
    const r = await runCli(['--http2', noConnect.url, '-x', 'x', '--handshake-timeout', '3']);
    expect(r.stderr).toContain(
      'note: the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL',
    );
    // The fallback is HTTP/1.1 to an HTTP/2-only server: that then fails on its own terms.
    expect(r.code).toBe(1);
  });

  it('--http2-only makes the fallback an error (exit 1)', async () => {
    const r = await runCli(['--http2-only', h1.url, '-x', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: no WebSockets over HTTP/2 here: the server did not answer the HTTP/2 connection preface',
    );
    expect(r.out).toBe('');
  });

  it('-p 8 with --http2 is a usage error', async () => {
    const r = await runCli(['--http2', '-p', '8', h1.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: -p 8 cannot be used with --http2');
  });
});

interface Listener {
  child: ChildProcess;
  url: string;
  port: number;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

async function listen(args: string[]): Promise<Listener> {
  const child = spawn(process.execPath, [BIN, '-l', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const deadline = Date.now() + 10_000;
  while (!/Listening on (\S+)/.test(err + out)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`no Listening line: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = /Listening on (\S+)/.exec(err + out)?.[1] ?? '';
  return { child, url, port: Number(new URL(url).port), out: () => out, err: () => err, exited };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('wsx -l --http2: HTTP/1.1 upgrades and RFC 8441 streams on one port', () => {
  it('h2c: a Node http2 client (ws framing) and wsx --http2 get echoes; close codes both ways', async () => {
    const server = await listen(['--http2', '--echo', '--output', 'raw', '-v']);
    const url = `ws://127.0.0.1:${server.port}/room`;
    const c = await h2Client(url, { headers: { 'sec-websocket-key': 'c29tZSBwcm94eSBrZXk=' } });
    expect(c.status).toBe(200);
    expect(c.headers['sec-websocket-accept']).toBeUndefined();
    c.send('from node h2');
    expect(await c.nextMessage()).toBe('from node h2');
    c.close(4002, 'node done');
    const closed = await c.closed;
    expect(closed).toMatchObject({ code: 4002, reason: 'node done', rstCode: 0 });
    await until(() => server.err().includes('4002'), 'the server to see 4002');
    expect(server.err()).toContain('Disconnected: 4002 "node done"');
    expect(server.err()).toContain(':protocol: websocket');

    const r = await runCli(['--http2-only', url, '-x', 'from wsx', '-w', '0.3']);
    expect(r.stderr).toBe('');
    expect(r.out).toBe('from wsx\n');
  });

  it('h2c: an HTTP/1.1 client (ws) on the same port, and a plain HTTP/2 GET gets 426', async () => {
    const server = await listen(['--http2', '--echo']);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('via http/1.1'));
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    ws.close();
    expect(echoed).toBe('via http/1.1');
    const { connect } = await import('node:http2');
    const session = connect(`http://127.0.0.1:${server.port}`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': '/' });
      req.once('response', (h) => resolve(Number(h[':status'])));
      req.once('error', reject);
      req.resume();
    });
    session.close();
    expect(status).toBe(426);
  });

  it('TLS (--cert/--key): ALPN h2 for an RFC 8441 client, http/1.1 for ws; the server closes with a code', async () => {
    const server = await listen([
      '--http2',
      '--cert',
      certs.server.cert,
      '--key',
      certs.server.key,
      '--echo',
    ]);
    expect(server.url).toMatch(/^wss:/);
    const url = `wss://localhost:${server.port}/`;
    const c = await h2Client(url, { ca: certs.caPem });
    c.send('tls h2');
    expect(await c.nextMessage()).toBe('tls h2');
    c.close(1000, '');
    expect((await c.closed).rstCode).toBe(0);
    const ws = new WebSocket(url, { ca: certs.caPem });
    const got = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('tls h1'));
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    ws.close();
    expect(got).toBe('tls h1');
    const r = await runCli([
      '--http2-only',
      '-v',
      url,
      '--ca',
      certs.ca,
      '-x',
      'tls wsx',
      '-w',
      '0.3',
    ]);
    expect(r.out).toBe('tls wsx\n');
    expect(r.stderr).toContain('HTTP/2 over TLS (ALPN h2)');
  });

  it('-s over HTTP/2: the chosen subprotocol is answered; none offered is refused with 400', async () => {
    const server = await listen(['--http2', '-s', 'chat.v1', '--echo']);
    const url = `ws://127.0.0.1:${server.port}/`;
    const ok = await runCli([
      '--http2-only',
      '--json',
      url,
      '-s',
      'chat.v1',
      '-x',
      'x',
      '-w',
      '0.2',
    ]);
    expect(JSON.parse(ok.out.split('\n')[0] ?? '{}')).toMatchObject({
      event: 'open',
      protocol: 'chat.v1',
    });
    const refused = await runCli(['--http2-only', url, '-x', 'x']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(':status 400');
  });
});

describe.runIf(hasTmux())('the REPL over HTTP/2', () => {
  it('types, pings with an RTT, /close 4003 reaches the server', async () => {
    const next = plain.next();
    const t = new Terminal(['--http2-only', plain.url, '--no-history']);
    closers.push(() => t.kill());
    await t.waitFor(/Connected to ws:\/\/127\.0\.0\.1/);
    t.type('typed over h2');
    t.press('Enter');
    await t.waitFor(/< typed over h2/);
    t.type('/ping rtt?');
    t.press('Enter');
    await t.waitFor(/< \[pong\] rtt\? \(rtt [\d.]+ ms\)/);
    t.type('/close 4003 see you');
    t.press('Enter');
    await t.waitFor(/Disconnected: 4003 "see you"/);
    // We chose the code: the run ended as asked.
    expect((await t.exited()).code).toBe(0);
    const s = await next;
    await s.done;
    expect(s.messages.map((m) => m.data.toString())).toEqual(['typed over h2']);
    expect(s.pings.map((p) => p.toString())).toEqual(['rtt?']);
    expect(s.closeCode).toBe(4003);
    expect(s.closeReason).toBe('see you');
    expect(s.rstCode).toBe(0);
  });
});

const chromium = ['chromium', 'chromium-browser'].find((c) => has(c));

describe.runIf(process.env.CI === 'true' || chromium !== undefined)('a browser', () => {
  it('headless Chromium opens its WebSocket to wsx -l --http2 as an RFC 8441 stream', async () => {
    const server = await listen([
      '--http2',
      '--cert',
      certs.server.cert,
      '--key',
      certs.server.key,
      '--echo',
      '--json',
      '-v',
    ]);
    const target = `localhost:${server.port}`;
    // Chromium sends a WebSocket over HTTP/2 on an HTTP/2 connection it already has: the page
    // fetches from the server first (credentials included, so the WebSocket may share it).
    const page = `<script>
fetch('https://${target}/', { mode: 'no-cors', credentials: 'include' }).catch(() => {}).finally(() => {
  const ws = new WebSocket('wss://${target}/browser');
  ws.onopen = () => ws.send('hello from chromium');
  ws.onmessage = () => ws.close(4321, 'bye from chromium');
});
</script>`;
    const http = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((r) => http.close(r)));
    const pagePort = (http.address() as { port: number }).port;
    const browser = spawn(
      chromium ?? 'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--ignore-certificate-errors',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'wsx-chromium-'))}`,
        `http://127.0.0.1:${pagePort}/`,
      ],
      { stdio: 'ignore' },
    );
    children.push(browser);
    await until(() => /"code":4321/.test(server.out()), 'the browser to close with 4321', 30_000);
    const events = server
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const hello = events.find((e) => e.event === 'message' && e.data === 'hello from chromium');
    const client = hello?.client;
    expect(client).toBeDefined();
    // That client's request was the extended CONNECT (-v lines), and it closed with its code.
    expect(server.err()).toContain(`#${client} > :protocol: websocket`);
    expect(server.err()).toContain(`#${client} > :method: CONNECT`);
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'close', client, code: 4321, reason: 'bye from chromium' }),
    );
  }, 40_000);
});

// SPEC §4 against real peers: TLS (certificates made at test time), redirects, -v, and real
// proxies from Debian packages (tinyproxy, microsocks, danted), all on 127.0.0.1.

import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type Certs, makeCerts } from '../fixtures/certs.js';
import { danted, has, microsocks, tinyproxy } from '../fixtures/proxies.js';
import {
  echoServer,
  type TestServer,
  tcpServer,
  tlsWsServer,
  wsServer,
} from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';

const cleanup: Array<{ close(): Promise<void> }> = [];
async function track<T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const x = await p;
  cleanup.push(x);
  return x;
}
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((s) => s.close()));
});

/** An echo server over TLS. */
const tlsEcho = (options: HttpsOptions) =>
  tlsWsServer(options, (ws) => ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b })));

function expectOneError(stderr: string, pattern: RegExp) {
  expect(stderr.match(/^error: /gm)?.length).toBe(1);
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe.runIf(has('openssl'))('TLS', () => {
  let certs: Certs;
  beforeAll(() => {
    certs = makeCerts();
  });

  it('--ca trusts a private CA; without it the error names the check and hints --ca / -k', async () => {
    const s = await track(tlsEcho({ cert: certs.server.certPem, key: certs.server.keyPem }));
    const ok = await runCli([s.url, '--ca', certs.ca, '-x', 'hi', '-w', '0.2']);
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('hi\n');
    const bad = await runCli([s.url, '-x', 'hi']);
    expect(bad.code).toBe(1);
    expectOneError(
      bad.stderr,
      /TLS: the server's certificate is signed by an unknown CA\nhint: .*--ca.*-k/,
    );
  });

  it('-k and -n skip verification', async () => {
    const s = await track(
      tlsEcho({ cert: certs.selfSigned.certPem, key: certs.selfSigned.keyPem }),
    );
    for (const flag of ['-k', '-n', '--insecure']) {
      const r = await runCli([s.url, flag, '-x', 'hi', '-w', '0.2']);
      expect(r.code, flag).toBe(0);
      expect(r.out).toBe('hi\n');
    }
  });

  it('names each failed check: self-signed, expired, hostname mismatch', async () => {
    const self = await track(
      tlsEcho({ cert: certs.selfSigned.certPem, key: certs.selfSigned.keyPem }),
    );
    expectOneError((await runCli([self.url, '-x', 'x'])).stderr, /certificate is self-signed/);
    const expired = await track(
      tlsEcho({ cert: certs.expired.certPem, key: certs.expired.keyPem }),
    );
    const r = await runCli([expired.url, '--ca', certs.ca, '-x', 'x']);
    expect(r.code).toBe(1);
    expectOneError(r.stderr, /certificate has expired/);
    const wrong = await track(
      tlsEcho({ cert: certs.wrongHost.certPem, key: certs.wrongHost.keyPem }),
    );
    expectOneError(
      (await runCli([wrong.url, '--ca', certs.ca, '-x', 'x'])).stderr,
      /does not match host 'localhost'/,
    );
  });

  it('NODE_EXTRA_CA_CERTS keeps working', async () => {
    const s = await track(tlsEcho({ cert: certs.server.certPem, key: certs.server.keyPem }));
    const r = await runCli([s.url, '-x', 'hi', '-w', '0.2'], {
      env: { NODE_EXTRA_CA_CERTS: certs.ca },
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe('hi\n');
  });

  it('client certificates: required by the server, plain and passphrase-protected keys', async () => {
    const s = await track(
      tlsEcho({
        cert: certs.server.certPem,
        key: certs.server.keyPem,
        ca: certs.caPem,
        requestCert: true,
        rejectUnauthorized: true,
      }),
    );
    const none = await runCli([s.url, '--ca', certs.ca, '-x', 'x']);
    expect(none.code).toBe(1);
    expectOneError(none.stderr, /TLS|closed|reset/);
    const plain = await runCli([
      s.url,
      '--ca',
      certs.ca,
      '--cert',
      certs.client.cert,
      '--key',
      certs.client.key,
      '-x',
      'hi',
      '-w',
      '0.2',
    ]);
    expect(plain.code).toBe(0);
    expect(plain.out).toBe('hi\n');
    const enc = certs.clientEncrypted;
    const withPass = await runCli([
      s.url,
      '--ca',
      certs.ca,
      '--cert',
      enc.cert,
      '--key',
      enc.key,
      '--passphrase',
      'hunter2',
      '-x',
      'hi',
      '-w',
      '0.2',
    ]);
    expect(withPass.code).toBe(0);
    const wrongPass = await runCli([
      s.url,
      '--ca',
      certs.ca,
      '--cert',
      enc.cert,
      '--key',
      enc.key,
      '--passphrase',
      'nope',
      '-x',
      'x',
    ]);
    expect(wrongPass.code).toBe(2);
    expectOneError(wrongPass.stderr, /cannot decrypt the key/);
    const noPass = await runCli([
      s.url,
      '--ca',
      certs.ca,
      '--cert',
      enc.cert,
      '--key',
      enc.key,
      '-x',
      'x',
    ]);
    expect(noPass.code).toBe(2);
    expectOneError(noPass.stderr, /is encrypted/);
    const promptless = await runCli([
      s.url,
      '--cert',
      enc.cert,
      '--key',
      enc.key,
      '--passphrase',
      '-x',
      'x',
    ]);
    expect(promptless.code).toBe(2);
  });

  it('missing or non-PEM files are usage errors naming the file', async () => {
    const missing = await runCli(['wss://localhost:1/', '--ca', '/no/such/ca.pem', '-x', 'x']);
    expect(missing.code).toBe(2);
    expectOneError(missing.stderr, /cannot read --ca file '\/no\/such\/ca.pem': no such file/);
    const notPem = await runCli([
      'wss://localhost:1/',
      '--cert',
      '/etc/hostname',
      '--key',
      certs.client.key,
      '-x',
      'x',
    ]);
    expect(notPem.code).toBe(2);
    expectOneError(notPem.stderr, /--cert file '\/etc\/hostname' is not PEM/);
  });

  it('-v shows request and response headers (secrets masked), TLS details and timings on stderr', async () => {
    const s = await track(tlsEcho({ cert: certs.server.certPem, key: certs.server.keyPem }));
    const r = await runCli([
      s.url,
      '--ca',
      certs.ca,
      '-v',
      '--auth',
      'alice:secret',
      '-H',
      'Cookie: session=abc',
      '-x',
      'hi',
      '-w',
      '0',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('hi\n');
    const err = r.stderr;
    expect(err).toMatch(/\* > GET \/ HTTP\/1.1/);
    expect(err).toContain('* > Authorization: Basic ****');
    expect(err).toContain('* > Cookie: session=****');
    expect(err).not.toContain(Buffer.from('alice:secret').toString('base64'));
    expect(err).not.toContain('abc');
    expect(err).toMatch(/\* TLS TLSv1\.[23], cipher \S+/);
    expect(err).toMatch(/certificate subject: CN=localhost/);
    expect(err).toMatch(/certificate issuer: CN=wsx test CA/);
    expect(err).toMatch(/certificate valid: .* to .*GMT/);
    expect(err).toMatch(/\* < HTTP\/1.1 101 Switching Protocols/);
    expect(err).toMatch(
      /\* timings: dns (-|[\d.]+ ms), tcp [\d.]+ ms, tls [\d.]+ ms, handshake [\d.]+ ms/,
    );
  });
});

describe('redirects', () => {
  /** HTTP server: /old → 301 /new (relative); /a ↔ /b loop; /away → Location given by `away`. */
  async function redirector(away = ''): Promise<TestServer & { seen: IncomingMessage[] }> {
    const server = createHttpServer((req, res) => {
      const to: Record<string, string> = { '/old': '/new', '/a': '/b', '/b': '/a', '/away': away };
      const loc = to[req.url ?? ''];
      res.writeHead(loc ? 301 : 404, loc ? { Location: loc } : {});
      res.end();
    });
    const wss = new WebSocketServer({ noServer: true });
    const seen: IncomingMessage[] = [];
    server.on('upgrade', (req, socket, head) => {
      seen.push(req);
      const loc = (
        { '/old': '/new', '/a': '/b', '/b': '/a', '/away': away } as Record<string, string>
      )[req.url ?? ''];
      if (loc) {
        socket.end(`HTTP/1.1 301 Moved\r\nLocation: ${loc}\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(`at ${req.url}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      port,
      seen,
      url: `ws://127.0.0.1:${port}`,
      close: () =>
        new Promise((resolve) => {
          for (const c of wss.clients) c.terminate();
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('without -L a 3xx is an error showing the Location; with -L a relative Location is followed', async () => {
    const s = await track(redirector());
    const no = await runCli([`${s.url}/old`, '-x', 'x']);
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/HTTP 301[\s\S]*Location: \/new[\s\S]*hint: follow it with -L/);
    const yes = await runCli([`${s.url}/old`, '-L', '-w', '0.3'], { input: '' });
    expect(yes.code).toBe(0);
    expect(yes.out).toBe('at /new\n');
  });

  it('a redirect loop stops with an error; --max-redirects caps the hops', async () => {
    const s = await track(redirector());
    const loop = await runCli([`${s.url}/a`, '-L', '-x', 'x']);
    expect(loop.code).toBe(1);
    expectOneError(loop.stderr, /too many redirects/);
    expect(s.seen.length).toBe(11);
    const capped = await runCli([`${s.url}/old`, '-L', '--max-redirects', '0', '-x', 'x']);
    expect(capped.code).toBe(1);
  });

  it('the handshake deadline spans the redirect hops (a redirect to a silent server times out)', async () => {
    const silent = await track(tcpServer(() => {}));
    const s = await track(redirector(`ws://127.0.0.1:${silent.port}/`));
    const t0 = Date.now();
    const r = await runCli([`${s.url}/away`, '-L', '--handshake-timeout', '0.8', '-x', 'x']);
    expect(r.code).toBe(1);
    expectOneError(r.stderr, /did not complete within 0\.8 s/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('credentials are not forwarded to another host', async () => {
    const target = await track(wsServer((ws) => ws.send('landed')));
    const conn = target.nextConnection();
    const s = await track(redirector(`ws://localhost:${target.port}/`));
    const r = await runCli(
      [`${s.url}/away`, '-L', '--auth', 'alice:secret', '-H', 'Cookie: a=1', '-w', '0.3'],
      { input: '' },
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe('landed\n');
    expect(s.seen[0]?.headers.authorization).toBeDefined();
    const { req } = await conn;
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers.cookie).toBeUndefined();
  });
});

describe.runIf(has('tinyproxy'))('HTTP proxy (tinyproxy)', () => {
  it('--proxy tunnels ws:// through CONNECT', async () => {
    const s = await track(echoServer());
    const p = await track(tinyproxy());
    const r = await runCli([s.url, '--proxy', p.url(), '-x', 'via proxy', '-w', '0.2']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('via proxy\n');
  });

  it('credentials: accepted with user:pass@, refused (407) without', async () => {
    const s = await track(echoServer());
    const p = await track(tinyproxy({ auth: ['bob', 'pw'] }));
    const ok = await runCli([s.url, '--proxy', p.url('bob', 'pw'), '-x', 'hi', '-w', '0.2']);
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('hi\n');
    const denied = await runCli([s.url, '--proxy', p.url(), '-x', 'hi']);
    expect(denied.code).toBe(1);
    expectOneError(denied.stderr, /the proxy .* answered HTTP 407/);
    expect(denied.stderr).toMatch(/hint: give the proxy credentials/);
  });

  it('the handshake deadline includes a proxy that never answers, and wsx exits promptly', async () => {
    const silent = await track(tcpServer(() => {}));
    for (const scheme of ['http', 'socks5']) {
      const t0 = Date.now();
      const r = await runCli([
        'ws://127.0.0.1:9/',
        '--proxy',
        `${scheme}://127.0.0.1:${silent.port}`,
        '--handshake-timeout',
        '0.7',
        '-x',
        'x',
      ]);
      expect(r.code, scheme).toBe(1);
      expectOneError(r.stderr, /did not complete within 0\.7 s/);
      // 0.7 s deadline + start-up; not held open by the abandoned proxy socket.
      expect(Date.now() - t0, scheme).toBeLessThan(2500);
    }
  });

  it('a proxy that cannot be reached is named as the proxy, credentials masked', async () => {
    const gone = await track(tcpServer(() => {}));
    await gone.close();
    for (const scheme of ['http', 'socks5']) {
      const r = await runCli([
        'ws://127.0.0.1:9/',
        '--proxy',
        `${scheme}://u:hidden@127.0.0.1:${gone.port}`,
        '-x',
        'x',
      ]);
      expect(r.code, scheme).toBe(1);
      expectOneError(
        r.stderr,
        new RegExp(
          `^error: cannot use the proxy ${scheme}://u:\\*\\*\\*\\*@127\\.0\\.0\\.1:${gone.port}/?: .*ECONNREFUSED`,
          'm',
        ),
      );
      expect(r.stderr).not.toContain('hidden');
    }
  });

  it('a proxy that refuses the CONNECT is reported', async () => {
    const s = await track(echoServer());
    const p = await track(tinyproxy({ onlyPort443: true }));
    const r = await runCli([s.url, '--proxy', p.url(), '-x', 'hi']);
    expect(r.code).toBe(1);
    expectOneError(
      r.stderr,
      /^error: the proxy http:\/\/127\.0\.0\.1:\d+\/? answered HTTP 403 .*to CONNECT 127\.0\.0\.1:\d+/m,
    );
    expect(r.stderr).not.toMatch(/the server answered/);
  });

  it('a proxy whose name does not resolve is named as the proxy, not the target', async () => {
    const r = await runCli([
      'ws://127.0.0.1:9/',
      '--proxy',
      'http://no-such-proxy.invalid:3128',
      '-x',
      'x',
    ]);
    expect(r.code).toBe(1);
    expectOneError(r.stderr, /^error: cannot use the proxy http:\/\/no-such-proxy\.invalid:3128/m);
  });

  it('HTTP_PROXY / http_proxy are honoured, NO_PROXY and --no-proxy bypass them', async () => {
    const s = await track(echoServer());
    const refusing = await track(tinyproxy({ onlyPort443: true }));
    // The refusing proxy proves which path was taken: through it the connection fails.
    for (const name of ['HTTP_PROXY', 'http_proxy', 'ALL_PROXY']) {
      const r = await runCli([s.url, '-x', 'hi'], { env: { [name]: refusing.url() } });
      expect(r.code, name).toBe(1);
    }
    const https = await runCli([s.url, '-x', 'hi', '-w', '0.1'], {
      env: { HTTPS_PROXY: refusing.url() },
    });
    expect(https.code).toBe(0);
    const bypass = await runCli([s.url, '-x', 'hi', '-w', '0.1'], {
      env: { HTTP_PROXY: refusing.url(), NO_PROXY: '127.0.0.1' },
    });
    expect(bypass.code).toBe(0);
    const off = await runCli([s.url, '--no-proxy', '-x', 'hi', '-w', '0.1'], {
      env: { HTTP_PROXY: refusing.url() },
    });
    expect(off.code).toBe(0);
    expect(off.out).toBe('hi\n');
  });
});

describe.runIf(has('microsocks'))('SOCKS5 proxy (microsocks)', () => {
  it('socks5:// and socks5h:// with and without credentials', async () => {
    const s = await track(echoServer());
    const open = await track(microsocks());
    for (const url of [open.url(), open.url().replace('socks5:', 'socks5h:')]) {
      const target = url.startsWith('socks5h') ? `ws://localhost:${s.port}/` : s.url;
      const r = await runCli([target, '--proxy', url, '-x', 'socks', '-w', '0.2']);
      expect(r.code, url).toBe(0);
      expect(r.out).toBe('socks\n');
    }
    const authed = await track(microsocks(['carol', 'pw']));
    const ok = await runCli([s.url, '--proxy', authed.url('carol', 'pw'), '-x', 'hi', '-w', '0.2']);
    expect(ok.code).toBe(0);
    const denied = await runCli([s.url, '--proxy', authed.url('carol', 'wrong'), '-x', 'hi']);
    expect(denied.code).toBe(1);
    expectOneError(denied.stderr, /./);
  });
});

describe.runIf(has('danted'))('SOCKS4 proxy (danted)', () => {
  it('socks4:// tunnels the connection', async () => {
    const s = await track(echoServer());
    const p = await track(danted());
    const r = await runCli([s.url, '--proxy', p.url(), '-x', 'socks4', '-w', '0.2']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('socks4\n');
  });
});

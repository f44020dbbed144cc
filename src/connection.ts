// Network, client side: open a WebSocket to a URL and hand back a Peer, or a WsxError that says
// exactly why not (refused, DNS, TLS, HTTP status, timeout, bad handshake).

import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ClientOptions, WebSocket as WsSocket } from 'ws';
import { monotonicMs } from './clock.js';
import { WsxError } from './errors.js';
import {
  CLOSE_TIMEOUT_OUTER_MS,
  COMPRESS_THRESHOLD,
  DEFLATE_LEVEL,
  type FrameSocket,
  type HandshakeInfo,
  Peer,
} from './peer.js';
import type { PreparedConnect } from './prepare.js';
import { maskHeaderValue, maskUrl } from './render/mask.js';
import { sanitizeLine } from './render/sanitize.js';
import type { Http2Connector } from './transport/http2-client.js';

export interface ConnectHooks {
  /** Aborts the attempt (Ctrl-C, --timeout). */
  signal?: AbortSignal;
  /** Called for non-fatal findings (e.g. the server chose no subprotocol). */
  warn?: (text: string) => void;
  /** -v: one line of handshake detail at a time (already escaped and masked). */
  verbose?: (line: string) => void;
  /** A `note:` line for the user (the HTTP/2 fallback); -q hides it. Defaults to warn. */
  note?: (text: string) => void;
}

const BODY_PREVIEW_BYTES = 1024;

function rawHeaderPairs(raw: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  return pairs;
}

function requestHeaderPairs(req: ClientRequest): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const name of req.getRawHeaderNames()) {
    const value = req.getHeader(name);
    if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
    else if (value !== undefined) pairs.push([name, String(value)]);
  }
  return pairs;
}

/** -v lines for an established TLS connection: version, cipher, certificate. */
function describeTls(socket: TLSSocket): string[] {
  const lines = [`TLS ${socket.getProtocol() ?? '?'}, cipher ${socket.getCipher()?.name ?? '?'}`];
  const cert = socket.getPeerCertificate();
  if (cert && Object.keys(cert).length > 0) {
    const name = (n: Record<string, unknown> | undefined) =>
      n
        ? Object.entries(n)
            .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
            .join(', ')
        : '?';
    lines.push(
      `certificate subject: ${sanitizeLine(name(cert.subject as unknown as Record<string, unknown>))}`,
    );
    lines.push(
      `certificate issuer: ${sanitizeLine(name(cert.issuer as unknown as Record<string, unknown>))}`,
    );
    lines.push(`certificate valid: ${cert.valid_from} to ${cert.valid_to}`);
    if (!socket.authorized)
      lines.push(`certificate NOT verified: ${String(socket.authorizationError)} (-k)`);
  }
  return lines;
}

/** Describe a socket-level or ws-level failure to connect (`proxy`: the proxy URL in use). */
export function describeConnectError(
  err: Error & { code?: string; address?: string; port?: number },
  url: URL,
  proxy?: string,
): WsxError {
  const code = err.code;
  if (proxy !== undefined) {
    // Say so when it is the proxy, not the server, that cannot be reached.
    const p = new URL(proxy);
    const failedAt = err.address !== undefined ? `${err.address}:${err.port}` : undefined;
    // A name that does not resolve carries the name: the proxy's, or the target's.
    const unresolved = (err as { hostname?: string }).hostname;
    // socks' errors carry the proxy they were for (class names do not survive minification).
    const fromSocks = (err as { options?: { proxy?: unknown } }).options?.proxy !== undefined;
    if (failedAt === `${p.hostname}:${p.port}` || fromSocks || unresolved === p.hostname) {
      return new WsxError(
        'connect',
        `cannot use the proxy ${maskUrl(proxy)}: ${sanitizeLine(err.message)}`,
        {
          code: code ?? 'PROXY',
          hint:
            code === 'ECONNREFUSED'
              ? 'is the proxy running? (--no-proxy ignores HTTP(S)_PROXY/ALL_PROXY)'
              : undefined,
        },
      );
    }
  }
  const where = url.protocol.endsWith('+unix:') ? url.pathname.split(':')[0] : url.host;
  switch (code) {
    case 'ECONNREFUSED':
      return new WsxError('connect', `connection refused by ${where}`, {
        code,
        hint: 'is the server running and listening on that port?',
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return new WsxError('connect', `could not resolve host '${url.hostname}'`, { code });
    case 'ENOENT':
      return new WsxError('connect', `no socket at ${where}`, { code });
    case 'ECONNRESET':
      return new WsxError('connect', `the connection to ${where} was reset during the handshake`, {
        code,
      });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return new WsxError('connect', `cannot reach ${where} (${code})`, { code });
  }
  const tls = describeTlsError(err, url);
  if (tls) return tls;
  if (err.message === 'Maximum redirects exceeded') {
    return new WsxError('connect', 'too many redirects (see --max-redirects)', {
      code: 'TOO_MANY_REDIRECTS',
    });
  }
  return new WsxError('connect', sanitizeLine(err.message), { code: code ?? 'HANDSHAKE' });
}

const TRUST_HINT = 'trust its CA with --ca <file>, or skip verification with -k (insecure)';

/** Which TLS check failed, in words, with a hint. */
export function describeTlsError(
  err: Error & { code?: string; reason?: string },
  url: URL,
): WsxError | undefined {
  const code = err.code ?? '';
  const messages: Record<string, string> = {
    DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
    SELF_SIGNED_CERT_IN_CHAIN:
      "the server's certificate chain ends in a self-signed certificate that is not trusted",
    CERT_HAS_EXPIRED: "the server's certificate has expired",
    CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is signed by an unknown CA",
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is signed by an unknown CA",
    UNABLE_TO_GET_ISSUER_CERT: "the server's certificate is signed by an unknown CA",
    CERT_REVOKED: "the server's certificate has been revoked",
  };
  const known = messages[code];
  if (known) return new WsxError('connect', `TLS: ${known}`, { code, hint: TRUST_HINT });
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new WsxError(
      'connect',
      `TLS: the certificate does not match host '${url.hostname}' (${sanitizeLine(err.reason ?? err.message)})`,
      {
        code,
        hint: 'connect with a name the certificate is for, or skip verification with -k (insecure)',
      },
    );
  }
  if (/^ERR_SSL_|^EPROTO$|^ERR_TLS_/.test(code) || /SSL routines|alert/i.test(err.message)) {
    const wantsCert = /certificate required|alert number 116|handshake failure/i.test(err.message);
    return new WsxError('connect', `TLS: the handshake failed: ${sanitizeLine(err.message)}`, {
      code: code || 'TLS',
      hint: wantsCert
        ? 'the server may require a client certificate: --cert <file> --key <file>'
        : undefined,
    });
  }
  return undefined;
}

/** The status line, Location / WWW-Authenticate and the first KiB of the body, escaped. */
/** The proxy answered our CONNECT with something other than 200. */
function describeProxyRefusal(
  status: number,
  res: IncomingMessage,
  proxyUrl: string,
  url: URL,
): WsxError {
  const statusText = sanitizeLine(res.statusMessage ?? '');
  return new WsxError(
    'connect',
    `the proxy ${maskUrl(proxyUrl)} answered HTTP ${status}${statusText ? ` ${statusText}` : ''} to CONNECT ${url.host}`,
    {
      code: 'PROXY_STATUS',
      hint:
        status === 407
          ? 'give the proxy credentials: --proxy http://user:pass@host:port'
          : 'the proxy refused the tunnel; --no-proxy bypasses HTTP(S)_PROXY/ALL_PROXY',
    },
  );
}

async function describeRejection(
  res: IncomingMessage,
  deadline: Promise<void>,
  http2 = false,
): Promise<WsxError> {
  const body = await readPreview(res, BODY_PREVIEW_BYTES, deadline);
  const status = res.statusCode ?? 0;
  const details: string[] = [];
  const location = res.headers.location;
  const www = res.headers['www-authenticate'];
  if (location) details.push(`Location: ${sanitizeLine(location)}`);
  if (www) details.push(`WWW-Authenticate: ${sanitizeLine(String(www))}`);
  if (body.length > 0) {
    const text = sanitizeLine(body.subarray(0, BODY_PREVIEW_BYTES).toString('utf8'));
    details.push(`body: ${text}${body.length > BODY_PREVIEW_BYTES ? ' …' : ''}`);
  }
  let hint: string | undefined;
  if (status >= 300 && status < 400) hint = location ? 'follow it with -L' : undefined;
  else if (status === 401) hint = 'give credentials with --auth user:pass or -H "Authorization: …"';
  // Only when the answer names the versions it takes: a proxy that stripped Upgrade also gets 426.
  else if (status === 426 && !http2 && res.headers['sec-websocket-version'] !== undefined)
    hint = `the server takes protocol version ${sanitizeLine(String(res.headers['sec-websocket-version']))} (-p 8 or 13)`;
  const statusText = sanitizeLine(res.statusMessage ?? '');
  return new WsxError(
    'connect',
    http2
      ? `the server answered :status ${status}${statusText ? ` (${statusText})` : ''} to the HTTP/2 extended CONNECT`
      : `the server answered HTTP ${status}${statusText ? ` ${statusText}` : ''} instead of switching protocols`,
    { code: 'HTTP_STATUS', hint, details },
  );
}

function readPreview(res: IncomingMessage, max: number, deadline: Promise<void>): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      res.removeAllListeners('data');
      resolve(Buffer.concat(chunks));
    };
    res.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > max) finish();
    });
    res.on('end', finish);
    res.on('error', finish);
    res.on('close', finish);
    // The body may never end (or trickle): stop at the handshake deadline, or after 1 s.
    void deadline.then(finish);
    setTimeout(finish, 1000).unref();
  });
}

/**
 * `abandon` aborts the socket to the proxy when the attempt fails: the agents pass their options
 * on to net.connect, and a socket given an AbortSignal is destroyed when it fires. Without it a
 * proxy that never answers CONNECT would keep the process alive after the handshake deadline.
 */
async function proxyAgent(
  proxyUrl: string,
  c: PreparedConnect,
  abandon: AbortSignal,
): Promise<Agent> {
  if (proxyUrl.startsWith('socks')) {
    const { SocksProxyAgent } = await import('socks-proxy-agent');
    return new SocksProxyAgent(proxyUrl, { signal: abandon } as object) as unknown as Agent;
  }
  // HTTP(S) proxies are always used through CONNECT, for ws:// as for wss://.
  const { HttpsProxyAgent } = await import('https-proxy-agent');
  return new HttpsProxyAgent(proxyUrl, {
    rejectUnauthorized: c.tlsMaterial.rejectUnauthorized,
    ca: c.tlsMaterial.ca,
    signal: abandon,
  } as object) as unknown as Agent;
}

/** The CONNECT response as HandshakeInfo keeps it (/headers shows it). */
function h2Response(h2: Http2Connector): NonNullable<HandshakeInfo['response']> {
  const status = Number(h2.lastResponse.find(([k]) => k === ':status')?.[1] ?? 0);
  return { status, statusText: '', headers: h2.lastResponse };
}

const ms = (from: number, to: number | undefined) =>
  to === undefined ? '-' : `${(to - from).toFixed(1)} ms`;

function handshakeTimeout(c: PreparedConnect): WsxError {
  return new WsxError(
    'connect',
    `the opening handshake did not complete within ${c.handshakeTimeoutMs / 1000} s`,
    { code: 'HANDSHAKE_TIMEOUT', hint: 'raise the limit with --handshake-timeout <s>' },
  );
}

interface Timings {
  /** When this attempt's network work began (after the modules loaded). */
  start?: number;
  dns?: number;
  tcp?: number;
  tls?: number;
}

/**
 * --http2: open the HTTP/2 session first, inside the handshake deadline. Undefined = fall back to
 * HTTP/1.1 on a new connection (after a note); --http2-only makes that an error (exit 1).
 */
async function startHttp2(
  c: PreparedConnect,
  hooks: ConnectHooks,
  url: URL,
  deadlineAt: number,
  timings: Timings,
  abandon: AbortSignal,
): Promise<Http2Connector | undefined> {
  const { openSession, Http2Connector, Http2Unavailable } = await import(
    './transport/http2-client.js'
  );
  timings.start = monotonicMs();
  const verbose = hooks.verbose;
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  abandon.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      abort.abort();
    },
    Math.max(0, deadlineAt - monotonicMs()),
  );
  const headerLines = (dir: string) =>
    verbose
      ? (pairs: Array<[string, string]>) => {
          for (const [k, v] of pairs)
            verbose(`${dir} ${sanitizeLine(k)}: ${sanitizeLine(maskHeaderValue(k, v))}`);
        }
      : undefined;
  const report = {
    line: verbose ? (text: string) => verbose(sanitizeLine(text)) : undefined,
    request: headerLines('>'),
    response: headerLines('<'),
    tcp: () => {
      timings.tcp = monotonicMs();
    },
    tls: (socket: TLSSocket) => {
      timings.tls = monotonicMs();
      if (verbose) for (const line of describeTls(socket)) verbose(line);
    },
  };
  try {
    const session = await openSession(url, c, abort.signal, report);
    return new Http2Connector({ url, session }, c, abort.signal, report);
  } catch (err) {
    if (err instanceof Http2Unavailable) {
      if (c.http2 === 'only') {
        throw new WsxError('connect', `no WebSockets over HTTP/2 here: ${err.message}`, {
          code: 'HTTP2_UNAVAILABLE',
          hint: 'without --http2-only, wsx falls back to HTTP/1.1',
        });
      }
      (hooks.note ?? hooks.warn)?.(`${err.message}; falling back to HTTP/1.1`);
      return undefined;
    }
    if (timedOut) throw handshakeTimeout(c);
    if ((err as { code?: string }).code === 'ABORTED') {
      throw new WsxError('connect', 'connection attempt aborted', { code: 'ABORTED' });
    }
    throw describeConnectError(err as Error, url, c.proxyUrl);
  } finally {
    clearTimeout(timer);
    hooks.signal?.removeEventListener('abort', onAbort);
  }
}

/** Open a client connection. Resolves with an open Peer or rejects with a WsxError. */
export async function connect(c: PreparedConnect, hooks: ConnectHooks = {}): Promise<Peer> {
  // The deadline counts from the very start; the -v timings from when the network work begins.
  const deadlineAt = monotonicMs() + c.handshakeTimeoutMs;
  const { default: WebSocket } = await import('ws');
  const url = new URL(c.url);
  const verbose = hooks.verbose;
  const abandon = new AbortController();
  if (verbose && c.proxyUrl) verbose(`using proxy ${sanitizeLine(maskUrl(c.proxyUrl))}`);
  const timings: Timings = {};
  const h2 =
    c.http2 !== 'off'
      ? await startHttp2(c, hooks, url, deadlineAt, timings, abandon.signal)
      : undefined;
  const agent = c.proxyUrl && !h2 ? await proxyAgent(c.proxyUrl, c, abandon.signal) : undefined;
  // After a fallback the timings are the HTTP/1.1 connection's.
  const t0 = h2 && timings.start !== undefined ? timings.start : monotonicMs();
  if (!h2) {
    timings.tcp = undefined;
    timings.tls = undefined;
  }
  // https-proxy-agent replays a refused CONNECT as if the target had answered: remember it.
  let proxyRefused: number | undefined;
  (agent as unknown as { on?: (e: string, f: (r: { statusCode: number }) => void) => void })?.on?.(
    'proxyConnect',
    (r) => {
      if (r.statusCode !== 200) proxyRefused = r.statusCode;
    },
  );

  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of c.headers) {
    const existing = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
    const key = existing ?? name;
    const prev = headers[key];
    headers[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  if (c.host !== undefined) headers.Host = c.host;
  if (c.auth !== undefined) {
    const token = Buffer.from(`${c.auth.user}:${c.auth.pass ?? ''}`).toString('base64');
    headers.Authorization = `Basic ${token}`;
  }
  // Subprotocols are negotiated here rather than by ws, because ws fails a server that picks
  // none, where SPEC §4 wants a warning.
  if (c.subprotocols.length > 0) headers['Sec-WebSocket-Protocol'] = c.subprotocols.join(', ');

  const info: HandshakeInfo = { url: c.url, protocol: '', extensions: '' };
  let failure: WsxError | undefined;
  let upgraded: IncomingMessage['socket'] | undefined;

  return new Promise<Peer>((resolve, reject) => {
    let settled = false;
    let deadlineResolve: () => void = () => {};
    const deadline = new Promise<void>((r) => {
      deadlineResolve = r;
    });

    const tlsLines: string[] = [];
    const ws = new WebSocket(c.url, {
      headers,
      origin: c.origin,
      protocolVersion: c.protocolVersion,
      // Offer no context takeover both ways: then a ws server (and ws here) compresses only
      // messages past the threshold, so small messages skip zlib (SPEC §16). Smaller ones are
      // also framed uncompressed by the Peer whatever is negotiated. zlib level 1 (DEFLATE_LEVEL).
      perMessageDeflate: c.compress
        ? {
            clientNoContextTakeover: true,
            serverNoContextTakeover: true,
            threshold: COMPRESS_THRESHOLD,
            zlibDeflateOptions: { level: DEFLATE_LEVEL },
          }
        : false,
      maxPayload: c.maxMessageSize,
      followRedirects: c.followRedirects,
      maxRedirects: c.maxRedirects,
      // The Peer waits CLOSE_WAIT_MS for the close from the last data received; ws's own timer
      // counts from our close frame and would cut off a server still sending, so it only bounds.
      closeTimeout: CLOSE_TIMEOUT_OUTER_MS,
      // SPEC §10: a name with several addresses (localhost: ::1 and 127.0.0.1) tries each one.
      autoSelectFamily: true,
      agent,
      // HTTP/2: each handshake becomes an extended CONNECT stream on the session.
      createConnection: h2?.createConnection,
      ca: c.tlsMaterial.ca,
      cert: c.tlsMaterial.cert,
      key: c.tlsMaterial.key,
      passphrase: c.tlsMaterial.passphrase,
      rejectUnauthorized: c.tlsMaterial.rejectUnauthorized,
      finishRequest: (req: ClientRequest, socket: WsSocket) => {
        if (info.request && verbose)
          verbose(`following redirect to ${sanitizeLine(maskUrl(socket.url))}`);
        info.request = { method: req.method, path: req.path, headers: requestHeaderPairs(req) };
        // HTTP/2: the CONNECT stream's headers are shown as they are sent (http2-client.ts).
        if (verbose && !h2) {
          verbose(`> ${req.method} ${sanitizeLine(req.path)} HTTP/1.1`);
          for (const [k, v] of info.request.headers)
            verbose(`> ${k}: ${sanitizeLine(maskHeaderValue(k, v))}`);
          req.once('socket', (socket) => {
            socket.once('lookup', () => {
              timings.dns = monotonicMs();
            });
            socket.once('connect', () => {
              timings.tcp = monotonicMs();
            });
            socket.once('secureConnect', () => {
              timings.tls = monotonicMs();
              tlsLines.push(...describeTls(socket as TLSSocket));
            });
          });
        }
        req.end();
      },
    } as ClientOptions);
    const showResponse = (res: IncomingMessage) => {
      if (!verbose) return;
      for (const line of tlsLines.splice(0)) verbose(line);
      if (!h2) {
        verbose(
          `< HTTP/${res.httpVersion} ${res.statusCode} ${sanitizeLine(res.statusMessage ?? '')}`,
        );
        for (const [k, v] of rawHeaderPairs(res.rawHeaders))
          verbose(`< ${sanitizeLine(k)}: ${sanitizeLine(maskHeaderValue(k, v))}`);
      }
      const done = monotonicMs();
      verbose(
        `timings: dns ${timings.dns === undefined ? '-' : ms(t0, timings.dns)}, tcp ${ms(t0, timings.tcp)}, ` +
          `tls ${timings.tls === undefined ? '-' : ms(timings.tcp ?? t0, timings.tls)}, handshake ${ms(t0, done)}`,
      );
    };
    // No 'redirect' listener on purpose: with one, ws leaves stripping credentials on a
    // cross-host redirect to the listener. Hops are logged from finishRequest instead.

    const fail = (err: WsxError) => {
      failure ??= err;
    };

    const timer = setTimeout(
      () => {
        fail(handshakeTimeout(c));
        deadlineResolve();
        ws.terminate();
      },
      Math.max(0, deadlineAt - monotonicMs()),
    );

    const onAbort = () => {
      fail(new WsxError('connect', 'connection attempt aborted', { code: 'ABORTED' }));
      ws.terminate();
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });

    const cleanup = () => {
      clearTimeout(timer);
      deadlineResolve();
      hooks.signal?.removeEventListener('abort', onAbort);
    };

    ws.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      showResponse(res);
      info.response = {
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        headers: rawHeaderPairs(res.rawHeaders),
      };
      if (h2) info.response = h2Response(h2);
      const proxyUrl = c.proxyUrl;
      const rejection =
        proxyRefused !== undefined && proxyUrl !== undefined
          ? Promise.resolve(describeProxyRefusal(proxyRefused, res, proxyUrl, url))
          : describeRejection(res, deadline, h2 !== undefined);
      void rejection.then((err) => {
        fail(err);
        req.destroy();
        ws.terminate();
      });
    });

    ws.on('upgrade', (res: IncomingMessage) => {
      showResponse(res);
      info.response = {
        status: res.statusCode ?? 101,
        statusText: res.statusMessage ?? '',
        headers: rawHeaderPairs(res.rawHeaders),
      };
      info.remoteAddress = res.socket?.remoteAddress;
      if (h2) info.response = h2Response(h2);
      // The socket ws switches to (public API): the Peer's send fast path writes to it.
      upgraded = res.socket ?? undefined;
      const chosen = res.headers['sec-websocket-protocol'];
      if (chosen !== undefined) {
        if (!c.subprotocols.includes(chosen)) {
          const offered = c.subprotocols.length
            ? `offered: ${c.subprotocols.join(', ')}`
            : 'none was offered';
          fail(
            new WsxError(
              'connect',
              `the server chose subprotocol '${sanitizeLine(chosen)}' that was not offered (${offered})`,
              {
                code: 'SUBPROTOCOL',
              },
            ),
          );
          ws.terminate();
          return;
        }
        info.protocol = chosen;
        // ws was not told about subprotocols; hide the answer so it does not object.
        delete res.headers['sec-websocket-protocol'];
      } else if (c.subprotocols.length > 0) {
        hooks.warn?.(
          `the server chose none of the offered subprotocols (${c.subprotocols.join(', ')})`,
        );
      }
    });

    ws.once('open', () => {
      if (settled) return;
      settled = true;
      cleanup();
      info.extensions = ws.extensions;
      if (h2) {
        const path = h2.lastRequest.find(([k]) => k === ':path')?.[1] ?? '/';
        info.request = { method: 'CONNECT', path, headers: h2.lastRequest };
      }
      if (verbose) {
        verbose(
          `subprotocol: ${info.protocol || '(none)'}; extensions: ${sanitizeLine(info.extensions) || '(none)'}`,
        );
      }
      // Listeners move to the Peer from here on.
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      // Hold incoming frames until the session has attached its listeners (Peer.start()).
      ws.pause();
      resolve(new Peer(ws, info, { socket: upgraded as FrameSocket | undefined, client: true }));
    });

    ws.on('error', (err: Error & { code?: string }) => {
      fail(describeConnectError(err, url, c.proxyUrl));
    });

    ws.once('close', () => {
      if (settled) return;
      settled = true;
      cleanup();
      abandon.abort();
      h2?.destroy();
      reject(
        failure ??
          new WsxError('connect', 'the connection closed during the handshake', {
            code: 'HANDSHAKE',
          }),
      );
    });
  });
}

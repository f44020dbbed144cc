// WebSockets over HTTP/2, client side (RFC 8441): open an HTTP/2 session (TLS with ALPN h2 for
// wss://, prior knowledge for ws:// and ws+unix, through --proxy's tunnel when there is one), check
// that the server's SETTINGS enable the extended CONNECT, and give ws a socket per handshake that
// turns its HTTP/1.1 upgrade request into a CONNECT stream and the answer back into HTTP/1.1.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as h2connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type Settings,
} from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { PreparedConnect } from '../prepare.js';
import { type HttpHead, StreamSocket } from './http2-stream.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Node's names for the SETTINGS parameters → RFC 9113 / RFC 8441 names, in identifier order. */
const SETTING_NAMES: Array<[keyof Settings, string]> = [
  ['headerTableSize', 'SETTINGS_HEADER_TABLE_SIZE'],
  ['enablePush', 'SETTINGS_ENABLE_PUSH'],
  ['maxConcurrentStreams', 'SETTINGS_MAX_CONCURRENT_STREAMS'],
  ['initialWindowSize', 'SETTINGS_INITIAL_WINDOW_SIZE'],
  ['maxFrameSize', 'SETTINGS_MAX_FRAME_SIZE'],
  ['maxHeaderListSize', 'SETTINGS_MAX_HEADER_LIST_SIZE'],
  ['enableConnectProtocol', 'SETTINGS_ENABLE_CONNECT_PROTOCOL'],
];

/** `SETTINGS_HEADER_TABLE_SIZE=4096, …` (booleans as 0/1, as on the wire). */
export function describeSettings(s: Settings): string {
  return SETTING_NAMES.filter(([k]) => s[k] !== undefined)
    .map(([k, name]) => {
      const v = s[k];
      return `${name}=${typeof v === 'boolean' ? (v ? 1 : 0) : String(v)}`;
    })
    .join(', ');
}

/** Connection-specific headers that HTTP/2 forbids (RFC 9113 §8.2.2) or RFC 8441 replaces. */
const DROPPED = new Set([
  'host',
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'http2-settings',
  'sec-websocket-key',
]);

/** Response headers not copied into the HTTP/1.1 answer ws reads. */
const RESPONSE_DROPPED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'sec-websocket-accept',
]);

/** Why HTTP/2 cannot be used with this server: wsx falls back to HTTP/1.1 (or fails, -only). */
export class Http2Unavailable extends Error {}

export interface Http2Report {
  /** -v lines (not yet escaped: the values come from us or are numbers, except headers). */
  line?: (text: string) => void;
  /** The CONNECT headers as sent (pseudo-headers first). */
  request?: (headers: Array<[string, string]>) => void;
  /** The response headers as received (`:status` first). */
  response?: (headers: Array<[string, string]>) => void;
  /** TLS is up (for the -v TLS lines and timings). */
  tls?: (socket: TLSSocket) => void;
  tcp?: () => void;
}

function originOf(url: URL): { secure: boolean; host: string; port: number; unix?: string } {
  if (url.protocol === 'ws+unix:' || url.protocol === 'wss+unix:') {
    const path = url.pathname;
    const i = path.indexOf(':');
    return { secure: false, host: 'localhost', port: 0, unix: i === -1 ? path : path.slice(0, i) };
  }
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { secure, host, port: Number(url.port) || (secure ? 443 : 80) };
}

/**
 * An HTTP CONNECT tunnel through an http:// or https:// proxy. Written here rather than taken from
 * https-proxy-agent because an HTTP/2 server speaks first (its SETTINGS may come in the same read
 * as the proxy's 200), and those bytes must be put back, not dropped.
 */
async function httpTunnel(
  proxyUrl: string,
  host: string,
  port: number,
  c: PreparedConnect,
  signal: AbortSignal,
): Promise<Socket> {
  const p = new URL(proxyUrl);
  const secure = p.protocol === 'https:';
  const proxyHost = p.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = Number(p.port) || (secure ? 443 : 80);
  const socket: Socket = secure
    ? tlsConnect({
        host: proxyHost,
        port: proxyPort,
        servername: /^[\d.]+$|:/.test(proxyHost) ? undefined : proxyHost,
        ca: c.tlsMaterial.ca,
        rejectUnauthorized: c.tlsMaterial.rejectUnauthorized,
        ALPNProtocols: ['http/1.1'],
      })
    : netConnect({ host: proxyHost, port: proxyPort, autoSelectFamily: true });
  const onAbort = () => socket.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (p.username || p.password) {
    const auth = `${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(auth).toString('base64')}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  try {
    const head = await new Promise<string>((resolve, reject) => {
      let seen = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        seen = Buffer.concat([seen, chunk]);
        const end = seen.indexOf('\r\n\r\n');
        if (end === -1) {
          if (seen.length > 65536) done(new Error('the proxy sent an endless answer to CONNECT'));
          return;
        }
        socket.pause();
        const rest = seen.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        done(undefined, seen.subarray(0, end).toString('latin1'));
      };
      const onClose = () => done(new Error('the proxy closed the connection during CONNECT'));
      const done = (err?: Error, value?: string) => {
        socket.off('data', onData);
        socket.off('error', done);
        socket.off('close', onClose);
        if (err) reject(err);
        else resolve(value ?? '');
      };
      socket.on('data', onData);
      socket.once('error', done);
      socket.once('close', onClose);
    });
    const status = /^HTTP\/\d(?:\.\d)? (\d{3})\s*(.*)/.exec(head.split('\r\n')[0] ?? '');
    if (status?.[1] !== '200') {
      throw Object.assign(
        new Error(
          `it answered ${status ? `HTTP ${status[1]} ${status[2]}` : 'no HTTP'} to CONNECT`,
        ),
        { code: 'PROXY_STATUS' },
      );
    }
  } catch (err) {
    socket.destroy();
    // Named as the proxy's failure (describeConnectError reads `options.proxy`).
    throw Object.assign(err as Error, { options: { proxy: proxyUrl } });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return socket;
}

/** A tunnel through --proxy to host:port (HTTP CONNECT or SOCKS), as a plain socket. */
async function tunnel(
  proxyUrl: string,
  host: string,
  port: number,
  c: PreparedConnect,
  signal: AbortSignal,
): Promise<Socket> {
  if (!proxyUrl.startsWith('socks')) return httpTunnel(proxyUrl, host, port, c, signal);
  // The agent's connect() is its documented extension point (agent-base); a stand-in request
  // receives the events it emits on the real one.
  const req = Object.assign(new EventEmitter(), { destroy() {} });
  const { SocksProxyAgent } = await import('socks-proxy-agent');
  const agent = new SocksProxyAgent(proxyUrl, { signal } as object) as unknown as {
    connect(req: unknown, opts: object): Promise<Socket>;
  };
  return agent.connect(req, { host, port, secureEndpoint: false });
}

function waitFor<T>(
  emitter: EventEmitter,
  ok: string,
  signal: AbortSignal,
  also: string[] = ['error', 'close'],
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      emitter.off(ok, onOk);
      for (const e of also) emitter.off(e, onBad);
      signal.removeEventListener('abort', onAbort);
    };
    const onOk = (v: T) => {
      cleanup();
      resolve(v);
    };
    const onBad = (err?: unknown) => {
      cleanup();
      reject(err instanceof Error ? err : Object.assign(new Error('closed'), { code: 'CLOSED' }));
    };
    const onAbort = () => {
      cleanup();
      reject(Object.assign(new Error('aborted'), { code: 'ABORTED' }));
    };
    emitter.once(ok, onOk);
    for (const e of also) emitter.once(e, onBad);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The socket under the session: TCP, a Unix socket, or a proxy tunnel; then TLS for wss. */
async function openSocket(
  url: URL,
  c: PreparedConnect,
  signal: AbortSignal,
  report: Http2Report,
): Promise<Socket | TLSSocket> {
  const o = originOf(url);
  let raw: Socket;
  if (c.proxyUrl !== undefined && o.unix === undefined) {
    raw = await tunnel(c.proxyUrl, o.host, o.port, c, signal);
  } else {
    raw =
      o.unix !== undefined
        ? netConnect({ path: o.unix })
        : netConnect({ host: o.host, port: o.port, autoSelectFamily: true });
    const onAbort = () => raw.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await waitFor(raw, 'connect', signal);
    } catch (err) {
      raw.destroy();
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
  report.tcp?.();
  if (!o.secure) return raw;
  const isIp = /^[\d.]+$|:/.test(o.host);
  const socket = tlsConnect({
    socket: raw,
    servername: isIp ? undefined : o.host,
    // Offer both, as browsers do: a server without h2 then answers instead of failing TLS.
    ALPNProtocols: ['h2', 'http/1.1'],
    ca: c.tlsMaterial.ca,
    cert: c.tlsMaterial.cert,
    key: c.tlsMaterial.key,
    passphrase: c.tlsMaterial.passphrase,
    rejectUnauthorized: c.tlsMaterial.rejectUnauthorized,
  });
  try {
    await waitFor(socket, 'secureConnect', signal);
  } catch (err) {
    socket.destroy();
    raw.destroy();
    throw err;
  }
  report.tls?.(socket);
  if (socket.alpnProtocol !== 'h2') {
    socket.destroy();
    throw new Http2Unavailable(
      `the server did not choose h2 in TLS ALPN (it chose ${socket.alpnProtocol || 'nothing'})`,
    );
  }
  return socket;
}

/**
 * Open a session to the URL's origin and wait for the server's SETTINGS. Rejects with
 * Http2Unavailable when the server does not speak HTTP/2 or does not enable the extended
 * CONNECT; with the socket's error when it cannot be reached at all.
 */
export async function openSession(
  url: URL,
  c: PreparedConnect,
  signal: AbortSignal,
  report: Http2Report,
): Promise<ClientHttp2Session> {
  const socket = await openSocket(url, c, signal, report);
  const o = originOf(url);
  const authority = `${o.secure ? 'https' : 'http'}://${o.unix !== undefined ? 'localhost' : url.host}`;
  const local: Settings = { enablePush: false };
  const session = h2connect(authority, { createConnection: () => socket, settings: local });
  // Errors after the handshake reach the streams; nothing may be thrown from here on.
  session.on('error', () => {});
  const onAbort = () => session.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  let settings: Settings;
  try {
    settings = await waitFor<Settings>(session, 'remoteSettings', signal);
  } catch (err) {
    session.destroy();
    socket.destroy();
    if ((err as { code?: string }).code === 'ABORTED') throw err;
    if (!o.secure) {
      // An HTTP/1.1 server answers the preface with 400/505, or just closes.
      throw new Http2Unavailable(
        'the server did not answer the HTTP/2 connection preface (h2c with prior knowledge)',
      );
    }
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  report.line?.(`HTTP/2 ${o.secure ? 'over TLS (ALPN h2)' : 'with prior knowledge (h2c)'}`);
  // What we sent beyond the protocol's defaults (localSettings reads as defaults until acked).
  report.line?.(`> SETTINGS ${describeSettings(local)}`);
  report.line?.(`< SETTINGS ${describeSettings(settings)}`);
  if (settings.enableConnectProtocol !== true) {
    session.close();
    throw new Http2Unavailable(
      'the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (no WebSockets over HTTP/2)',
    );
  }
  return session;
}

function headerPairs(headers: IncomingHttpHeaders): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const status = headers[':status'];
  if (status !== undefined) pairs.push([':status', String(status)]);
  for (const [k, v] of Object.entries(headers)) {
    if (k === ':status' || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, String(one)]);
  }
  return pairs;
}

/**
 * Gives ws its sockets: `createConnection` is the http.request option ws passes on. The first
 * hop uses the session opened beforehand; a redirect to another origin opens its own.
 */
export class Http2Connector {
  private sessions = new Map<string, Promise<ClientHttp2Session>>();
  private live = 0;
  /** The CONNECT request and response of the last hop, for HandshakeInfo. */
  lastRequest: Array<[string, string]> = [];
  lastResponse: Array<[string, string]> = [];

  constructor(
    first: { url: URL; session: ClientHttp2Session },
    private readonly c: PreparedConnect,
    private readonly signal: AbortSignal,
    private readonly report: Http2Report,
  ) {
    this.sessions.set(this.key(first.url), Promise.resolve(first.session));
  }

  private key(url: URL): string {
    const o = originOf(url);
    return `${o.secure}|${o.unix ?? `${o.host}:${o.port}`}`;
  }

  /** ws's `createConnection(options)`: options carry the hop's host, port and socketPath. */
  readonly createConnection = (opts: {
    host?: string;
    port?: number | string;
    socketPath?: string;
    servername?: string;
    _defaultAgent?: { protocol?: string };
    protocol?: string;
  }): StreamSocket => {
    const secure = opts._defaultAgent?.protocol === 'https:' || opts.protocol === 'https:';
    const url =
      opts.socketPath !== undefined
        ? new URL(`ws+unix://${opts.socketPath}:/`)
        : new URL(
            `${secure ? 'wss' : 'ws'}://${String(opts.host ?? 'localhost').includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}/`,
          );
    const key = this.key(url);
    let session = this.sessions.get(key);
    if (session === undefined) {
      session = openSession(url, this.c, this.signal, this.report);
      this.sessions.set(key, session);
    }
    const socket = new StreamSocket((head, rest) => {
      void session.then(
        (s) => this.openStream(s, socket, head, rest, url),
        (err: Error) => socket.destroy(err),
      );
    });
    this.live++;
    socket.once('close', () => {
      this.live--;
      // A redirect opens its next hop in the same tick as it drops this one.
      setImmediate(() => {
        if (this.live === 0) this.close();
      });
    });
    return socket;
  };

  private openStream(
    session: ClientHttp2Session,
    socket: StreamSocket,
    head: HttpHead,
    _rest: Buffer,
    url: URL,
  ): void {
    if (socket.destroyed) return;
    const [, path = '/'] = head.startLine.split(' ');
    const o = originOf(url);
    const headers: OutgoingHttpHeaders = {};
    const sent: Array<[string, string]> = [];
    let authority = o.unix !== undefined ? 'localhost' : url.host;
    let key = '';
    for (const [name, value] of head.headers) {
      const lower = name.toLowerCase();
      if (lower === 'host') authority = value;
      if (lower === 'sec-websocket-key') key = value;
      if (DROPPED.has(lower)) continue;
      const prev = headers[lower];
      headers[lower] =
        prev === undefined ? value : [...(Array.isArray(prev) ? prev : [String(prev)]), value];
      sent.push([lower, value]);
    }
    const pseudo: Array<[string, string]> = [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', o.secure ? 'https' : 'http'],
      [':path', path],
      [':authority', authority],
    ];
    for (const [k, v] of pseudo) headers[k] = v;
    this.lastRequest = [...pseudo, ...sent];
    this.report.request?.(this.lastRequest);
    const remote = session.socket as Socket;
    socket.remoteAddress = remote.remoteAddress;
    socket.remotePort = remote.remotePort;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (err) {
      socket.destroy(err as Error);
      return;
    }
    stream.on('error', (err) => socket.destroy(err));
    stream.once('close', () => {
      if (!socket.attached) socket.destroy(new Error('the server closed the CONNECT stream'));
    });
    stream.once('response', (res) => {
      const pairs = headerPairs(res);
      this.lastResponse = pairs;
      this.report.response?.(pairs);
      const status = Number(res[':status']);
      const lines: string[] = [];
      for (const [k, v] of pairs) {
        // The 101 gets our own Accept (a proxy may pass on its backend's, for another key).
        if (k.startsWith(':') || RESPONSE_DROPPED.has(k)) continue;
        lines.push(`${k}: ${v}`);
      }
      if (status >= 200 && status < 300) {
        const accept = createHash('sha1')
          .update(key + GUID)
          .digest('base64');
        socket.feed(
          [
            'HTTP/1.1 101 Switching Protocols',
            'Upgrade: websocket',
            'Connection: Upgrade',
            `Sec-WebSocket-Accept: ${accept}`,
            ...lines,
            '',
            '',
          ].join('\r\n'),
        );
      } else {
        // A refusal: ws (and wsx's report of it) reads it as the HTTP/1.1 answer it would be,
        // the body delimited by the end of the stream.
        socket.feed(
          [
            `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
            ...lines,
            'Connection: close',
            '',
            '',
          ].join('\r\n'),
        );
      }
      socket.attach(stream);
    });
  }

  /** Close every session gracefully (open streams finish first). */
  close(): void {
    for (const s of this.sessions.values()) {
      void s.then(
        (session) => {
          if (!session.closed) session.close();
        },
        () => {},
      );
    }
  }

  /** Tear everything down at once (handshake failed or timed out). */
  destroy(): void {
    for (const s of this.sessions.values()) {
      void s.then(
        (session) => session.destroy(),
        () => {},
      );
    }
  }
}

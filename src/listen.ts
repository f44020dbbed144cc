// Network, server side: listen on an address and yield a Peer for every client that connects.

import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { usageError, WsxError } from './errors.js';
import {
  COMPRESS_THRESHOLD,
  DEFLATE_LEVEL,
  type FrameSocket,
  type HandshakeInfo,
  Peer,
} from './peer.js';
import type { TlsMaterial } from './prepare.js';

export interface ListenConfig {
  port: number;
  bind: string;
  subprotocols: string[];
  compress: boolean;
  maxMessageSize: number;
  tls: TlsMaterial | undefined;
  /** --http2: serve RFC 8441 streams on the same port as HTTP/1.1 upgrades. */
  http2?: boolean;
  /**
   * Picked when a client offers one and no -s one matched, never required (bridges: -l --to
   * accepts websockify's `binary`). Touch point of src/bridge/run.ts.
   */
  optionalSubprotocols?: string[];
}

export interface ListenEvents {
  peer: [peer: Peer, request: IncomingMessage];
}

export interface ListenServer extends EventEmitter<ListenEvents> {
  readonly url: string;
  close(): Promise<void>;
}

function parseOffered(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function describeListenError(err: NodeJS.ErrnoException, c: ListenConfig): WsxError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new WsxError('connect', `port ${c.port} on ${c.bind} is already in use`, {
        code: err.code,
        hint: 'pick another port, or -l 0 for a free one',
      });
    case 'EACCES':
      return new WsxError('connect', `permission denied to listen on port ${c.port}`, {
        code: err.code,
        hint: 'ports below 1024 need privileges; pick a port ≥ 1024',
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return usageError(
        `cannot listen on '${c.bind}': not an address of this machine`,
        'e.g. --bind 127.0.0.1 or 0.0.0.0',
      );
    default:
      return new WsxError('connect', `cannot listen on ${c.bind}:${c.port}: ${err.message}`, {
        code: err.code,
      });
  }
}

/** The body of the 426 a plain HTTP request gets (SPEC §17). */
const NOT_WEBSOCKET = 'This is a WebSocket server (wsx): connect with a WebSocket client.\n';

export async function listen(c: ListenConfig): Promise<ListenServer> {
  const { WebSocketServer } = await import('ws');
  // With --http2 the TLS (or the h2c preface check) happens in front; this server then only
  // ever gets the HTTP/1.1 connections.
  const http: Server =
    c.tls && !c.http2
      ? createHttpsServer({ cert: c.tls.cert, key: c.tls.key, passphrase: c.tls.passphrase })
      : createHttpServer();
  // A request without Upgrade would otherwise wait forever: answer at once.
  http.on('request', (_req, res) => {
    res.writeHead(426, {
      Upgrade: 'websocket',
      Connection: 'Upgrade, close',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(NOT_WEBSOCKET),
    });
    res.end(NOT_WEBSOCKET);
  });
  const accepted = new Set(c.subprotocols);
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: c.compress
      ? { threshold: COMPRESS_THRESHOLD, zlibDeflateOptions: { level: DEFLATE_LEVEL } }
      : false,
    maxPayload: c.maxMessageSize,
    // With -s, a client offering none of the accepted subprotocols is refused with HTTP 400.
    verifyClient:
      accepted.size === 0
        ? undefined
        : (info, done) => {
            const ok = parseOffered(info.req.headers['sec-websocket-protocol']).some((p) =>
              accepted.has(p),
            );
            if (ok) done(true);
            else done(false, 400, `Offer one of these subprotocols: ${c.subprotocols.join(', ')}`);
          },
    handleProtocols: (offered) => {
      for (const p of offered) if (accepted.has(p)) return p;
      for (const p of c.optionalSubprotocols ?? []) if (offered.has(p)) return p;
      return false;
    },
  });
  wss.on('error', () => {});
  http.on('tlsClientError', () => {});
  const front = c.http2
    ? (await import('./transport/http2-server.js')).createHttp2Front(
        http,
        wss,
        c.tls,
        NOT_WEBSOCKET,
      )
    : undefined;
  const listening = front?.server ?? http;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(describeListenError(err, c));
    listening.once('error', onError);
    listening.listen(c.port, c.bind, () => {
      listening.off('error', onError);
      resolve();
    });
  });
  const address = listening.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${c.tls ? 'wss' : 'ws'}://${host}:${address.port}/`;

  const server = new EventEmitter<ListenEvents>() as ListenServer;
  Object.defineProperty(server, 'url', { value: url });
  wss.on('connection', (ws, req) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const peer = new Peer(
      ws,
      {
        url: req.url ?? '/',
        protocol: ws.protocol,
        extensions: ws.extensions,
        remoteAddress: remote,
        request: new HandshakeRequest(req),
        role: 'server',
      },
      { socket: req.socket as FrameSocket },
    );
    ws.pause();
    server.emit('peer', peer, req);
  });
  server.close = () =>
    new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections?.();
      if (front) {
        front.close();
        front.server.close(() => resolve());
      } else http.close(() => resolve());
    });
  return server;
}

/**
 * The request line and headers of a client's handshake. The header pairs are made when first
 * asked for (-v, a dialect's authorization): most relays never look, and a pair of arrays per
 * header per client is memory a server with many clients keeps for nothing. A class, so the
 * getter is on the prototype, not a closure per client.
 */
class HandshakeRequest implements NonNullable<HandshakeInfo['request']> {
  readonly method: string;
  readonly path: string;
  private pairs: Array<[string, string]> | undefined;
  constructor(
    req: IncomingMessage,
    private readonly raw = req.rawHeaders,
  ) {
    this.method = req.method ?? 'GET';
    this.path = req.url ?? '/';
  }

  get headers(): Array<[string, string]> {
    if (this.pairs === undefined) {
      const raw = this.raw;
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i + 1 < raw.length; i += 2)
        pairs.push([raw[i] as string, raw[i + 1] as string]);
      this.pairs = pairs;
    }
    return this.pairs;
  }
}

// WebSockets over HTTP/2, server side (RFC 8441) for `wsx -l --http2`: one port serves HTTP/1.1
// upgrades and extended CONNECT streams. With TLS, ALPN picks h2 or http/1.1; without, the
// HTTP/2 connection preface tells h2c (prior knowledge) from HTTP/1.1. Each CONNECT stream is
// handed to ws's handleUpgrade as a Duplex, so -s, compression and limits work as for HTTP/1.1.

import { randomBytes } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import {
  createServer as createH2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { WebSocketServer } from 'ws';
import type { TlsMaterial } from '../prepare.js';
import { type HttpHead, StreamSocket } from './http2-stream.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Response headers ws writes that HTTP/2 forbids or RFC 8441 drops. */
const DROPPED = new Set(['connection', 'upgrade', 'sec-websocket-accept', 'transfer-encoding']);

/** What `describe` of a request needs: the h2 headers as pairs, pseudo-headers first. */
export function h2HeaderPairs(headers: IncomingHttpHeaders): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const entries = Object.entries(headers).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => Number(b.startsWith(':')) - Number(a.startsWith(':')));
  for (const [k, v] of entries) {
    for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, String(one)]);
  }
  return pairs;
}

/** The HTTP/1.1 request ws expects, built from an extended CONNECT's headers. */
function upgradeRequest(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  socket: StreamSocket,
): IncomingMessage {
  const h: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(':') || v === undefined) continue;
    h[k] = v;
  }
  h.host = String(headers[':authority'] ?? '');
  h.upgrade = 'websocket';
  h.connection = 'Upgrade';
  // RFC 8441 has no key; some proxies still send one: ours replaces it (ws needs one).
  h['sec-websocket-key'] = randomBytes(16).toString('base64');
  const pairs = h2HeaderPairs(headers);
  return {
    method: 'GET',
    url: String(headers[':path'] ?? '/'),
    headers: h,
    rawHeaders: pairs.flat(),
    httpVersion: '2.0',
    socket,
    stream,
  } as unknown as IncomingMessage;
}

/** Answer one stream the way ws answered its HTTP/1.1 stand-in (101 → 200, else as is). */
function respond(stream: ServerHttp2Stream, head: HttpHead, rest: Buffer): void {
  const status = Number(head.startLine.split(' ')[1] ?? 500);
  const out: Record<string, string> = {};
  for (const [k, v] of head.headers) {
    const lower = k.toLowerCase();
    if (DROPPED.has(lower) || lower === 'content-length') continue;
    out[lower] = out[lower] === undefined ? v : `${out[lower]}, ${v}`;
  }
  if (stream.closed || stream.destroyed) return;
  if (status === 101) {
    stream.respond({ ':status': 200, ...out });
    return;
  }
  stream.respond({ ':status': status, ...out });
  stream.end(rest);
}

function refuse(stream: ServerHttp2Stream, status: number, text: string): void {
  stream.on('error', () => {});
  if (stream.closed || stream.headersSent) return;
  stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8' });
  stream.end(text);
}

export interface Http2Front {
  /** The server that listens (net or tls). */
  server: Server;
  close(): void;
}

/**
 * Listen for both protocols: HTTP/1.1 connections go to `http` (where ws handles upgrades and
 * plain requests get their 426), HTTP/2 connections to an http2 server whose extended CONNECT
 * streams are handed to `wss`.
 */
export function createHttp2Front(
  http: HttpServer,
  wss: WebSocketServer,
  tls: TlsMaterial | undefined,
  notWebSocket: string,
): Http2Front {
  const h2 = createH2Server({ settings: { enableConnectProtocol: true } });
  h2.on('sessionError', () => {});
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
      refuse(stream, 426, notWebSocket);
      return;
    }
    const session = stream.session;
    const under = session?.socket as (Socket & { encrypted?: boolean }) | undefined;
    const socket = new StreamSocket((head, rest) => respond(stream, head, rest), {
      remoteAddress: under?.remoteAddress,
      remotePort: under?.remotePort,
      encrypted: under?.encrypted === true,
    });
    socket.attach(stream);
    const req = upgradeRequest(stream, headers, socket);
    wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => {
      // ws needed a GET; what the client sent, and what -v shows, is the CONNECT.
      (req as { method: string }).method = 'CONNECT';
      wss.emit('connection', ws, req);
    });
  });

  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  let server: Server;
  if (tls) {
    server = createTlsServer({
      cert: tls.cert,
      key: tls.key,
      passphrase: tls.passphrase,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    server.on('secureConnection', (s: TLSSocket) => {
      track(s);
      if (s.alpnProtocol === 'h2') h2.emit('connection', s);
      else http.emit('connection', s);
    });
    server.on('tlsClientError', () => {});
  } else {
    server = createNetServer((s) => {
      track(s);
      sniff(s, (isH2) => {
        (isH2 ? h2 : http).emit('connection', s);
        // The HTTP/1.1 parser reads the socket's handle directly: the bytes put back only
        // reach it as 'data' once the socket flows again (http2 reads them itself).
        if (!isH2) s.resume();
      });
    });
  }
  return {
    server,
    close() {
      for (const s of sockets) s.destroy();
      h2.close();
    },
  };
}

/** Read until the first bytes show whether this is the HTTP/2 preface; put them back. */
function sniff(socket: Socket, dispatch: (isH2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const isPrefix = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isPrefix && seen.length < PREFACE.length) return;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.pause();
    socket.unshift(seen);
    dispatch(isPrefix);
  };
  const onError = () => socket.destroy();
  socket.on('data', onData);
  socket.on('error', onError);
}

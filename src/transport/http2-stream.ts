// A Duplex over one HTTP/2 stream that ws can use as its socket (RFC 8441: after the extended
// CONNECT the stream carries WebSocket frames exactly as a TCP connection would). ws accepts a
// generic Duplex (handleUpgrade since ws 8.14, and http.request's createConnection on the client),
// so the framing, masking, permessage-deflate and the close handshake stay ws's own code.

import type { Http2Stream } from 'node:http2';
import { Duplex } from 'node:stream';

const HEAD_END = Buffer.from('\r\n\r\n');
/** A head larger than this is not an HTTP head ws wrote. */
const MAX_HEAD = 64 * 1024;

/** One parsed HTTP/1.1 head (a request from Node's http client, or a response from ws). */
export interface HttpHead {
  /** `GET /x HTTP/1.1` or `HTTP/1.1 101 Switching Protocols`. */
  startLine: string;
  headers: Array<[string, string]>;
}

export function parseHead(raw: string): HttpHead {
  const lines = raw.split('\r\n');
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { startLine: lines[0] ?? '', headers };
}

/**
 * The ws side writes an HTTP/1.1 head first (the client's upgrade request, the server's 101 or
 * refusal); `onHead` translates it into HTTP/2 and calls `attach()` once the stream is ready.
 * Everything written after the head goes to the stream; everything the stream delivers is read.
 */
export class StreamSocket extends Duplex {
  private stream: Http2Stream | undefined;
  private head: Buffer[] = [];
  private headSize = 0;
  private headDone = false;
  /** Writes that came after the head but before attach(). */
  private waiting: Array<() => void> = [];
  /** Address facts for ws and the -v lines (the session's socket). */
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  readonly encrypted: boolean;

  constructor(
    private readonly onHead: (head: HttpHead, rest: Buffer) => void,
    facts: { remoteAddress?: string; remotePort?: number; encrypted?: boolean } = {},
  ) {
    super({ allowHalfOpen: true });
    this.remoteAddress = facts.remoteAddress;
    this.remotePort = facts.remotePort;
    this.encrypted = facts.encrypted === true;
  }

  /** Start carrying data over `stream`. */
  attach(stream: Http2Stream): void {
    if (this.destroyed) {
      if (!stream.closed) stream.close();
      return;
    }
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stream.pause();
    });
    stream.on('end', () => this.push(null));
    stream.on('error', (err) => this.destroy(err));
    stream.on('close', () => {
      if (this.destroyed) return;
      // A reset (or a session that went away) is a dropped connection; a clean close already
      // delivered 'end' above and our own end went out with END_STREAM.
      if (stream.rstCode !== undefined && stream.rstCode !== 0) {
        this.destroy(
          Object.assign(new Error(`the HTTP/2 stream was reset (code ${stream.rstCode})`), {
            code: 'ERR_HTTP2_STREAM_RESET',
          }),
        );
      } else if (!this.readableEnded) {
        this.push(null);
      }
    });
    for (const resume of this.waiting.splice(0)) resume();
  }

  /** Bytes to read as if the network sent them (the client's translated HTTP/1.1 response). */
  feed(data: Buffer | string | null): void {
    if (!this.destroyed) this.push(data);
  }

  get attached(): Http2Stream | undefined {
    return this.stream;
  }

  override _read(): void {
    this.stream?.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    cb: (err?: Error | null) => void,
  ): void {
    if (!this.headDone) {
      this.takeHead(chunk, cb);
      return;
    }
    const stream = this.stream;
    if (stream === undefined) {
      this.waiting.push(() => this._write(chunk, _encoding, cb));
      return;
    }
    if (stream.closed || stream.destroyed) {
      cb();
      return;
    }
    stream.write(chunk, (err) => cb(err ?? null));
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    cb: (err?: Error | null) => void,
  ): void {
    const stream = this.stream;
    if (!this.headDone || stream === undefined) {
      // Rare (before the stream exists): one at a time.
      const next = (i: number): void => {
        const item = chunks[i];
        if (item === undefined) {
          cb();
          return;
        }
        this._write(item.chunk, item.encoding, (err) => (err ? cb(err) : next(i + 1)));
      };
      next(0);
      return;
    }
    if (stream.closed || stream.destroyed) {
      cb();
      return;
    }
    stream.cork();
    for (let i = 0; i < chunks.length - 1; i++)
      stream.write((chunks[i] as { chunk: Buffer }).chunk);
    const last = chunks[chunks.length - 1] as { chunk: Buffer };
    stream.write(last.chunk, (err) => cb(err ?? null));
    stream.uncork();
  }

  override _final(cb: (err?: Error | null) => void): void {
    const stream = this.stream;
    if (stream !== undefined && !stream.closed && !stream.writableEnded) stream.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    const stream = this.stream;
    // Not ended both ways: cancel the stream (RST_STREAM), as closing a TCP socket would.
    if (stream !== undefined && !stream.closed) stream.close(0x8);
    for (const resume of this.waiting.splice(0)) resume();
    cb(err);
  }

  // net.Socket methods that ws and Node's http client may call.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }

  private takeHead(chunk: Buffer, cb: (err?: Error | null) => void): void {
    this.head.push(chunk);
    this.headSize += chunk.length;
    const all = Buffer.concat(this.head);
    const end = all.indexOf(HEAD_END);
    if (end === -1) {
      if (this.headSize > MAX_HEAD) cb(new Error('HTTP head too large'));
      else cb();
      return;
    }
    this.headDone = true;
    this.head = [];
    const head = parseHead(all.subarray(0, end).toString('latin1'));
    const rest = all.subarray(end + HEAD_END.length);
    cb();
    this.onHead(head, rest);
  }
}

// The STOMP 1.0–1.2 frame codec: a command line, header lines, a blank line, a body and a NUL.
// Frames carry newlines inside them (so a typed line can never be one), may be split across
// WebSocket messages or share one, and are separated by EOLs that are heart-beats.

export type StompVersion = '1.0' | '1.1' | '1.2';

export interface StompFrame {
  command: string;
  /** In wire order; a repeated header's first value is the one that counts (STOMP 1.2). */
  headers: Array<[string, string]>;
  body: Buffer;
}

export class StompFrameError extends Error {}

/** The first value of a header (names are case-sensitive). */
export function header(frame: StompFrame, name: string): string | undefined {
  for (const [k, v] of frame.headers) if (k === name) return v;
  return undefined;
}

/** Headers as an object, first value wins (for json output). */
export function headerObject(frame: StompFrame): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of frame.headers) if (!(k in out)) out[k] = v;
  return out;
}

// CONNECT and CONNECTED are never escaped (1.2 §"Value Encoding"); 1.0 has no escapes at all.
const noEscapes = (command: string, version: StompVersion) =>
  version === '1.0' || command === 'CONNECT' || command === 'CONNECTED' || command === 'STOMP';

function escapeValue(value: string, version: StompVersion): string {
  let out = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/:/g, '\\c');
  if (version === '1.2') out = out.replace(/\r/g, '\\r');
  return out;
}

function unescapeValue(value: string, version: StompVersion): string {
  return value.replace(/\\(.)/g, (all, c: string) => {
    if (c === 'n') return '\n';
    if (c === 'c') return ':';
    if (c === '\\') return '\\';
    if (c === 'r' && version === '1.2') return '\r';
    throw new StompFrameError(`undefined escape sequence '${all}' in a header`);
  });
}

/**
 * One frame on the wire. content-length is written when the body holds a NUL (it could not be
 * found otherwise) or when `contentLength` asks for it; brokers such as ActiveMQ read a frame
 * without it as a text message.
 */
export function encodeFrame(
  frame: { command: string; headers?: Array<[string, string]>; body?: Buffer | string },
  version: StompVersion,
  opts: { contentLength?: boolean } = {},
): Buffer {
  const body =
    frame.body === undefined
      ? Buffer.alloc(0)
      : typeof frame.body === 'string'
        ? Buffer.from(frame.body, 'utf8')
        : frame.body;
  const headers = [...(frame.headers ?? [])];
  const raw = noEscapes(frame.command, version);
  if ((opts.contentLength || body.includes(0)) && !headers.some(([k]) => k === 'content-length')) {
    headers.push(['content-length', String(body.length)]);
  }
  let head = `${frame.command}\n`;
  for (const [k, v] of headers) {
    if (raw && /[\r\n]/.test(k + v)) {
      throw new StompFrameError(`header ${k} cannot hold a line break in a ${frame.command} frame`);
    }
    head += raw ? `${k}:${v}\n` : `${escapeValue(k, version)}:${escapeValue(v, version)}\n`;
  }
  return Buffer.concat([Buffer.from(`${head}\n`, 'utf8'), body, Buffer.from([0])]);
}

/** What the decoder found: a frame, or one heart-beat (an EOL between frames). */
export type Decoded = { frame: StompFrame; bytes: Buffer } | 'heartbeat';

const NUL = 0;
const LF = 0x0a;
const CR = 0x0d;

/** Where the blank line after the headers is: its start and where the body begins. */
function findHeadEnd(buf: Buffer): { at: number; bodyStart: number } | -1 {
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
    const next = buf[i + 1];
    if (next === LF) return { at: i, bodyStart: i + 2 };
    if (next === CR && buf[i + 2] === LF) return { at: i, bodyStart: i + 3 };
  }
  return -1;
}

/**
 * Incremental decoder: push() each received WebSocket message; complete frames and heart-beats
 * come out in order, a partial frame waits for the next message. `version` is read per frame
 * (the escapes differ; it changes once CONNECTED has said which version is spoken).
 */
export class StompDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly version: () => StompVersion) {}

  /** Bytes of an unfinished frame held back. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): Decoded[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Decoded[] = [];
    for (;;) {
      // EOLs between frames are heart-beats.
      let i = 0;
      while (i < this.buf.length) {
        const b = this.buf[i];
        if (b === LF) {
          out.push('heartbeat');
          i++;
        } else if (b === CR && this.buf[i + 1] === LF) {
          out.push('heartbeat');
          i += 2;
        } else if (b === CR && i + 1 === this.buf.length) {
          break; // a CR whose LF is in the next message
        } else break;
      }
      this.buf = this.buf.subarray(i);
      if (this.buf.length === 0 || this.buf[0] === CR) return out;
      const end = this.frameEnd();
      if (end === -1) return out;
      const bytes = this.buf.subarray(0, end + 1);
      out.push({ frame: this.parse(bytes), bytes });
      this.buf = this.buf.subarray(end + 1);
    }
  }

  /** Index of the terminating NUL of the frame at the start of buf, or -1 if not all here yet. */
  private frameEnd(): number {
    const headEnd = findHeadEnd(this.buf);
    if (headEnd === -1) {
      // A NUL before the blank line would be a frame without its header end: malformed.
      const nul = this.buf.indexOf(NUL);
      if (nul !== -1) throw new StompFrameError('a frame ended before its headers did');
      return -1;
    }
    const length = this.contentLength(this.buf.subarray(0, headEnd.at));
    if (length !== undefined) {
      const end = headEnd.bodyStart + length;
      if (this.buf.length <= end) return -1;
      if (this.buf[end] !== NUL) {
        throw new StompFrameError('the frame body is longer than its content-length header');
      }
      return end;
    }
    return this.buf.indexOf(NUL, headEnd.bodyStart);
  }

  private contentLength(head: Buffer): number | undefined {
    const m = /\ncontent-length:([^\r\n]*)/.exec(head.toString('latin1'));
    if (!m) return undefined;
    const n = Number(m[1]?.trim());
    if (!/^\d+$/.test(m[1]?.trim() ?? '') || !Number.isSafeInteger(n)) {
      throw new StompFrameError(`invalid content-length '${m[1]}'`);
    }
    return n;
  }

  private parse(bytes: Buffer): StompFrame {
    const end = findHeadEnd(bytes);
    if (end === -1) throw new StompFrameError('a frame without the blank line after its headers');
    const { at, bodyStart } = end;
    const lines = bytes
      .subarray(0, at)
      .toString('utf8')
      .split('\n')
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const command = lines.shift() ?? '';
    if (!/^[A-Z]+$/.test(command)) {
      throw new StompFrameError(`not a STOMP command: '${command.slice(0, 40)}'`);
    }
    const version = this.version();
    const raw = noEscapes(command, version);
    const headers: Array<[string, string]> = [];
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon === -1) throw new StompFrameError(`a header line without ':' in ${command}`);
      const k = line.slice(0, colon);
      const v = line.slice(colon + 1);
      headers.push(raw ? [k, v] : [unescapeValue(k, version), unescapeValue(v, version)]);
    }
    return { command, headers, body: bytes.subarray(bodyStart, bytes.length - 1) };
  }
}

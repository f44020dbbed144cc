// Pure Socket.IO codecs over the websocket transport: WebSocket frames ⇄ Engine.IO packets ⇄
// Socket.IO packets, for Engine.IO 4 (Socket.IO 3/4: engine.io-parser 5, socket.io-parser 4) and
// Engine.IO 3 (Socket.IO 2: engine.io-parser 2, socket.io-parser 3). The libraries do the
// encoding; this module only gives both generations one shape.

import * as eio4 from 'engine.io-parser';
import * as eio3 from 'engine.io-parser-v2';
import * as sio4 from 'socket.io-parser';
import * as sio3 from 'socket.io-parser-v3';

export type EngineType = 'open' | 'close' | 'ping' | 'pong' | 'message' | 'upgrade' | 'noop';

export interface EnginePacket {
  type: EngineType | 'error';
  data?: string | Buffer;
}

/** Socket.IO packet types (the same numbers in both generations). */
export const SIO = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

export interface SioPacket {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
  attachments?: number;
}

export interface Frame {
  data: string | Buffer;
  binary: boolean;
}

/** Whether a value holds binary data anywhere (a Buffer, possibly nested). */
export function hasBinary(value: unknown): boolean {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(hasBinary);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasBinary);
  return false;
}

export interface SocketIoCodec {
  readonly eio: 3 | 4;
  /** One received WebSocket frame as an Engine.IO packet. */
  decodeFrame(data: Buffer, binary: boolean): EnginePacket;
  /** One Engine.IO packet as a WebSocket frame. */
  encodeFrame(packet: EnginePacket): Frame;
  /** A Socket.IO packet as the Engine.IO message payloads that carry it (text, then attachments). */
  encode(packet: SioPacket): Array<string | Buffer>;
  /**
   * Feed a message payload to the Socket.IO decoder; returns the packet once it is complete
   * (undefined while binary attachments are still to come). Throws on a malformed packet.
   */
  decode(payload: string | Buffer): SioPacket | undefined;
}

function eio4Codec(): SocketIoCodec {
  const encoder = new sio4.Encoder();
  let decoder = new sio4.Decoder();
  let done: SioPacket | undefined;
  const hook = (d: sio4.Decoder) =>
    d.on('decoded', (p: SioPacket) => {
      done = p;
    });
  hook(decoder);
  return {
    eio: 4,
    decodeFrame(data, binary) {
      return eio4.decodePacket(binary ? data : data.toString('utf8'), 'nodebuffer') as EnginePacket;
    },
    encodeFrame(packet) {
      let out: Frame = { data: '', binary: false };
      eio4.encodePacket(packet as eio4.Packet, true, (encoded) => {
        out =
          typeof encoded === 'string'
            ? { data: encoded, binary: false }
            : { data: Buffer.from(encoded as Uint8Array), binary: true };
      });
      return out;
    },
    encode(packet) {
      return encoder.encode(packet as sio4.Packet) as Array<string | Buffer>;
    },
    decode(payload) {
      done = undefined;
      try {
        decoder.add(payload);
      } catch (err) {
        // A broken packet leaves the decoder mid-reconstruction: start afresh.
        decoder.destroy();
        decoder = new sio4.Decoder();
        hook(decoder);
        throw err;
      }
      return done;
    },
  };
}

function eio3Codec(): SocketIoCodec {
  const encoder = new sio3.Encoder();
  let decoder = new sio3.Decoder();
  let done: SioPacket | undefined;
  const hook = (d: sio3.Decoder) =>
    d.on('decoded', (p) => {
      done = p;
    });
  hook(decoder);
  return {
    eio: 3,
    decodeFrame(data, binary) {
      return eio3.decodePacket(binary ? data : data.toString('utf8')) as EnginePacket;
    },
    encodeFrame(packet) {
      let out: Frame = { data: '', binary: false };
      eio3.encodePacket(packet, true, false, (encoded) => {
        out = { data: encoded, binary: typeof encoded !== 'string' };
      });
      return out;
    },
    encode(packet) {
      // socket.io-parser 3 takes the binary packet types as given (4 picks them itself).
      const p = { ...packet };
      if (p.type === SIO.EVENT && hasBinary(p.data)) p.type = SIO.BINARY_EVENT;
      if (p.type === SIO.ACK && hasBinary(p.data)) p.type = SIO.BINARY_ACK;
      let out: Array<string | Buffer> = [];
      encoder.encode(p, (encoded) => {
        out = encoded;
      });
      return out;
    },
    decode(payload) {
      done = undefined;
      try {
        decoder.add(payload);
      } catch (err) {
        decoder.destroy();
        decoder = new sio3.Decoder();
        hook(decoder);
        throw err;
      }
      const got = done as SioPacket | undefined;
      if (got && got.type === SIO.CONNECT_ERROR && !got.nsp && isParserError(got)) {
        throw new Error(String(got.data));
      }
      return got;
    },
  };
}

/** socket.io-parser 3 reports a malformed packet as an ERROR packet with this text. */
function isParserError(p: SioPacket): boolean {
  return typeof p.data === 'string' && p.data.startsWith('parser error');
}

export function socketIoCodec(eio: 3 | 4): SocketIoCodec {
  return eio === 4 ? eio4Codec() : eio3Codec();
}

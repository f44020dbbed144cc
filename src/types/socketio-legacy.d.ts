// The Socket.IO 2 parsers (npm aliases of engine.io-parser 2 and socket.io-parser 3) ship no
// types; these are the parts the socketio dialect uses.
declare module 'engine.io-parser-v2' {
  export interface LegacyEnginePacket {
    type: string;
    data?: string | Buffer;
  }
  export const protocol: number;
  export function encodePacket(
    packet: LegacyEnginePacket,
    supportsBinary: boolean,
    utf8encode: boolean,
    callback: (encoded: string | Buffer) => void,
  ): void;
  export function decodePacket(
    data: string | Buffer,
    binaryType?: string,
    utf8decode?: boolean,
  ): LegacyEnginePacket;
}

declare module 'socket.io-parser-v3' {
  export interface LegacyPacket {
    type: number;
    nsp: string;
    data?: unknown;
    id?: number;
    attachments?: number;
  }
  export const protocol: number;
  export class Encoder {
    encode(packet: LegacyPacket, callback: (encoded: Array<string | Buffer>) => void): void;
  }
  export class Decoder {
    add(data: string | Buffer): void;
    on(event: 'decoded', listener: (packet: LegacyPacket) => void): this;
    destroy(): void;
  }
}

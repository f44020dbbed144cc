// Codecs for --decode and --encode (SPEC §14): binary frame ⇄ JSON value, using zlib and the
// reference libraries (@msgpack/msgpack, cbor-x, protobufjs), each loaded only when its codec is
// used. Pure apart from reading the .proto file.

import { accessSync, constants } from 'node:fs';
import { describeFileError, usageError, WsxError } from '../errors.js';

export const CODECS = ['gzip', 'deflate', 'msgpack', 'cbor', 'protobuf'] as const;
export type Codec = (typeof CODECS)[number];

export interface ProtoSpec {
  file: string;
  type: string;
}

export interface Decoded {
  /** The value, JSON-safe (64-bit integers beyond 2^53 as decimal strings, bytes as base64). */
  value: unknown;
  /** The value as JSON text (for text that was JSON already, that text as it came). */
  text: string;
}

export interface CodecImpl {
  readonly codec: Codec;
  /** Throws (any error) when the bytes are not this codec's. */
  decode(data: Buffer): Decoded;
  /** JSON text (or any text for gzip/deflate) → the binary frame; usage error when not JSON. */
  encode(text: string): Buffer;
}

/**
 * A decoded value as plain JSON data: BigInt → number when safe, else a decimal string; bytes →
 * base64; Date → ISO 8601; Map → object; Set → array; NaN/Infinity → strings.
 */
export function toJsonValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'string':
    case 'boolean':
      return v;
    case 'object':
      break;
    default:
      return String(v);
  }
  if (v instanceof Uint8Array)
    return Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64');
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v instanceof Set) return [...v].map(toJsonValue);
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of v)
      out[typeof k === 'string' ? k : JSON.stringify(toJsonValue(k))] = toJsonValue(val);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = toJsonValue(val);
  return out;
}

function decodedValue(raw: unknown): Decoded {
  const value = toJsonValue(raw);
  return { value, text: JSON.stringify(value) };
}

/** Decompressed bytes: JSON text stays as it came; other UTF-8 text is a JSON string. */
function decodedText(bytes: Buffer): Decoded {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new Error(`decompressed ${bytes.length} bytes that are not UTF-8 text`);
  }
  try {
    return { value: JSON.parse(text), text };
  } catch {
    return { value: text, text };
  }
}

function parseJson(text: string, codec: Codec): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(
      `--encode ${codec}: not JSON: ${(err as Error).message}`,
      `--encode ${codec} sends JSON values as ${codec}; e.g. {"op":"sub"}`,
    );
  }
}

/** Load one codec (and its library). `maxBytes` bounds what a decompression may produce. */
export async function loadCodec(
  codec: Codec,
  opts: { proto?: ProtoSpec; maxBytes: number },
): Promise<CodecImpl> {
  switch (codec) {
    case 'gzip':
    case 'deflate': {
      const zlib = await import('node:zlib');
      const limit = { maxOutputLength: opts.maxBytes };
      return {
        codec,
        decode(data) {
          if (codec === 'gzip') return decodedText(zlib.gunzipSync(data, limit));
          // "deflate" is used for both zlib-wrapped (RFC 1950) and raw (RFC 1951) streams.
          const zlibHeader =
            data.length >= 2 && (data[0]! & 0x0f) === 8 && ((data[0]! << 8) | data[1]!) % 31 === 0;
          return decodedText(
            zlibHeader ? zlib.inflateSync(data, limit) : zlib.inflateRawSync(data, limit),
          );
        },
        encode: (text) =>
          codec === 'gzip' ? zlib.gzipSync(Buffer.from(text)) : zlib.deflateSync(Buffer.from(text)),
      };
    }
    case 'msgpack': {
      const msgpack = await import('@msgpack/msgpack');
      // int64/uint64 come back as BigInt, so no precision is lost before toJsonValue.
      const decoder = new msgpack.Decoder({ useBigInt64: true });
      const encoder = new msgpack.Encoder();
      return {
        codec,
        decode: (data) => decodedValue(decoder.decode(data)),
        encode: (text) => Buffer.from(encoder.encode(parseJson(text, codec))),
      };
    }
    case 'cbor': {
      const cbor = await import('cbor-x/index-no-eval');
      // Records (tag 105) are a cbor-x extension other decoders do not read: plain maps only.
      const enc = new cbor.Encoder({ useRecords: false, mapsAsObjects: true });
      const dec = new cbor.Decoder({ useRecords: false, mapsAsObjects: true });
      return {
        codec,
        decode: (data) => decodedValue(dec.decode(data)),
        encode: (text) => Buffer.from(enc.encode(parseJson(text, codec))),
      };
    }
    case 'protobuf': {
      if (!opts.proto)
        throw usageError('--decode/--encode protobuf needs --proto <file> --type <Message>');
      return loadProtobuf(opts.proto);
    }
  }
}

async function loadProtobuf(spec: ProtoSpec): Promise<CodecImpl> {
  try {
    accessSync(spec.file, constants.R_OK);
  } catch (err) {
    throw usageError(`--proto ${spec.file}: ${describeFileError(err)}`);
  }
  const pb = (await import('protobufjs')).default;
  let root: InstanceType<typeof pb.Root>;
  try {
    // keepCase: field names as written in the .proto (SPEC §17), not camelCase.
    root = new pb.Root().loadSync(spec.file, { keepCase: true });
    root.resolveAll();
  } catch (err) {
    throw usageError(`--proto ${spec.file}: ${(err as Error).message}`);
  }
  const type = findType(pb, root, spec);
  const toObject = {
    longs: String,
    enums: String,
    bytes: String,
    defaults: true,
    arrays: true,
    objects: true,
    json: true,
  };
  return {
    codec: 'protobuf',
    decode(data) {
      const message = type.decode(data);
      return decodedValue(type.toObject(message, toObject));
    },
    encode(text) {
      const value = parseJson(text, 'protobuf');
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw usageError(
          `--encode protobuf: a ${type.fullName.slice(1)} is a JSON object, not ${text.slice(0, 40)}`,
        );
      }
      const why = type.verify(type.toObject(type.fromObject(value as Record<string, unknown>)));
      if (why) throw usageError(`--encode protobuf: ${why}`);
      return Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
    },
  };
}

type Protobuf = typeof import('protobufjs');

function findType(
  pb: Protobuf,
  root: InstanceType<Protobuf['Root']>,
  spec: ProtoSpec,
): InstanceType<Protobuf['Type']> {
  const all: Array<InstanceType<Protobuf['Type']>> = [];
  const walk = (ns: InstanceType<Protobuf['NamespaceBase']>) => {
    for (const child of ns.nestedArray) {
      if (child instanceof pb.Type) all.push(child);
      if (child instanceof pb.Namespace || child instanceof pb.Type) walk(child);
    }
  };
  walk(root);
  const name = spec.type.replace(/^\./, '');
  const exact = all.find((t) => t.fullName === `.${name}`);
  // A bare message name is enough when only one message has it.
  const byName = all.filter((t) => t.name === name);
  const found = exact ?? (byName.length === 1 ? byName[0] : undefined);
  if (found) return found;
  const names = all.map((t) => t.fullName.slice(1));
  throw new WsxError('usage', `--type ${spec.type}: no such message type in ${spec.file}`, {
    code: 'USAGE',
    hint:
      byName.length > 1
        ? `several match: ${byName.map((t) => t.fullName.slice(1)).join(', ')}`
        : names.length > 0
          ? `types: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}`
          : 'the file defines no message types',
  });
}

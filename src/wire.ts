// The send fast path's framing (RFC 6455 §5.2): many data messages → frames in one buffer, masked
// 32 bits at a time, so a stdin chunk of small lines costs one socket write instead of one each.

import { randomFillSync } from './crypto-lite.js';

/** Masking keys come from this many random bytes at a time (as ws does: one fill per 2,048). */
const POOL_SIZE = 8192;
/** Frames are carved out of slabs this large (a bigger message gets a slab of its own size). */
const SLAB_SIZE = 64 * 1024;
/** A written slab is kept for reuse up to this size (one of a big message's own size, too). */
const SLAB_KEEP = 1024 * 1024;
/** A batch buffer is at least this large (so that a similar batch fits it next time)... */
const BATCH_MIN = 4096;
/** ...and kept for reuse up to this size... */
const BATCH_KEEP = 128 * 1024;
/**
 * ...in one pool for every encoder of the process, of at most this many. A relay to thousands of
 * clients would otherwise keep a spare buffer per client (4 KiB or more each, idle or not).
 */
const BATCH_POOL = 8;
/** Batch buffers written and free, for any encoder (see encodeBatch, release). */
const batchPool: Buffer[] = [];
/** Unmasked payloads at least this large are written by reference, not copied into the slab. */
const COPY_LIMIT = 16 * 1024;

let pool: Buffer | undefined;
let poolPos = POOL_SIZE;

/**
 * Fills `out[at..at+4]` with a fresh masking key (a CSPRNG, as RFC 6455 §5.3 requires: the
 * operating system's, see crypto-lite.ts).
 */
function writeMaskKey(out: Buffer, at: number): void {
  if (poolPos + 4 > POOL_SIZE) {
    pool ??= Buffer.allocUnsafeSlow(POOL_SIZE);
    randomFillSync(pool);
    poolPos = 0;
  }
  const p = pool as Buffer;
  out[at] = p[poolPos] as number;
  out[at + 1] = p[poolPos + 1] as number;
  out[at + 2] = p[poolPos + 2] as number;
  out[at + 3] = p[poolPos + 3] as number;
  poolPos += 4;
}

const scratch = new Uint8Array(4);
const scratchWord = new Int32Array(scratch.buffer);
const keyBytes = new Uint8Array(4);

/**
 * XOR `buf[start..end)` with the 4-byte key at `buf[key..key+4)`, starting at key byte 0.
 * `words` is an Int32Array over all of `buf.buffer`: the aligned middle goes a word at a time
 * (the word is assembled in memory order, so this holds on any endianness).
 */
export function maskInPlace(
  buf: Buffer,
  start: number,
  end: number,
  key: number,
  words: Int32Array,
): void {
  const k = keyBytes;
  k[0] = buf[key] as number;
  k[1] = buf[key + 1] as number;
  k[2] = buf[key + 2] as number;
  k[3] = buf[key + 3] as number;
  const base = buf.byteOffset;
  let i = start;
  let j = 0;
  while (i < end && ((base + i) & 3) !== 0) {
    buf[i] = (buf[i] as number) ^ (k[j & 3] as number);
    i++;
    j++;
  }
  const count = (end - i) >> 2;
  if (count > 0) {
    scratch[0] = k[j & 3] as number;
    scratch[1] = k[(j + 1) & 3] as number;
    scratch[2] = k[(j + 2) & 3] as number;
    scratch[3] = k[(j + 3) & 3] as number;
    const m = scratchWord[0] as number;
    const first = (base + i) >> 2;
    const last = first + count;
    for (let w = first; w < last; w++) words[w] = (words[w] as number) ^ m;
    i += count << 2;
  }
  while (i < end) {
    buf[i] = (buf[i] as number) ^ (k[j & 3] as number);
    i++;
    j++;
  }
}

/** Bytes of a frame header for a payload of `len` bytes (RFC 6455 §5.2). */
export function headerSize(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes a frame header at `p` (no masking key); returns where the key or payload goes. */
function writeHeader(buf: Buffer, p: number, opcode: number, len: number, masked: boolean): number {
  buf[p] = opcode;
  const maskBit = masked ? 0x80 : 0;
  if (len < 126) {
    buf[p + 1] = maskBit | len;
    return p + 2;
  }
  if (len < 65536) {
    buf[p + 1] = maskBit | 126;
    buf.writeUInt16BE(len, p + 2);
    return p + 4;
  }
  buf[p + 1] = maskBit | 127;
  buf.writeUInt32BE(Math.floor(len / 2 ** 32), p + 2);
  buf.writeUInt32BE(len >>> 0, p + 6);
  return p + 10;
}

/**
 * Writes one whole frame at `at`: `len` bytes of `m` from `from` (a string: all of it, from 0),
 * masked with a fresh key if `masked` (`words`: an Int32Array over all of `buf.buffer`).
 * Returns the end of the frame.
 */
function writeFrame(
  buf: Buffer,
  at: number,
  opcode: number,
  m: Buffer | string,
  from: number,
  len: number,
  masked: boolean,
  words: Int32Array,
): number {
  let p = writeHeader(buf, at, opcode, len, masked);
  let key = 0;
  if (masked) {
    key = p;
    writeMaskKey(buf, p);
    p += 4;
  }
  if (typeof m === 'string') buf.write(m, p, len, 'utf8');
  else m.copy(buf, p, from, from + len);
  if (masked && len > 0) maskInPlace(buf, p, p + len, key, words);
  return p + len;
}

/** Every encoder starts with these (a listening wsx makes one per client, most never encode). */
const NO_SLAB = Buffer.alloc(0);
const NO_WORDS = new Int32Array(0);

/**
 * Encodes data frames (FIN set, no RSV bits: never compressed) into reused slabs. A client masks
 * (`masked`), a server does not. Each `encode` hands back contiguous pieces to write in order.
 */
export class FrameEncoder {
  private slab: Buffer = NO_SLAB;
  private words: Int32Array = NO_WORDS;
  private pos = 0;
  /** Pieces of each slab handed out and not yet released (their writes are not done). */
  private slabUse: Map<ArrayBufferLike, number> | undefined;
  /** A full slab all of whose pieces are written: the next slab (see release). */
  private spareSlab: Buffer | undefined;

  constructor(readonly masked: boolean) {}

  /**
   * Frame `messages` (text or binary) and pass the bytes to `out` in order, in as few pieces as
   * the slab allows. `owned`: a piece of a slab, to hand back to release() once written (the
   * others are the caller's own payloads, written by reference). Returns the payload bytes framed.
   */
  encode(
    messages: ReadonlyArray<Buffer | string>,
    binary: boolean,
    out: (piece: Buffer, owned: boolean) => void,
  ): number {
    const opcode = binary ? 0x82 : 0x81;
    let payload = 0;
    let start = this.pos;
    for (const m of messages) {
      const len = typeof m === 'string' ? Buffer.byteLength(m) : m.length;
      payload += len;
      const head = headerSize(len, this.masked);
      const byRef = !this.masked && typeof m !== 'string' && len >= COPY_LIMIT;
      const need = byRef ? head : head + len;
      if (this.pos + need > this.slab.length) {
        if (this.pos > start) this.handOut(start, out);
        this.newSlab(need);
        start = 0;
      }
      if (byRef) {
        this.pos = writeHeader(this.slab, this.pos, opcode, len, false);
        this.handOut(start, out);
        out(m as Buffer, false);
        start = this.pos;
        continue;
      }
      this.pos = writeFrame(this.slab, this.pos, opcode, m, 0, len, this.masked, this.words);
    }
    if (this.pos > start) this.handOut(start, out);
    return payload;
  }

  /**
   * encode() for the messages `src[starts[i]..ends[i])`, framed from `src` itself (no Buffer per
   * message). Returns the payload bytes framed.
   */
  encodeRanges(
    src: Buffer,
    starts: ReadonlyArray<number>,
    ends: ReadonlyArray<number>,
    binary: boolean,
    out: (piece: Buffer, owned: boolean) => void,
  ): number {
    const opcode = binary ? 0x82 : 0x81;
    const masked = this.masked;
    let payload = 0;
    let start = this.pos;
    for (let k = 0; k < starts.length; k++) {
      const from = starts[k] as number;
      const len = (ends[k] as number) - from;
      payload += len;
      const head = headerSize(len, masked);
      const byRef = !masked && len >= COPY_LIMIT;
      const need = byRef ? head : head + len;
      if (this.pos + need > this.slab.length) {
        if (this.pos > start) this.handOut(start, out);
        this.newSlab(need);
        start = 0;
      }
      if (byRef) {
        this.pos = writeHeader(this.slab, this.pos, opcode, len, false);
        this.handOut(start, out);
        out(src.subarray(from, from + len), false);
        start = this.pos;
        continue;
      }
      this.pos = writeFrame(this.slab, this.pos, opcode, src, from, len, masked, this.words);
    }
    if (this.pos > start) this.handOut(start, out);
    return payload;
  }

  private handOut(start: number, out: (piece: Buffer, owned: boolean) => void): void {
    const ab = this.slab.buffer;
    this.slabUse ??= new Map();
    this.slabUse.set(ab, (this.slabUse.get(ab) ?? 0) + 1);
    out(this.slab.subarray(start, this.pos), true);
  }

  /**
   * Frame `count` of `messages` from `start` (of byte lengths `lens`) into one buffer of exactly
   * their size: the single sends of one turn. The buffer is that of an earlier batch once
   * release() says its write is done (else a new one), so a relay that writes every turn keeps
   * reusing the same memory instead of leaving a new buffer per turn to the garbage collector.
   * The free buffers are shared by all encoders: a relay whose writes complete at once (the
   * kernel took the bytes) frames every client's batch of a turn in the same few buffers.
   */
  encodeBatch(
    messages: ReadonlyArray<Buffer | string | undefined>,
    lens: ReadonlyArray<number>,
    start: number,
    count: number,
    binary: boolean,
  ): Buffer {
    const opcode = binary ? 0x82 : 0x81;
    const end = start + count;
    let total = 0;
    for (let i = start; i < end; i++) {
      const len = lens[i] as number;
      total += headerSize(len, this.masked) + len;
    }
    let backing: Buffer | undefined;
    for (let i = batchPool.length - 1; i >= 0; i--) {
      const b = batchPool[i] as Buffer;
      if (b.length >= total) {
        backing = b;
        batchPool[i] = batchPool[batchPool.length - 1] as Buffer;
        batchPool.pop();
        break;
      }
    }
    backing ??= Buffer.allocUnsafeSlow(Math.max(total, BATCH_MIN));
    const buf = backing.subarray(0, total);
    const words = this.masked
      ? new Int32Array(backing.buffer, 0, backing.buffer.byteLength >> 2)
      : this.words;
    let p = 0;
    for (let i = start; i < end; i++) {
      p = writeFrame(
        buf,
        p,
        opcode,
        messages[i] as Buffer | string,
        0,
        lens[i] as number,
        this.masked,
        words,
      );
    }
    return buf;
  }

  /**
   * An owned piece from encode, or a batch from encodeBatch, has been written (its write callback
   * ran): once nothing in flight refers to its memory, that memory is used again.
   */
  release(piece: Buffer): void {
    const ab = piece.buffer;
    const use = this.slabUse;
    const uses = use?.get(ab);
    if (use !== undefined && uses !== undefined) {
      if (uses > 1) {
        use.set(ab, uses - 1);
        return;
      }
      use.delete(ab);
      // The slab in use goes on being filled; a full one, all written, becomes the next one.
      // (The largest such slab up to SLAB_KEEP: a run of big messages reuses one too.)
      const size = ab.byteLength;
      const spare = this.spareSlab;
      if (
        ab !== this.slab.buffer &&
        size <= SLAB_KEEP &&
        (spare === undefined || spare.length < size)
      )
        this.spareSlab = Buffer.from(ab);
      return;
    }
    const size = ab.byteLength;
    if (size > BATCH_KEEP) return;
    const free = Buffer.from(ab, 0, size);
    if (batchPool.length < BATCH_POOL) {
      batchPool.push(free);
      return;
    }
    // Full: keep the larger buffers (a bigger batch fits them, a smaller one too).
    let smallest = 0;
    for (let i = 1; i < batchPool.length; i++)
      if ((batchPool[i] as Buffer).length < (batchPool[smallest] as Buffer).length) smallest = i;
    if ((batchPool[smallest] as Buffer).length < size) batchPool[smallest] = free;
  }

  private newSlab(need: number): void {
    // A slab whose pieces are still queued on the socket is never reused (see release).
    const spare = this.spareSlab;
    this.spareSlab = undefined;
    if (spare !== undefined && need <= spare.length) this.slab = spare;
    else this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, need));
    this.words = new Int32Array(this.slab.buffer, 0, this.slab.buffer.byteLength >> 2);
    this.pos = 0;
  }
}

// What ws (and the frame encoder) take from node:crypto, without loading node:crypto: random
// bytes for handshake keys and masking keys, and SHA-1 for the handshake's accept key. Loading
// node:crypto costs 2 ms on Node 20 and 4 ms on Node 24 (fifteen internal modules), a tenth of a
// ws:// first echo; a wss:// run loads it anyway for TLS. The build points ws's `require('crypto')`
// here (scripts/build.mts, which checks ws uses nothing else).
// * Random bytes come from the operating system's CSPRNG, /dev/urandom (RFC 6455 §5.3 and
//   §4.1 ask for a strong source of entropy), read 8 KiB at a time. Without it (Windows),
//   node:crypto's randomFillSync.
// * SHA-1 (FIPS 180-4) is computed here for the handshake's short strings; any other algorithm
//   goes to node:crypto.

import { closeSync, openSync, readSync } from 'node:fs';
import { builtin } from './builtin.js';

type NodeCrypto = typeof import('node:crypto');
const nodeCrypto = (): NodeCrypto => builtin<NodeCrypto>('node:crypto');

const POOL = 8192;
let pool: Buffer | undefined;
let poolPos = POOL;
/** /dev/urandom's fd; -1 once it proved unusable (then node:crypto). */
let urandom: number | undefined;

/** Fill `out[offset..offset+size)` with bytes from the OS CSPRNG. */
function fillFromOs(out: Uint8Array, offset: number, size: number): void {
  if (urandom === undefined) {
    try {
      urandom = openSync('/dev/urandom', 'r');
    } catch {
      urandom = -1;
    }
  }
  if (urandom >= 0) {
    try {
      let done = 0;
      while (done < size) {
        const n = readSync(urandom, out, offset + done, size - done, null);
        if (n <= 0) throw new Error('short read from /dev/urandom');
        done += n;
      }
      return;
    } catch {
      try {
        closeSync(urandom);
      } catch {
        // already gone
      }
      urandom = -1;
    }
  }
  nodeCrypto().randomFillSync(out, offset, size);
}

/** crypto.randomFillSync(buf, offset, size), from the pool (refilled 8 KiB at a time). */
export function randomFillSync<T extends Uint8Array>(
  buf: T,
  offset = 0,
  size = buf.length - offset,
): T {
  if (size > POOL / 2) {
    fillFromOs(buf, offset, size);
    return buf;
  }
  if (poolPos + size > POOL) {
    pool ??= Buffer.allocUnsafeSlow(POOL);
    fillFromOs(pool, 0, POOL);
    poolPos = 0;
  }
  // The pool's bytes are handed out once: it is refilled whole when they run out.
  (pool as Buffer).copy(buf, offset, poolPos, poolPos + size);
  poolPos += size;
  return buf;
}

/** crypto.randomBytes(n), synchronous form (the only one ws uses). */
export function randomBytes(n: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(n));
}

/** A SHA-1 (FIPS 180-4) of everything given to update(). */
class Sha1 {
  private readonly h = new Int32Array([
    0x67452301,
    0xefcdab89 | 0,
    0x98badcfe | 0,
    0x10325476,
    0xc3d2e1f0 | 0,
  ]);
  private readonly w = new Int32Array(80);
  private readonly block = Buffer.alloc(64);
  private used = 0;
  private total = 0;

  update(data: string | Uint8Array, encoding?: BufferEncoding): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : data;
    this.total += bytes.length;
    let i = 0;
    while (i < bytes.length) {
      const n = Math.min(64 - this.used, bytes.length - i);
      this.block.set(bytes.subarray(i, i + n), this.used);
      this.used += n;
      i += n;
      if (this.used === 64) {
        this.compress();
        this.used = 0;
      }
    }
    return this;
  }

  digest(): Buffer;
  digest(encoding: BufferEncoding): string;
  digest(encoding?: BufferEncoding): Buffer | string {
    const bits = this.total * 8;
    this.block[this.used++] = 0x80;
    if (this.used > 56) {
      this.block.fill(0, this.used);
      this.compress();
      this.used = 0;
    }
    this.block.fill(0, this.used, 56);
    this.block.writeUInt32BE(Math.floor(bits / 2 ** 32) >>> 0, 56);
    this.block.writeUInt32BE(bits >>> 0, 60);
    this.compress();
    const out = Buffer.alloc(20);
    for (let k = 0; k < 5; k++) out.writeInt32BE(this.h[k] as number, k * 4);
    return encoding ? out.toString(encoding) : out;
  }

  private compress(): void {
    const { w, h, block } = this;
    // Plain byte loads: Buffer#readInt32BE goes through Node's argument checks, which allocate
    // on every call (1.6 KB per handshake, a listening server's garbage).
    for (let t = 0, p = 0; t < 16; t++, p += 4)
      w[t] =
        ((block[p] as number) << 24) |
        ((block[p + 1] as number) << 16) |
        ((block[p + 2] as number) << 8) |
        (block[p + 3] as number);
    for (let t = 16; t < 80; t++) {
      const x =
        (w[t - 3] as number) ^ (w[t - 8] as number) ^ (w[t - 14] as number) ^ (w[t - 16] as number);
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d = h[3] as number;
    let e = h[4] as number;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + (w[t] as number)) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h[0] = ((h[0] as number) + a) | 0;
    h[1] = ((h[1] as number) + b) | 0;
    h[2] = ((h[2] as number) + c) | 0;
    h[3] = ((h[3] as number) + d) | 0;
    h[4] = ((h[4] as number) + e) | 0;
  }
}

/** crypto.createHash: SHA-1 here, any other algorithm from node:crypto. */
export function createHash(
  algorithm: string,
): Pick<import('node:crypto').Hash, 'update' | 'digest'> {
  if (algorithm.toLowerCase() === 'sha1') return new Sha1() as never;
  return nodeCrypto().createHash(algorithm);
}

// src/crypto-lite.ts, what ws takes from node:crypto in a bundled run: SHA-1 against node's own,
// random bytes that are bytes of the OS CSPRNG (never repeated, every value occurring).

import * as nodeCrypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes, randomFillSync } from '../../src/crypto-lite.js';

describe('crypto-lite', () => {
  it('SHA-1 equals node:crypto on every length around the block edges, in one or many updates', () => {
    for (let len = 0; len < 300; len++) {
      const data = nodeCrypto.randomBytes(len);
      const want = nodeCrypto.createHash('sha1').update(data).digest('hex');
      expect(createHash('sha1').update(data).digest('hex')).toBe(want);
      const h = createHash('sha1');
      for (let i = 0; i < len; i += 1 + (i % 7)) h.update(data.subarray(i, i + 1 + (i % 7)));
      expect(h.digest('hex')).toBe(want);
    }
    // The WebSocket handshake (RFC 6455 §1.3): the sample key's accept value.
    const accept = createHash('sha1')
      .update('dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
    expect(accept).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(createHash('SHA1').update('abc').digest()).toEqual(
      nodeCrypto.createHash('sha1').update('abc').digest(),
    );
  });

  it('other algorithms go to node:crypto', () => {
    expect(createHash('sha256').update('abc').digest('hex')).toBe(
      nodeCrypto.createHash('sha256').update('abc').digest('hex'),
    );
  });

  it('random bytes: right lengths and offsets, no repeats, every byte value', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomBytes(16).toString('hex'));
    expect(seen.size).toBe(5000);
    const big = randomBytes(100_000);
    const counts = new Array<number>(256).fill(0);
    for (const b of big) counts[b] = (counts[b] as number) + 1;
    // 100,000 bytes: each value about 390 times; a stuck or biased source is far off.
    expect(Math.min(...counts)).toBeGreaterThan(250);
    expect(Math.max(...counts)).toBeLessThan(550);
    const buf = Buffer.alloc(32);
    randomFillSync(buf, 8, 16);
    expect(buf.subarray(0, 8).every((v) => v === 0)).toBe(true);
    expect(buf.subarray(24).every((v) => v === 0)).toBe(true);
    expect(buf.subarray(8, 24).some((v) => v !== 0)).toBe(true);
  });
});

// BatchedWriter (src/io.ts), the receive side's fast path: small writes copied into slabs, big
// ones by reference, writeLine without a concatenation; the bytes and their order never change.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BatchedWriter } from '../../src/io.js';

/** A stream that keeps what it is given; `hold` makes write() report back-pressure. */
function sink(highWaterMark = 1 << 30) {
  const parts: Buffer[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, done) {
      parts.push(Buffer.from(chunk));
      setImmediate(done);
    },
  });
  return { stream, bytes: () => Buffer.concat(parts), writes: () => parts.length };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('BatchedWriter', () => {
  it('keeps bytes and order across slabs, strings (multi-byte), Buffers and lines', async () => {
    const s = sink();
    const w = new BatchedWriter(s.stream);
    const want: Buffer[] = [];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      const kind = rand(5);
      const size = rand(10) === 0 ? rand(40_000) : rand(300);
      if (kind === 0) {
        // 1-, 2-, 3- and 4-byte UTF-8 characters, the last possibly at a slab's edge.
        const t = `${i}:${'aé€😀'.repeat(size >> 2)}`;
        w.write(t);
        want.push(Buffer.from(t));
      } else if (kind === 1) {
        const b = Buffer.alloc(size, i & 0xff);
        w.writeLine(b);
        want.push(b, Buffer.from('\n'));
      } else {
        const b = Buffer.alloc(size + 1, (i * 7) & 0xff);
        w.write(b);
        want.push(b);
      }
      if (rand(50) === 0) await tick();
    }
    await w.end();
    expect(s.bytes().equals(Buffer.concat(want))).toBe(true);
  });

  it('many small writes in one turn become few stream writes', async () => {
    const s = sink();
    const w = new BatchedWriter(s.stream);
    for (let i = 0; i < 10_000; i++) w.writeLine(Buffer.from(`line ${i}`));
    await w.end();
    expect(s.bytes().toString().split('\n')).toHaveLength(10_001);
    // 10,000 lines of ~10 bytes fit in two 64 KiB slabs.
    expect(s.writes()).toBeLessThanOrEqual(3);
  });

  it('a caller’s buffer may be reused once write() returns (small ones are copied)', async () => {
    const s = sink();
    const w = new BatchedWriter(s.stream);
    const b = Buffer.from('first');
    w.write(b);
    b.write('XXXXX');
    w.writeLine(b);
    await w.end();
    expect(s.bytes().toString()).toBe('firstXXXXX\n');
  });

  it('reports back-pressure and its end', async () => {
    const s = sink(1024);
    const seen: boolean[] = [];
    const w = new BatchedWriter(s.stream, { onPressure: (blocked) => seen.push(blocked) });
    w.write(Buffer.alloc(100_000, 1));
    expect(seen).toEqual([true]);
    await w.end();
    expect(seen).toEqual([true, false]);
    expect(s.bytes().length).toBe(100_000);
  });

  it('drops writes to a destroyed stream', async () => {
    const s = sink();
    const w = new BatchedWriter(s.stream);
    s.stream.destroy();
    w.write('lost');
    w.writeLine(Buffer.from('lost'));
    await w.end();
    expect(s.bytes().length).toBe(0);
  });
});

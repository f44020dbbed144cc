// The batched pipe end to end: stdin arriving in pieces that cut lines and UTF-8 characters
// anywhere; a ws server sees every line once, whole, in order, and valid text (ws closes with
// 1007 otherwise), against servers with and without permessage-deflate.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runCli } from '../helpers/cli.js';

/** Emits `data` in pieces of varying size, a turn apart, so the reader sees separate chunks. */
function trickle(data: Buffer, seed: number): Readable {
  let pos = 0;
  let x = seed;
  return new Readable({
    read() {
      if (pos >= data.length) {
        this.push(null);
        return;
      }
      x = (x * 1103515245 + 12345) >>> 0;
      const n = 1 + (x % (x % 3 === 0 ? 70_000 : 700));
      const piece = data.subarray(pos, pos + n);
      pos += n;
      setImmediate(() => this.push(piece));
    },
  });
}

function lines(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = ['é', '€', '😀', 'x', 'ü€'][i % 5]?.repeat(
      (i * 31) % (i % 97 === 0 ? 30_000 : 60),
    );
    out.push(`${i} ${body}`);
  }
  return out;
}

describe.each([false, true])('pipe batches across chunk edges (deflate server: %s)', (deflate) => {
  let wss: WebSocketServer;
  let url: string;
  const received: string[] = [];
  const closes: number[] = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    wss.on('connection', (ws) => {
      ws.on('message', (d, binary) => {
        if (!binary) received.push(d.toString());
        ws.send(d, { binary });
      });
      ws.on('close', (code) => closes.push(code));
    });
  });
  afterAll(() => new Promise<void>((r) => wss.close(() => r())));

  it('every line arrives once, whole and in order; the echoes come back byte-exact', async () => {
    received.length = 0;
    const sent = lines(3000);
    const input = Buffer.from(`${sent.join('\n')}\n`);
    const r = await runCli([url, '--count', String(sent.length)], {
      input: trickle(input, deflate ? 11 : 5),
      timeoutMs: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(received).toEqual(sent);
    expect(r.stdout.equals(input)).toBe(true);
    expect(closes.at(-1)).toBe(1000);
  }, 60_000);

  it('stdin from a file (read on the main thread, 64 KiB at a time) is lossless from its offset', async () => {
    received.length = 0;
    const sent = lines(5000);
    const skipped = 'skipped by the shell\n';
    const body = Buffer.from(`${sent.join('\n')}\n`);
    // Well past one 64 KiB read, and not a multiple of it.
    expect(body.length).toBeGreaterThan(3 * 65536);
    const dir = mkdtempSync(join(tmpdir(), 'wsx-file-stdin-'));
    const path = join(dir, 'in.txt');
    writeFileSync(path, Buffer.concat([Buffer.from(skipped), body]));
    const r = await runCli([url, '--count', String(sent.length)], {
      stdinFile: { path, offset: skipped.length },
      timeoutMs: 60_000,
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(received).toEqual(sent);
    expect(r.stdout.equals(body)).toBe(true);
  }, 60_000);

  it('-b: binary lines cut anywhere arrive byte-exact', async () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < 2000; i++)
      chunks.push(Buffer.from([14 + (i % 240), 0xff, 0xfe, 14 + ((i * 7) % 240), 0x0a]));
    const input = Buffer.concat(chunks);
    const r = await runCli([url, '-b', '--count', '2000'], {
      input: trickle(input, 3),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    // Each message is its 4 bytes (not UTF-8; no byte is a terminator): raw output adds nothing.
    expect(r.stdout.equals(Buffer.concat(chunks.map((c) => c.subarray(0, 4))))).toBe(true);
  }, 60_000);
});

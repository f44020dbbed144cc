// The built CLI's receive path (ws's Receiver, whose consume() the build patches to keep an
// offset into the first chunk instead of a new view of the rest: scripts/build.mts) fed by a
// server that writes its frames a few bytes at a time: every header, length and payload split
// across reads, fragments with a ping between them, UTF-8 cut inside a character.

import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { acceptResponse, frame, type TestServer, tcpServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

/** Text messages of every header form (7-bit, 16-bit, 64-bit lengths), around the edges. */
const LENGTHS = [0, 1, 2, 3, 125, 126, 127, 128, 1000, 65535, 65536, 70001];
const text = (i: number, len: number) => {
  const tag = `m${i}:`;
  return len <= tag.length ? tag.slice(0, len) : tag + 'x'.repeat(len - tag.length);
};
const UTF8 = 'héllo wörld € 😀 '.repeat(50);
/** Write sizes, in turn: small ones cut headers and characters, larger ones span payloads. */
const SIZES = [1, 2, 3, 4, 5, 7, 11, 13, 64, 1000, 4096, 9, 6];

/** The pongs the client sent (unmasked payloads). */
function pongs(data: Buffer): string[] {
  const out: string[] = [];
  let p = 0;
  while (p + 6 <= data.length) {
    const op = (data[p] as number) & 0x0f;
    let len = (data[p + 1] as number) & 0x7f;
    let at = p + 2;
    if (len === 126) {
      len = data.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(at));
      at += 8;
    }
    const mask = data.subarray(at, at + 4);
    const payload = Buffer.from(data.subarray(at + 4, at + 4 + len));
    for (let k = 0; k < payload.length; k++)
      payload[k] = (payload[k] as number) ^ (mask[k & 3] as number);
    if (op === 0xa) out.push(payload.toString());
    p = at + 4 + len;
  }
  return out;
}

describe('receiving frames split across many reads', () => {
  it('every message arrives whole and in order, pings are answered, the close is clean', async () => {
    const messages = LENGTHS.map((len, i) => text(i, len));
    const stream = Buffer.concat([
      ...messages.map((m) => frame(0x1, Buffer.from(m))),
      // A fragmented message with a ping between its fragments (RFC 6455 §5.4).
      frame(0x1, Buffer.from('frag-a '), false),
      frame(0x9, Buffer.from('p1')),
      frame(0x0, Buffer.from('frag-b '), false),
      frame(0x0, Buffer.from('frag-c'), true),
      frame(0x1, Buffer.from(UTF8)),
      frame(0x2, Buffer.from([0x00, 0xff, 0x10, 0x0a, 0x41])),
      frame(0x8, Buffer.from([0x03, 0xe8])),
    ]);
    let fromClient = Buffer.alloc(0);
    const s = await tcpServer((socket: Socket, request) => {
      socket.setNoDelay(true);
      socket.on('data', (d: Buffer) => {
        fromClient = Buffer.concat([fromClient, d]);
      });
      socket.write(acceptResponse(request));
      void (async () => {
        let p = 0;
        for (let k = 0; p < stream.length; k++) {
          const n = SIZES[k % SIZES.length] as number;
          socket.write(stream.subarray(p, p + n));
          p += n;
          // A pause after each small write, so that most of them arrive as reads of their own.
          if (n < 64) await sleep(1);
          else await new Promise((r) => setImmediate(r));
        }
      })();
    });
    servers.push(s);
    const r = await runCli([s.url, '-w', '-1'], { input: '', timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const want = Buffer.concat([
      Buffer.from(
        [...messages, 'frag-a frag-b frag-c', UTF8].map((m) => `${m}\n`).join(''),
        'utf8',
      ),
      // A binary message: its bytes, nothing added (SPEC §3).
      Buffer.from([0x00, 0xff, 0x10, 0x0a, 0x41]),
    ]);
    expect(r.stdout.length).toBe(want.length);
    expect(r.stdout.equals(want)).toBe(true);
    expect(pongs(fromClient)).toEqual(['p1']);
  });
});

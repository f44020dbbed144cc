// The REPL over injected streams, for the lifecycle defects of issue 9: quitting during back-off,
// /file's limits, /close's reason, and listen mode's /quit with an unmet --count.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOptions, type RawFlags } from '../../src/options.js';
import { run } from '../../src/run.js';
import { parseClose } from '../../src/session/commands.js';
import { wsServer } from '../fixtures/servers.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tracker } from '../helpers/spawn.js';

const track = tracker();
const noSignals = { onSignal: () => () => {} };
const tty = { stdinIsTTY: true, stdoutIsTTY: true, stderrIsTTY: true, env: { NO_COLOR: '1' } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; waited < ms && !pred(); waited += 20) await sleep(20);
}

function repl(flags: RawFlags) {
  const io = memoryIo({ tty: true, env: { NO_COLOR: '1' } });
  const options = parseOptions({ history: false, ...flags }, tty);
  const done = run(options, io, noSignals);
  return { io, done, type: (text: string) => io.input.write(text) };
}

describe('quitting during --reconnect back-off (defect 7)', () => {
  it('/quit while waiting to reconnect ends the run at once', async () => {
    let n = 0;
    const s = await track(
      wsServer((ws) => {
        n++;
        setTimeout(() => ws.terminate(), 100);
      }),
    );
    const { io, done, type } = repl({ url: s.url, reconnect: true });
    await until(() => io.err().includes('reconnecting in'));
    const started = Date.now();
    type('/quit\r');
    const code = await done;
    expect(Date.now() - started).toBeLessThan(2000);
    // The user quit: exit 0 (the drop was going to be retried, so it decides nothing).
    expect(code).toBe(0);
    // No new connection after the quit.
    await sleep(800);
    expect(n).toBe(1);
  });

  it('Ctrl-D while waiting to reconnect ends the run too', async () => {
    let n = 0;
    const s = await track(
      wsServer((ws) => {
        n++;
        setTimeout(() => ws.terminate(), 100);
      }),
    );
    const { io, done, type } = repl({ url: s.url, reconnect: true });
    await until(() => io.err().includes('reconnecting in'));
    type('\x04');
    const code = await Promise.race([done, sleep(3000).then(() => 'hung')]);
    expect(code).toBe(0);
    await sleep(800);
    expect(n).toBe(1);
  });
});

describe('/file limits (defect 15)', () => {
  it('refuses a directory, a non-regular file and a file above --max-message-size', async () => {
    const got: Buffer[] = [];
    const s = await track(wsServer((ws) => ws.on('message', (d) => got.push(d as Buffer))));
    const dir = mkdtempSync(join(tmpdir(), 'wsx-file-'));
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(2048, 1));
    const small = join(dir, 'small.bin');
    writeFileSync(small, Buffer.from([1, 2, 3]));
    const { io, done, type } = repl({ url: s.url, maxMessageSize: '1K' });
    await until(() => io.out().includes('Connected'));
    type(`/file ${dir}\r`);
    type('/file /dev/zero\r');
    type(`/file ${big}\r`);
    type(`/file ${small}\r`);
    await until(() => got.length === 1);
    expect(io.err()).toContain('it is a directory');
    expect(io.err()).toContain("cannot send '/dev/zero': not a regular file");
    expect(io.err()).toMatch(/2048 bytes is more than --max-message-size \(1024\)/);
    expect(got).toEqual([Buffer.from([1, 2, 3])]);
    type('/quit\r');
    expect(await done).toBe(0);
  });
});

describe('/close reason (defect 17)', () => {
  it('keeps the spaces inside and at the end; surrounding quotes are removed', () => {
    expect(parseClose('3000 a  b  ')).toEqual({ code: 3000, reason: 'a  b  ' });
    expect(parseClose('  4001   "quoted  reason "')).toEqual({
      code: 4001,
      reason: 'quoted  reason ',
    });
    expect(parseClose('')).toEqual({ code: 1000, reason: '' });
  });

  it('the server sees the reason as typed', async () => {
    const reasons: string[] = [];
    const s = await track(wsServer((ws) => ws.on('close', (_c, r) => reasons.push(String(r)))));
    const { io, done, type } = repl({ url: s.url });
    await until(() => io.out().includes('Connected'));
    type('/close 3000 a  b  \r');
    // We closed: the server's echo of our code is not a server error.
    expect(await done).toBe(0);
    await until(() => reasons.length === 1);
    expect(reasons).toEqual(['a  b  ']);
  });
});

describe('listen mode and the client share one lifecycle (defect 16)', () => {
  it('/quit with an unmet --count is exit 4 in listen mode, as in client mode', async () => {
    const { io, done, type } = repl({ listen: '0', count: '5' });
    await until(() => io.out().includes('Listening on'));
    type('/quit\r');
    expect(await done).toBe(4);
    expect(io.err()).toContain('not satisfied: --count 5');
  });
});

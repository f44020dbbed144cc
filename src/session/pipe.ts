// Pipe and execute sessions: stdin (or -x messages) → frames, with back-pressure; frames in →
// the renderer. Reading stops while the socket's send buffer is full, and goes on across a
// --reconnect: input read meanwhile is queued by the driver and sent in order (issue 9, 1).

import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { monotonicMs } from '../clock.js';
import type { Ending } from '../errors.js';
import type { SessionOptions } from '../options.js';
import type { ReplayMessage } from '../recording.js';
import type { Driver } from './driver.js';
import { MessageBatch, Splitter } from './framing.js';

/** Stop reading input above this many locally buffered bytes; resume below the low mark. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
/** setTimeout's limit (2^31 - 1 ms, 24.8 days): longer waits are slept in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface PipeInput {
  /** stdin for pipe mode; undefined for execute mode (stdin is never touched). */
  stdin: (() => Readable) | undefined;
  /** --replay: timed messages instead of -x. */
  replay?: ReplayMessage[];
}

async function sleep(ms: number): Promise<void> {
  while (ms > 0) {
    const step = Math.min(ms, MAX_TIMER_MS);
    await new Promise((r) => setTimeout(r, step));
    ms -= step;
  }
}

export async function runPipe(
  ctl: Driver,
  session: SessionOptions,
  input: PipeInput,
): Promise<Ending> {
  if (!(await ctl.open())) return ctl.ended;
  if (input.replay || session.mode === 'execute' || !input.stdin) {
    // The run may end (--timeout, the server) while a message waits for its time.
    await Promise.race([runMessages(ctl, session, input.replay), ctl.ended]);
    return ctl.ended;
  }
  return runStdin(ctl, session, input.stdin());
}

/** -x messages, or a recording: a timed list sent on every connection (SPEC §6). */
async function runMessages(
  ctl: Driver,
  session: SessionOptions,
  replay: ReplayMessage[] | undefined,
): Promise<void> {
  // -x messages are a recording whose messages all start at once.
  const messages =
    replay ??
    session.execute.map((m) => ({ at: 0, data: Buffer.from(m, 'utf8'), binary: session.binary }));
  const speed = replay ? (session.replay?.speed ?? 1) : 0;
  const generation = () => ctl.generation ?? 0;
  const sendAll = async () => {
    // A reconnect starts a new round; this one stops (no duplicates, no interleaving: defect 10).
    const mine = generation();
    const start = monotonicMs();
    for (const msg of messages) {
      if (speed > 0) {
        const wait = start + msg.at / speed - monotonicMs();
        if (wait > 0) await sleep(wait);
      }
      // Stop when the connection is gone: the next one (if any) starts its own round.
      if (ctl.isFinished || generation() !== mine || ctl.live === false) return;
      ctl.send(msg.data, msg.binary);
      if (ctl.bufferedAmount > HIGH_WATER) await ctl.waitForDrain(LOW_WATER);
    }
    await ctl.waitForDrain(0);
    if (generation() === mine) ctl.inputDone();
  };
  // --reconnect: the messages go again on every new connection (SPEC §6).
  if (ctl.kind === 'client') ctl.onReopened = () => void sendAll();
  await sendAll();
}

async function runStdin(ctl: Driver, session: SessionOptions, stdin: Readable): Promise<Ending> {
  const splitter = new Splitter(session.framing);
  let lineNo = 0;
  let warned = session.binary;
  let batch: Buffer[] = [];
  const collect = (message: Buffer) => {
    batch.push(message);
  };
  // Lines and NUL-terminated messages go as ranges of their chunk where the driver takes them.
  const ranges = ctl.sendBatch && session.framing !== 'whole' ? new MessageBatch() : undefined;
  /** Text frames must be UTF-8; many servers close with 1007 otherwise. Say why, once. */
  const checkUtf8 = (chunkOk: boolean) => {
    if (warned || chunkOk) {
      lineNo += batch.length;
      return;
    }
    for (const m of batch) {
      lineNo++;
      if (!warned && !isUtf8(m)) {
        warned = true;
        ctl.note(
          'warn',
          `input message ${lineNo} is not valid UTF-8 but goes as text; use -b to send binary frames`,
        );
      }
    }
  };
  const flush = (chunkOk: boolean) => {
    if (ranges !== undefined && ranges.count > 0) {
      if (warned || chunkOk) {
        lineNo += ranges.count;
        (ctl.sendBatch as NonNullable<Driver['sendBatch']>)(ranges, session.binary);
        ranges.clear();
        return;
      }
      // Not valid UTF-8 as a whole: find the message to name, one at a time.
      batch.push(...ranges.toBuffers());
      ranges.clear();
    }
    if (batch.length === 0) return;
    checkUtf8(chunkOk);
    const messages = batch;
    batch = [];
    if (ctl.sendMany) ctl.sendMany(messages, session.binary);
    else for (const m of messages) ctl.send(m, session.binary);
  };
  let stopping = false;
  // Reading is pull-based: the next chunk is not read until this one is handed to the socket and
  // the send buffer is below the high-water mark, so memory stays bounded.
  const reading = (async () => {
    try {
      for await (const chunk of stdin) {
        if (ctl.isFinished) return;
        const buf = chunk as Buffer;
        if (ranges !== undefined) splitter.pushBatch(buf, ranges);
        else splitter.push(buf, collect);
        // A chunk that is valid UTF-8 as a whole needs no per-line check (the common case).
        flush(warned || isUtf8(buf));
        if (ctl.bufferedAmount > HIGH_WATER) await ctl.waitForDrain(LOW_WATER);
      }
      if (ctl.isFinished) return;
      splitter.end(collect);
      flush(false);
      await ctl.waitForDrain(0);
      ctl.inputDone();
    } catch (err) {
      // The run ended and wsx stopped reading itself: that is not a failure (defect 11).
      if (stopping || ctl.isFinished) return;
      ctl.note('warn', `reading stdin failed: ${(err as Error).message}`);
      ctl.inputDone();
    }
  })();
  const ending = await ctl.ended;
  // Stop reading: the run is over (server closed, --count reached, ...).
  stopping = true;
  stdin.destroy();
  await reading.catch(() => {});
  return ending;
}

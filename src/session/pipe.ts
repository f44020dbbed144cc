// Pipe and execute sessions: stdin (or -x messages) → frames, with back-pressure; frames in →
// the renderer. Reading stops while the socket's send buffer is full.

import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { Ending } from '../errors.js';
import type { SessionOptions } from '../options.js';
import type { ReplayMessage } from '../recording.js';
import type { Driver } from './driver.js';
import { Splitter } from './framing.js';

/** Stop reading input above this many locally buffered bytes; resume below the low mark. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

export interface PipeInput {
  /** stdin for pipe mode; undefined for execute mode (stdin is never touched). */
  stdin: (() => Readable) | undefined;
  /** --replay: timed messages instead of -x. */
  replay?: ReplayMessage[];
}

export async function runPipe(
  ctl: Driver,
  session: SessionOptions,
  input: PipeInput,
): Promise<Ending> {
  if (!(await ctl.open())) return ctl.ended;
  // A client session stops feeding input when its one connection ends; a server keeps going.
  const gone = () => ctl.isFinished || (ctl.kind === 'client' && !ctl.connected);

  if (input.replay || session.mode === 'execute' || !input.stdin) {
    // -x messages are a recording whose messages all start at once.
    const messages =
      input.replay ??
      session.execute.map((m) => ({ at: 0, data: Buffer.from(m, 'utf8'), binary: session.binary }));
    const speed = input.replay ? (session.replay?.speed ?? 1) : 0;
    const sendAll = async () => {
      const start = performance.now();
      for (const msg of messages) {
        if (speed > 0) {
          const wait = start + msg.at / speed - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        if (gone()) break;
        ctl.send(msg.data, msg.binary);
        if (ctl.bufferedAmount > HIGH_WATER) await ctl.waitForDrain(LOW_WATER);
      }
      await ctl.waitForDrain(0);
      ctl.inputDone();
    };
    // --reconnect: the messages go again on every new connection (SPEC §6).
    if (ctl.kind === 'client') ctl.onReopened = () => void sendAll();
    await sendAll();
    return ctl.ended;
  }

  const stdin = input.stdin();
  const splitter = new Splitter(session.framing);
  let lineNo = 0;
  let warned = session.binary;
  const send = (message: Buffer) => {
    lineNo++;
    // Text frames must be UTF-8; many servers close with 1007 otherwise. Say why, once.
    if (!warned && !isUtf8(message)) {
      warned = true;
      ctl.note(
        'warn',
        `input message ${lineNo} is not valid UTF-8 but goes as text; use -b to send binary frames`,
      );
    }
    ctl.send(message, session.binary);
  };
  // Reading is pull-based: the next chunk is not read until this one is handed to the socket and
  // the send buffer is below the high-water mark, so memory stays bounded.
  const reading = (async () => {
    try {
      for await (const chunk of stdin) {
        if (gone()) return;
        splitter.push(chunk as Buffer, send);
        if (ctl.bufferedAmount > HIGH_WATER) await ctl.waitForDrain(LOW_WATER);
      }
      if (gone()) return;
      splitter.end(send);
      await ctl.waitForDrain(0);
      ctl.inputDone();
    } catch (err) {
      ctl.note('warn', `reading stdin failed: ${(err as Error).message}`);
      ctl.inputDone();
    }
  })();
  const ending = await ctl.ended;
  // Stop reading: the run is over (server closed, --count reached, ...).
  stdin.destroy();
  await reading.catch(() => {});
  return ending;
}

// --record / --replay (SPEC §6): a recording is the json event stream of §3; replay sends its
// outgoing messages again with their original spacing.

import { usageError } from './errors.js';

export interface ReplayMessage {
  /** ms after the first outgoing message */
  at: number;
  data: Buffer;
  binary: boolean;
}

/** Pure: the outgoing messages of a recording, in order, timed from the first. */
export function parseRecording(text: string, file: string): ReplayMessage[] {
  const out: ReplayMessage[] = [];
  let first: number | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    let ev: {
      event?: unknown;
      direction?: unknown;
      type?: unknown;
      time?: unknown;
      data?: unknown;
      base64?: unknown;
    };
    try {
      ev = JSON.parse(line);
    } catch {
      throw usageError(
        `--replay: line ${i + 1} of '${file}' is not JSON`,
        'replay takes a file written by --record or --json',
      );
    }
    // `null`, a number or an array parse as JSON but are not events.
    if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) {
      throw usageError(
        `--replay: line ${i + 1} of '${file}' is not a json event object`,
        'replay takes a file written by --record or --json',
      );
    }
    if (ev.event !== 'message' || ev.direction !== 'out') continue;
    const time = typeof ev.time === 'string' ? Date.parse(ev.time) : Number.NaN;
    if (Number.isNaN(time))
      throw usageError(`--replay: line ${i + 1} of '${file}' has no valid time`);
    let data: Buffer;
    if (typeof ev.data === 'string') data = Buffer.from(ev.data, 'utf8');
    else if (typeof ev.base64 === 'string') data = Buffer.from(ev.base64, 'base64');
    else throw usageError(`--replay: line ${i + 1} of '${file}' has neither data nor base64`);
    first ??= time;
    out.push({ at: time - first, data, binary: ev.type === 'binary' });
  }
  return out;
}

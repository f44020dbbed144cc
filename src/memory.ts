// Keeps a long run's memory flat: a full garbage collection after every few MiB of traffic, so
// socket read buffers and frame slabs (external memory, freed only by a full GC once they have
// survived a scavenge) cannot pile up towards V8's 64 MiB external-memory trigger. Measured:
// peak RSS receiving 3 M messages went from 100 MB to 72 MB (1 M: 75 → 70 MB), same CPU time.

import { builtin } from './builtin.js';

/** Traffic between two collections; a full GC of wsx's small heap takes a few ms. */
const EVERY_BYTES = 4 * 1024 * 1024;
/** And at most once a second (big messages at 100 MB/s would ask for one every 40 ms). */
const AT_MOST_EVERY_MS = 1000;

let collect: (() => void) | null | undefined;
let bytes = 0;
let last = 0;
let queued = false;

/** V8's gc(), exposed on demand (a new context gets the `gc` global once the flag is set). */
function gcFunction(): (() => void) | null {
  try {
    builtin<typeof import('node:v8')>('node:v8').setFlagsFromString('--expose-gc');
    const fn = builtin<typeof import('node:vm')>('node:vm').runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

const run = (): void => {
  queued = false;
  last = Date.now();
  collect?.();
};

/** Count `n` bytes sent or received; past the threshold, collect after the current batch. */
export function noteTraffic(n: number): void {
  bytes += n;
  if (bytes < EVERY_BYTES || queued) return;
  bytes = 0;
  if (Date.now() - last < AT_MOST_EVERY_MS) return;
  if (collect === undefined) collect = gcFunction();
  if (collect === null) return;
  queued = true;
  setImmediate(run);
}

// Keeps memory flat: a garbage collection after every few MiB of traffic. Socket read buffers,
// stdin chunks and received messages are external memory (malloc'd), freed only when V8 collects
// the objects holding them; left to V8, they pile up towards its 64 MiB external-memory trigger,
// and once malloc has grown its heap for them the process keeps that memory.
// * Every 4 MiB: a young-generation collection (a fraction of a millisecond), which frees the
//   buffers that died young. Peak RSS piping 2,000 × 64 KiB lines: 90 → 67 MiB.
// * At most once a second, not in the first: a full collection instead, for those that lived
//   longer. Peak RSS receiving 3 M messages: 100 → 72 MB (1 M: 75 → 70 MB), same CPU time. A
//   run shorter than a second does not pay the 5–8 ms of one.

import { builtin } from './builtin.js';

/** Traffic between two collections. */
const EVERY_BYTES = 4 * 1024 * 1024;
/** A full collection at most this often (big messages at 100 MB/s would ask every 40 ms). */
const FULL_AT_MOST_EVERY_MS = 1000;

type Collect = (options?: { type: 'minor' | 'major' }) => void;

let collect: Collect | null | undefined;
let bytes = 0;
let lastFull = Date.now();
let queued = false;

/**
 * V8's gc(), exposed on demand (a new context gets the `gc` global once the flag is set). The flag
 * is turned off again at once: V8 keys a code cache on a hash of all its flags, so a cache that
 * bin/wsx.js wrote at the exit of a run with `--expose-gc` still on was rejected by every later
 * run (which then compiled the whole bundle and wrote the cache again). The function keeps working.
 */
function gcFunction(): Collect | null {
  const v8 = builtin<typeof import('node:v8')>('node:v8');
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = builtin<typeof import('node:vm')>('node:vm').runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as Collect) : null;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

const run = (): void => {
  queued = false;
  const now = Date.now();
  if (now - lastFull >= FULL_AT_MOST_EVERY_MS) {
    lastFull = now;
    collect?.();
  } else collect?.({ type: 'minor' });
};

/** Count `n` bytes sent or received; past the threshold, collect after the current batch. */
export function noteTraffic(n: number): void {
  bytes += n;
  if (bytes < EVERY_BYTES || queued) return;
  bytes = 0;
  if (collect === undefined) collect = gcFunction();
  if (collect === null) return;
  queued = true;
  setImmediate(run);
}

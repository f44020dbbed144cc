// The collections after every few MiB of traffic (src/memory.ts), observed through node's own GC
// performance entries: a young-generation one per 4 MiB, a full one at most once a second and
// not in the run's first second.

import { constants, PerformanceObserver } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';

const MiB = 1024 * 1024;

/**
 * Forced (gc()) minor and major collections while `during` runs, waiting a moment for the
 * entries; V8's own collections are not forced, so they do not count.
 */
async function gcs(during: () => void): Promise<{ minor: number; major: number }> {
  const seen = { minor: 0, major: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as unknown as { detail?: { kind?: number; flags?: number } }).detail;
      if (((detail?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) === 0) continue;
      const kind = detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) seen.major++;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) seen.minor++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  during();
  // The collection runs from setImmediate; entries are delivered asynchronously.
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  return seen;
}

describe('memory: collections per 4 MiB of traffic', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('young ones per 4 MiB; a full one only after the first second, then at most once a second', async () => {
    const start = Date.now();
    const { noteTraffic } = await import('../../src/memory.js');
    expect((await gcs(() => noteTraffic(3 * MiB))).minor).toBe(0);
    // The first second: a young-generation collection only (a short run never pays for more).
    const first = await gcs(() => noteTraffic(2 * MiB));
    expect(first.minor).toBe(1);
    expect(first.major).toBe(0);
    vi.spyOn(Date, 'now').mockReturnValue(start + 1500);
    expect(await gcs(() => noteTraffic(3 * MiB))).toEqual({ minor: 0, major: 0 });
    expect(await gcs(() => noteTraffic(2 * MiB))).toEqual({ minor: 0, major: 1 });
    // Not again within the second, whatever the traffic: young collections instead.
    const again = await gcs(() => noteTraffic(64 * MiB));
    expect(again.major).toBe(0);
    expect(again.minor).toBe(1);
    vi.spyOn(Date, 'now').mockReturnValue(start + 3000);
    expect(await gcs(() => noteTraffic(5 * MiB))).toEqual({ minor: 0, major: 1 });
  });
});

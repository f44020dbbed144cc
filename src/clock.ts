// A monotonic clock in milliseconds without the `performance` global, whose first use loads
// perf_hooks and its seven internal modules (a few ms of every start-up).

export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

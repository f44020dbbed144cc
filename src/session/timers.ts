// Timers a session owns, all cancelled at once when the run ends.

export class Timers {
  private readonly live = new Set<NodeJS.Timeout>();

  /** Run `fn` after `ms`, unless clearAll() comes first. */
  after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.live.delete(t);
      fn();
    }, ms);
    this.live.add(t);
    return t;
  }

  clear(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.live.delete(t);
  }

  clearAll(): void {
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}

// --count / --expect: when has the run received what it was waiting for?

import type { SessionOptions } from '../options.js';

export class Goal {
  readonly active: boolean;
  received = 0;
  met = false;

  constructor(private readonly session: Pick<SessionOptions, 'count' | 'expect'>) {
    this.active = session.count !== undefined || session.expect !== undefined;
  }

  /** Count a received message; true when this message meets the goal. */
  record(data: Buffer, binary: boolean): boolean {
    this.received++;
    const { count, expect } = this.session;
    const hit =
      (count !== undefined && this.received >= count) ||
      (expect !== undefined && !binary && expect.test(data.toString('utf8')));
    if (hit) this.met = true;
    return hit;
  }

  get unmet(): boolean {
    return this.active && !this.met;
  }

  describe(): string {
    const { count, expect } = this.session;
    if (count !== undefined) return `--count ${count}: received ${this.received} message(s)`;
    return `--expect ${expect?.source ?? ''}: no received text message matched`;
  }
}

// --count / --expect: when has the run received what it was waiting for? Counts application
// messages only (a layer's control frames do not count) and sees what layers decoded: a
// dialect's line, a decoder's JSON, a filter's output values (SPEC §12, §17).

import type { SessionOptions } from '../options.js';
import type { MessageView } from '../peer.js';

export class Goal {
  readonly active: boolean;
  received = 0;
  met = false;

  constructor(private readonly session: Pick<SessionOptions, 'count' | 'expect'>) {
    this.active = session.count !== undefined || session.expect !== undefined;
  }

  /** Count a received message; true when this message meets the goal. */
  record(data: Buffer, binary: boolean, view?: MessageView): boolean {
    if (view?.control) return false;
    const { count, expect } = this.session;
    let texts: string[];
    if (view?.filtered !== undefined) {
      texts = view.filtered.map((v) => JSON.stringify(v) ?? 'null');
      this.received += texts.length;
    } else {
      this.received++;
      texts =
        view?.text !== undefined ? [view.text] : binary || !expect ? [] : [data.toString('utf8')];
    }
    const hit =
      (count !== undefined && this.received >= count) ||
      (expect !== undefined && texts.some((t) => expect.test(t)));
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

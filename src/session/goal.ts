// --count / --expect: when has the run received what it was waiting for? Counts application
// messages only (a layer's control frames do not count) and sees what layers decoded: a
// dialect's line, a decoder's JSON, a filter's output values (SPEC §12, §17).

import type { SessionOptions } from '../options.js';
import type { MessageView } from '../peer.js';
import { viewText } from '../views/unfiltered.js';

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
      const text = viewText(view);
      texts = text !== undefined ? [text] : binary || !expect ? [] : [data.toString('utf8')];
    }
    const hit =
      (count !== undefined && this.received >= count) ||
      (expect !== undefined && texts.some((t) => expect.test(t)));
    if (hit) this.met = true;
    return hit;
  }

  /**
   * --count n shows exactly n values: a filter's output beyond the count is cut off (the message
   * that reaches the count may carry more values than are still wanted).
   */
  limit(view: MessageView | undefined): MessageView | undefined {
    const { count } = this.session;
    if (count === undefined || view?.filtered === undefined) return view;
    const left = count - this.received;
    if (view.filtered.length <= left) return view;
    const filtered = view.filtered.slice(0, Math.max(0, left));
    return {
      ...view,
      filtered,
      text: filtered.map((v) => JSON.stringify(v) ?? 'null').join('\n'),
    };
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

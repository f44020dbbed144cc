// The one lifecycle of a run, shared by client and listen mode: an explicit phase, the run's
// deadline (--timeout), the --count/--expect goal, and the only place that turns what happened
// into an Ending (and so an exit code).
//
//   idle → connecting → open → closing → (backoff → connecting …) → ended      (client)
//   idle → connecting (binding) → open (listening) → closing → ended          (listen)
//
// Everything that can end a run is recorded as a fact (an error, a close, a signal, an unmet
// goal, an application error); finish() picks the fact with the highest precedence of SPEC Part
// II: 2 > 1 > signal > 3 > 5 > 4 > 0.

import { type Ending, exitCodeFor, WsxError } from '../errors.js';
import type { WsxEvent } from '../events.js';
import type { LayerContext } from '../layers/layer.js';
import type { SessionOptions } from '../options.js';
import { Goal } from './goal.js';
import { Timers } from './timers.js';

export type Phase = 'idle' | 'connecting' | 'open' | 'closing' | 'backoff' | 'ended';

/** Allowed transitions; anything else is a bug, caught by the tests. */
const NEXT: Record<Phase, readonly Phase[]> = {
  idle: ['connecting', 'ended'],
  connecting: ['open', 'backoff', 'ended'],
  open: ['closing', 'backoff', 'connecting', 'ended'],
  closing: ['backoff', 'connecting', 'ended', 'open'],
  backoff: ['connecting', 'ended'],
  ended: [],
};

/** Exit codes from most to least important (signals rank below errors, above closes). */
const RANK = [2, 1, 130, 143, 3, 5, 4, 0];

function rank(ending: Ending): number {
  const i = RANK.indexOf(exitCodeFor(ending));
  return i === -1 ? RANK.length : i;
}

/** The fact of `a` and `b` that decides the exit code. */
export function weightier(a: Ending, b: Ending): Ending {
  return rank(b) < rank(a) ? b : a;
}

export type Emit = (event: WsxEvent) => void;

export interface LifecycleDeps {
  session: Pick<SessionOptions, 'count' | 'expect' | 'timeoutMs'>;
  emit: Emit;
  now: () => number;
  /** --timeout reached: the driver closes what is open (and then calls finish). */
  onDeadline: () => void;
}

export class Lifecycle {
  phase: Phase = 'idle';
  readonly ended: Promise<Ending>;
  readonly goal: Goal;
  readonly timers = new Timers();
  /** The signal that is ending the run, if any. */
  signal: 'SIGINT' | 'SIGTERM' | undefined;
  /** --timeout has passed. */
  deadlinePassed = false;
  private fact: Ending = { kind: 'done' };
  private resolveEnded!: (e: Ending) => void;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly deps: LifecycleDeps) {
    this.goal = new Goal(deps.session);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    const { timeoutMs } = deps.session;
    if (timeoutMs !== undefined) {
      this.timers.after(timeoutMs, () => {
        this.deadlinePassed = true;
        if (!this.finished) deps.onDeadline();
      });
    }
  }

  get finished(): boolean {
    return this.phase === 'ended';
  }

  to(phase: Phase): void {
    if (this.phase === phase) return;
    if (!NEXT[this.phase].includes(phase)) {
      throw new Error(`internal: lifecycle cannot go from ${this.phase} to ${phase}`);
    }
    this.phase = phase;
  }

  /** Remember something that decides the exit code (the weightiest fact wins). */
  record(fact: Ending): void {
    this.fact = weightier(this.fact, fact);
  }

  /** Record an error and show it. */
  fail(error: WsxError, client?: number): void {
    this.record({ kind: 'error', error });
    this.showError(error, client);
  }

  showError(err: WsxError, client?: number): void {
    this.deps.emit({
      time: this.deps.now(),
      event: 'error',
      message: client === undefined ? err.message : `#${client}: ${err.message}`,
      code: err.code,
      hint: err.hint,
      details: err.details,
    });
  }

  note(level: 'info' | 'warn', text: string): void {
    this.deps.emit({ time: this.deps.now(), event: 'note', level, text });
  }

  /** What the layers of this run may ask of it. */
  layerContext(verbose: ((line: string) => void) | undefined): LayerContext {
    return { now: this.deps.now, note: (level, text) => this.note(level, text), verbose };
  }

  /** Sleep for `ms` unless the run ends first (then resolve at once). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wakers.delete(wake);
        resolve();
      };
      this.wakers.add(wake);
      this.timers.after(ms, wake);
    });
  }

  /** The run is over: decide the Ending (with `fact` as one more fact) and resolve `ended`. */
  finish(fact?: Ending): void {
    if (this.finished) return;
    if (fact) this.record(fact);
    if (this.signal) this.record({ kind: 'signal', signal: this.signal });
    if (this.goal.unmet) this.record({ kind: 'unmet', what: this.goal.describe() });
    this.phase = 'ended';
    this.timers.clearAll();
    for (const wake of [...this.wakers]) wake();
    const ending = this.fact;
    if (ending.kind === 'unmet') {
      this.showError(new WsxError('io', `not satisfied: ${ending.what}`));
    }
    this.resolveEnded(ending);
  }
}

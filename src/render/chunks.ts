// Rendered output built in bounded pieces, so rendering a message stays linear in its size.

/**
 * Why: a 45 MB message escaped (and coloured) is hundreds of MB of text. One string that big hits
 * V8's string length limit (RangeError: Invalid string length), and one replace() over it costs
 * GBs of match bookkeeping. Renderers add small strings to a Chunks. Small output stays a string.
 * Past BIG characters the first pass only measures; a second pass writes into one Buffer of the
 * exact size: the output exists once, never as a list of pieces plus their concatenation.
 */
const BIG = 1 << 20;
/** Pending text is encoded (counted or written) in pieces of about this many characters. */
const FLUSH_AT = 1 << 16;

/** How much of a long string one step processes (escaping, JSON-encoding). */
export const SLICE = 1 << 16;

type Mode = 'collect' | 'count' | 'write';

export class Chunks {
  private pending = '';
  private mode: Mode;
  /** UTF-8 bytes counted or written so far (not including `pending`). */
  private bytes = 0;
  /** Characters added so far: budgets measure with this (the same in every pass). */
  chars = 0;

  /**
   * @param target  the writing pass: the Buffer to fill.
   * @param outcomes  the writing pass: the measuring pass's attempt() outcomes, in order.
   */
  constructor(
    private readonly target?: Buffer,
    readonly outcomes: boolean[] = [],
  ) {
    this.mode = target ? 'write' : 'collect';
  }

  add(s: string): void {
    this.pending += s;
    this.chars += s.length;
    if (this.pending.length >= (this.mode === 'collect' ? BIG : FLUSH_AT)) this.flush();
  }

  /** The output is too big to be a string: the caller makes a second, writing pass. */
  get measuring(): boolean {
    return this.mode === 'count';
  }

  get byteLength(): number {
    return this.bytes + Buffer.byteLength(this.pending);
  }

  private flush(): void {
    if (this.pending === '') return;
    if (this.mode === 'write') {
      this.bytes += (this.target as Buffer).write(this.pending, this.bytes);
    } else {
      // Collecting turned out too big: from here on only count.
      this.mode = 'count';
      this.bytes += Buffer.byteLength(this.pending);
    }
    this.pending = '';
  }

  /**
   * Output that may be abandoned (pretty JSON that turns out too deep): `fn` writes to a scratch
   * Chunks, added here when it returns true. The measuring pass records each outcome, so the
   * writing pass skips the attempts that failed and writes the others straight to the target.
   */
  attempt(fn: (out: Chunks) => boolean): boolean {
    if (this.mode === 'write') {
      const ok = this.outcomes.shift() === true;
      if (ok) fn(this);
      return ok;
    }
    const scratch = new Chunks();
    const ok = fn(scratch);
    this.outcomes.push(ok);
    if (ok) this.append(scratch);
    return ok;
  }

  /** Add what a scratch Chunks holds. */
  private append(other: Chunks): void {
    if (other.mode === 'collect') {
      this.add(other.pending);
      return;
    }
    this.flush();
    if (this.mode === 'collect') this.mode = 'count';
    this.bytes += other.byteLength;
    this.chars += other.chars;
  }

  /** Collecting: the text. */
  text(): string {
    return this.pending;
  }

  /** Writing: the target, filled. */
  finish(): Buffer {
    this.flush();
    return (this.target as Buffer).subarray(0, this.bytes);
  }
}

/**
 * Run a rendering function once to collect (or, when big, to measure) and, when big, once more
 * to write into a Buffer of the exact size. `fn` must be deterministic.
 */
export function build(fn: (out: Chunks) => void): string | Buffer {
  const first = new Chunks();
  fn(first);
  if (!first.measuring) return first.text();
  const out = new Chunks(Buffer.allocUnsafe(first.byteLength), first.outcomes);
  fn(out);
  return out.finish();
}

/**
 * Where to cut a long string near `end` without splitting a surrogate pair (escaping a half
 * alone would show a lone surrogate that is not there).
 */
export function sliceEnd(text: string, end: number): number {
  if (end >= text.length) return text.length;
  const c = text.charCodeAt(end - 1);
  return c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}

/** Call `fn` on consecutive slices of `text`, each at most SLICE code units long. */
export function eachSlice(text: string, fn: (slice: string) => void): void {
  if (text.length <= SLICE) {
    fn(text);
    return;
  }
  for (let start = 0; start < text.length; ) {
    const end = sliceEnd(text, start + SLICE);
    fn(text.slice(start, end));
    start = end;
  }
}

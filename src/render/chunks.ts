// Rendered output built in bounded pieces, so rendering a message stays linear in its size.

/**
 * Why: a 45 MB message escaped (and coloured) is hundreds of MB of text. One string that big hits
 * V8's string length limit (RangeError: Invalid string length), and one replace() over it costs
 * GBs of match bookkeeping. Renderers add small strings here; every FLUSH_AT characters they are
 * encoded into a Buffer, and a big result leaves as one Buffer, never as one string.
 */
const FLUSH_AT = 1 << 16;

/** How much of a long string one step processes (escaping, JSON-encoding). */
export const SLICE = 1 << 16;

export class Chunks {
  private pending = '';
  private parts: Buffer[] = [];
  private bytes = 0;
  /** Characters added so far (a budget measure, not a byte count). */
  chars = 0;

  add(s: string): void {
    this.pending += s;
    this.chars += s.length;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  /** Move everything from `other` to the end of this one. */
  append(other: Chunks): void {
    if (other.parts.length === 0) {
      this.add(other.pending);
      return;
    }
    this.flush();
    other.flush();
    this.parts.push(...other.parts);
    this.bytes += other.bytes;
    this.chars += other.chars;
  }

  private flush(): void {
    if (this.pending === '') return;
    const b = Buffer.from(this.pending, 'utf8');
    this.parts.push(b);
    this.bytes += b.length;
    this.pending = '';
  }

  /** A string when the result is small, else one Buffer. */
  done(): string | Buffer {
    if (this.parts.length === 0) return this.pending;
    this.flush();
    return this.parts.length === 1
      ? (this.parts[0] as Buffer)
      : Buffer.concat(this.parts, this.bytes);
  }
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

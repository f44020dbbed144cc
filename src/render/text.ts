// Pure helpers shared by the renderers: timestamps, sizes, hex dumps, payload previews, JSON.

import { isUtf8 } from 'node:buffer';
import { closeCodeName } from '../close-codes.js';
import { build, type Chunks, eachSlice, SLICE } from './chunks.js';
import { sanitize, sanitizeInto, sanitizeLine } from './sanitize.js';

export type Paint = (s: string) => string;

export interface Palette {
  dim: Paint;
  red: Paint;
  yellow: Paint;
  green: Paint;
  cyan: Paint;
  magenta: Paint;
  blue: Paint;
  bold: Paint;
}

const id: Paint = (s) => s;
export const PLAIN: Palette = {
  dim: id,
  red: id,
  yellow: id,
  green: id,
  cyan: id,
  magenta: id,
  blue: id,
  bold: id,
};

/** Local time as HH:MM:SS.mmm. */
export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** `code Name "reason"`, the name and reason only when there is one. Reason escaped. */
export function describeClose(code: number, reason: string, paint: Palette = PLAIN): string {
  const name = closeCodeName(code);
  let s = String(code);
  if (name !== '') s += ` ${name}`;
  if (reason !== '') s += ` "${sanitizeLine(reason, paint.dim)}"`;
  if (code === 1006) s += paint.dim(' (no close frame: the connection dropped)');
  return s;
}

/** Cut a buffer at most `max` bytes long on a UTF-8 character boundary. */
export function cutUtf8(buf: Buffer, max: number): Buffer {
  if (max <= 0 || buf.length <= max) return buf;
  let end = max;
  // Back up over continuation bytes so a multi-byte character is not split.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

const HEX_BYTES_PER_LINE = 16;
export const HEXDUMP_LIMIT = 512;

/** xxd-style lines: offset, 16 bytes in two groups of 8, ASCII column. */
export function hexdump(buf: Buffer, limit: number, paint: Palette = PLAIN): string[] {
  const shown = buf.subarray(0, Math.min(buf.length, limit));
  const lines: string[] = [];
  for (let off = 0; off < shown.length; off += HEX_BYTES_PER_LINE) {
    const row = shown.subarray(off, off + HEX_BYTES_PER_LINE);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < HEX_BYTES_PER_LINE; i++) {
      if (i === 8) hex += ' ';
      const b = row[i];
      if (b === undefined) {
        hex += '   ';
        continue;
      }
      hex += `${b.toString(16).padStart(2, '0')} `;
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push(
      `${paint.dim(off.toString(16).padStart(8, '0'))}  ${hex} ${paint.dim('|')}${ascii}${paint.dim('|')}`,
    );
  }
  if (buf.length > shown.length) {
    lines.push(paint.dim(`… ${buf.length - shown.length} B more (${buf.length} B in all)`));
  }
  return lines;
}

/** A control-frame payload as one escaped line: text when it is UTF-8, else hex. */
export function previewControl(data: Buffer, paint: Palette = PLAIN): string {
  if (data.length === 0) return '';
  if (isUtf8(data)) return sanitizeLine(data.toString('utf8'), paint.dim);
  return paint.dim(`0x${data.toString('hex')}`);
}

/** Deeper than this, JSON is shown on one line: indentation grows as depth × size. */
export const PRETTY_MAX_DEPTH = 128;
/** Pretty-printed JSON may be at most this many times its input (plus the slack), else one line. */
const PRETTY_GROWTH = 16;
const PRETTY_SLACK = 1 << 20;

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** End (exclusive) of the JSON string that starts at `i` (a `"`), or -1 if it is not one. */
function scanString(text: string, i: number): number {
  const n = text.length;
  let j = i + 1;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c) {
      const e = text.charCodeAt(j + 1);
      if (SIMPLE_ESCAPES.has(e)) j += 2;
      else if (e === 0x75) {
        for (let k = j + 2; k < j + 6; k++) if (!isHex(text.charCodeAt(k))) return -1;
        j += 6;
      } else return -1;
    } else j++;
  }
  return -1;
}

/** End (exclusive) of the JSON number that starts at `i`, or -1. */
function scanNumber(text: string, i: number): number {
  let j = i;
  if (text.charCodeAt(j) === 0x2d) j++;
  if (text.charCodeAt(j) === 0x30) j++;
  else if (isDigit(text.charCodeAt(j))) while (isDigit(text.charCodeAt(j))) j++;
  else return -1;
  if (text.charCodeAt(j) === 0x2e) {
    j++;
    if (!isDigit(text.charCodeAt(j))) return -1;
    while (isDigit(text.charCodeAt(j))) j++;
  }
  const e = text.charCodeAt(j);
  if (e === 0x65 || e === 0x45) {
    j++;
    const s = text.charCodeAt(j);
    if (s === 0x2b || s === 0x2d) j++;
    if (!isDigit(text.charCodeAt(j))) return -1;
    while (isDigit(text.charCodeAt(j))) j++;
  }
  return j;
}

/** What may come next while pretty-printing. */
const Next = {
  Value: 0,
  /** after `[`: a value or `]` */
  FirstValue: 1,
  /** after `{`: a key or `}` */
  FirstKey: 2,
  Key: 3,
  Colon: 4,
  /** after a value: `,` or the closing bracket */
  After: 5,
} as const;
type Next = (typeof Next)[keyof typeof Next];

/**
 * Re-indent a JSON text into `out`, colouring its tokens. One pass over the characters, no
 * recursion and no JSON.parse (which would build the whole value): numbers keep every digit and
 * duplicate keys stay visible. Each newline is `nl` (plus the indent). Returns false, having
 * written nothing, when `text` is not a JSON object or array, nests deeper than
 * PRETTY_MAX_DEPTH, or would grow more than PRETTY_GROWTH times: then the caller shows it on one
 * line, escaped, and rendering stays linear in the message size (SPEC §3 cannot be a way to
 * make wsx use GBs).
 */
export function writePrettyJson(
  out: Chunks,
  text: string,
  paint: Palette,
  nl = '\n',
  indentUnit = '  ',
): boolean {
  const n = text.length;
  let i = 0;
  while (i < n && isWs(text.charCodeAt(i))) i++;
  const first = text.charCodeAt(i);
  if (first !== 0x7b && first !== 0x5b) return false;
  return out.attempt((local) => indentJson(local, text, i, paint, nl, indentUnit));
}

/** writePrettyJson's pass over `text` from `i` (its first bracket): false when it gives up. */
function indentJson(
  local: Chunks,
  text: string,
  start: number,
  paint: Palette,
  nl: string,
  indentUnit: string,
): boolean {
  const n = text.length;
  let i = start;
  const budget = n * PRETTY_GROWTH + PRETTY_SLACK;
  const base = local.chars;
  const stack: number[] = [];
  const indents: string[] = [];
  const newline = (d: number): string => {
    let s = indents[d];
    if (s === undefined) {
      s = nl + indentUnit.repeat(d);
      indents[d] = s;
    }
    return s;
  };
  const writeString = (start: number, end: number, colour: Paint) => {
    if (end - start <= SLICE) {
      local.add(colour(sanitize(text.slice(start, end), paint.dim)));
      return;
    }
    eachSlice(text.slice(start, end), (s) => local.add(colour(sanitize(s, paint.dim))));
  };
  let next: Next = Next.Value;
  let done = false;
  for (;;) {
    while (i < n && isWs(text.charCodeAt(i))) i++;
    if (i >= n) break;
    if (done) return false; // something after the closing bracket
    if (local.chars - base > budget) return false;
    const c = text.charCodeAt(i);
    const depth = stack.length;
    if (next === Next.After) {
      if (c === 0x2c) {
        local.add(`,${newline(depth)}`);
        next = stack[depth - 1] === 0x7b ? Next.Key : Next.Value;
        i++;
        continue;
      }
      const open = stack[depth - 1];
      if ((c === 0x7d && open === 0x7b) || (c === 0x5d && open === 0x5b)) {
        stack.pop();
        local.add(newline(depth - 1) + (c === 0x7d ? '}' : ']'));
        done = stack.length === 0;
        i++;
        continue;
      }
      return false;
    }
    if (next === Next.Colon) {
      if (c !== 0x3a) return false;
      local.add(': ');
      next = Next.Value;
      i++;
      continue;
    }
    if ((next === Next.FirstKey && c === 0x7d) || (next === Next.FirstValue && c === 0x5d)) {
      stack.pop();
      local.add(c === 0x7d ? '}' : ']');
      next = Next.After;
      done = stack.length === 0;
      i++;
      continue;
    }
    if (next === Next.FirstKey || next === Next.FirstValue) local.add(newline(depth));
    if (next === Next.FirstKey || next === Next.Key) {
      if (c !== 0x22) return false;
      const end = scanString(text, i);
      if (end < 0) return false;
      writeString(i, end, paint.cyan);
      i = end;
      next = Next.Colon;
      continue;
    }
    // A value.
    if (c === 0x7b || c === 0x5b) {
      if (depth >= PRETTY_MAX_DEPTH) return false;
      stack.push(c);
      local.add(c === 0x7b ? '{' : '[');
      next = c === 0x7b ? Next.FirstKey : Next.FirstValue;
      i++;
      continue;
    }
    next = Next.After;
    if (c === 0x22) {
      const end = scanString(text, i);
      if (end < 0) return false;
      writeString(i, end, paint.green);
      i = end;
      continue;
    }
    const literal = text.startsWith('true', i)
      ? 'true'
      : text.startsWith('false', i)
        ? 'false'
        : text.startsWith('null', i)
          ? 'null'
          : undefined;
    if (literal !== undefined) {
      local.add(paint.magenta(literal));
      i += literal.length;
      continue;
    }
    const end = scanNumber(text, i);
    if (end < 0) return false;
    local.add(paint.yellow(text.slice(i, end)));
    i = end;
  }
  return done;
}

/**
 * Re-indent a JSON text, colouring its tokens (see writePrettyJson). Returns undefined when
 * `text` is not a JSON object or array, or is too deep or too big to indent.
 */
export function prettyJson(text: string, paint: Palette, indentUnit = '  '): string | undefined {
  let ok = true;
  const r = build((out) => {
    ok = writePrettyJson(out, text, paint, '\n', indentUnit);
  });
  if (!ok) return undefined;
  return typeof r === 'string' ? r : r.toString('utf8');
}

/**
 * The payload of a text message for display, into `out`: cut to `max` bytes, JSON
 * pretty-printed, everything else escaped; each newline is `nl`.
 */
export function previewInto(
  out: Chunks,
  data: Buffer,
  opts: { max: number; prettyJson: boolean; paint: Palette; nl?: string },
): void {
  const cut = cutUtf8(data, opts.max);
  const text = cut.toString('utf8');
  const nl = opts.nl ?? '\n';
  const pretty =
    opts.prettyJson && cut.length === data.length && writePrettyJson(out, text, opts.paint, nl);
  if (!pretty) sanitizeInto(out, text, opts.paint.dim, nl);
  if (cut.length < data.length) {
    out.add(opts.paint.dim(` … [${data.length - cut.length} B more, ${data.length} B in all]`));
  }
}

/**
 * A value as compact JSON (as `jq -c`), for filter output and decoded values: 64-bit integers
 * (BigInt) as decimal strings, never a TypeError; undefined as null.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
  } catch {
    return JSON.stringify(String(value));
  }
}

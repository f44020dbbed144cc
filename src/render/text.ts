// Pure helpers shared by the renderers: timestamps, sizes, hex dumps, payload previews, JSON.

import { isUtf8 } from 'node:buffer';
import { closeCodeName } from '../close-codes.js';
import { sanitize, sanitizeLine } from './sanitize.js';

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

const JSON_TOKEN =
  /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|[{}[\]:,]|\s+/gy;

/**
 * Re-indent a JSON text, colouring its tokens. Works on the tokens, not on JSON.parse's value,
 * so numbers keep every digit and duplicate keys stay visible. Returns undefined when `text` is
 * not a JSON object or array.
 */
export function prettyJson(text: string, paint: Palette, indentUnit = '  '): string | undefined {
  const trimmed = text.trim();
  const first = trimmed[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  let out = '';
  let depth = 0;
  let afterOpen = false;
  let expectKey = false;
  const stack: string[] = [];
  const newline = () => `\n${indentUnit.repeat(depth)}`;
  JSON_TOKEN.lastIndex = 0;
  for (let m = JSON_TOKEN.exec(trimmed); m !== null; m = JSON_TOKEN.exec(trimmed)) {
    const tok = m[0];
    const c = tok[0];
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
    if (afterOpen) {
      afterOpen = false;
      if (tok === '}' || tok === ']') {
        stack.pop();
        depth--;
        out += tok;
        continue;
      }
      out += newline();
    }
    if (tok === '{' || tok === '[') {
      out += tok;
      stack.push(tok);
      depth++;
      afterOpen = true;
      expectKey = tok === '{';
    } else if (tok === '}' || tok === ']') {
      stack.pop();
      depth--;
      out += newline() + tok;
      expectKey = false;
    } else if (tok === ',') {
      out += `,${newline()}`;
      expectKey = stack[stack.length - 1] === '{';
    } else if (tok === ':') {
      out += ': ';
      expectKey = false;
    } else if (c === '"') {
      const s = sanitize(tok, paint.dim);
      out += expectKey ? paint.cyan(s) : paint.green(s);
    } else if (tok === 'true' || tok === 'false' || tok === 'null') {
      out += paint.magenta(tok);
    } else {
      out += paint.yellow(tok);
    }
  }
  return out;
}

/** The payload of a text message for display: cut to `max` bytes, JSON pretty-printed. */
export function previewText(
  data: Buffer,
  opts: { max: number; prettyJson: boolean; paint: Palette },
): string {
  const cut = cutUtf8(data, opts.max);
  const text = cut.toString('utf8');
  let body: string | undefined;
  if (opts.prettyJson && cut.length === data.length) body = prettyJson(text, opts.paint);
  if (body === undefined) body = sanitize(text, opts.paint.dim);
  if (cut.length < data.length) {
    body += opts.paint.dim(` … [${data.length - cut.length} B more, ${data.length} B in all]`);
  }
  return body;
}

// Terminal safety: text from the network never reaches the terminal raw (SPEC §3, §10, §17).

import { type Chunks, eachSlice } from './chunks.js';

/**
 * C0 controls but tab and newline, DEL, C1 controls; then invisible and bidi-control code
 * points (bidi embeddings/overrides/isolates, zero-width characters, BOM, line/paragraph
 * separators, soft hyphen, Unicode tags and variation selectors used to smuggle text).
 */
const UNSAFE_SOURCE =
  '[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb]|\\udb40[\\udc00-\\udc7f]|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const UNSAFE = new RegExp(UNSAFE_SOURCE);
/**
 * Runs of unsafe code points: one mark (one pair of colour codes) per run rather than per
 * character, so a message of 45 MB of \x01 grows 4×, not 13×, when dimmed.
 */
const UNSAFE_RUN = new RegExp(`(?:${UNSAFE_SOURCE})+`, 'g');

/** Code points under U+00A0 print as \xNN, others as \uNNNN (or \u{NNNNN} above the BMP). */
export function escapeCodePoint(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0xa0) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp > 0xffff) return `\\u{${cp.toString(16)}}`;
  return `\\u${cp.toString(16).padStart(4, '0')}`;
}

function escapeRun(run: string): string {
  let s = '';
  for (const ch of run) s += escapeCodePoint(ch);
  return s;
}

/**
 * Escape every unsafe code point; `mark` wraps each run of escapes (used to dim them).
 * Returns the input unchanged (same string) when nothing needs escaping.
 */
export function sanitize(text: string, mark: (s: string) => string = (s) => s): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE_RUN, (run) => mark(escapeRun(run)));
}

/**
 * sanitize() for text of any size, written to `out` slice by slice; each newline becomes `nl`
 * (a newline plus the continuation indent of the pretty renderer).
 */
export function sanitizeInto(
  out: Chunks,
  text: string,
  mark: (s: string) => string,
  nl = '\n',
): void {
  eachSlice(text, (slice) => {
    const s = sanitize(slice, mark);
    out.add(nl === '\n' || !s.includes('\n') ? s : s.replaceAll('\n', nl));
  });
}

/** For one-line contexts (close reasons, header values): newlines and tabs are escaped too. */
export function sanitizeLine(text: string, mark: (s: string) => string = (s) => s): string {
  return sanitize(text, mark).replace(/[\n\t]/g, (ch) => mark(ch === '\n' ? '\\n' : '\\t'));
}

/**
 * For JSON text (the json renderer's output): DEL, C1, and the invisible and bidi controls as
 * `\uXXXX` escapes, so the json stream is safe on a terminal and still valid JSON with the same
 * meaning. JSON.stringify already escapes C0 and lone surrogates; these code points can only
 * occur inside JSON strings, where a \u escape means the same character.
 */
const JSON_UNSAFE =
  /[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;
const JSON_UNSAFE_TEST = new RegExp(JSON_UNSAFE.source);

export function escapeJsonText(json: string): string {
  if (!JSON_UNSAFE_TEST.test(json)) return json;
  return json.replace(JSON_UNSAFE, (m) => {
    let s = '';
    for (let i = 0; i < m.length; i++) s += `\\u${m.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return s;
  });
}

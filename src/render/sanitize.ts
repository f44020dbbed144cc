// Terminal safety: text from the network never reaches the terminal raw (SPEC §3, §10).

/**
 * C0 controls but tab and newline, DEL, C1 controls; then invisible and bidi-control code
 * points (bidi embeddings/overrides/isolates, zero-width characters, BOM, line/paragraph
 * separators, soft hyphen, Unicode tags and variation selectors used to smuggle text).
 */
const UNSAFE =
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Code points under U+00A0 print as \xNN, others as \uNNNN (or \u{NNNNN} above the BMP). */
export function escapeCodePoint(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0xa0) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp > 0xffff) return `\\u{${cp.toString(16)}}`;
  return `\\u${cp.toString(16).padStart(4, '0')}`;
}

/**
 * Escape every unsafe code point; `mark` wraps each escape (used to dim them).
 * Returns the input unchanged (same string) when nothing needs escaping.
 */
export function sanitize(text: string, mark: (s: string) => string = (s) => s): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  UNSAFE.lastIndex = 0;
  return text.replace(UNSAFE, (ch) => mark(escapeCodePoint(ch)));
}

/** For one-line contexts (close reasons, header values): newlines and tabs are escaped too. */
export function sanitizeLine(text: string, mark: (s: string) => string = (s) => s): string {
  return sanitize(text, mark).replace(/[\n\t]/g, (ch) => mark(ch === '\n' ? '\\n' : '\\t'));
}

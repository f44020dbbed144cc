// Pure: does a REPL buffer need more lines? The JSON rule (SPEC §5) and a braces rule for dialects.

export type JsonState = 'complete' | 'incomplete' | 'not-json';

export function jsonState(text: string): JsonState {
  const t = text.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return 'not-json';
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (const ch of t) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  if (depth > 0 || inString) return 'incomplete';
  try {
    JSON.parse(t);
    return 'complete';
  } catch {
    return 'not-json';
  }
}

/** The REPL's default continuation rule: a `{` or `[` line that is not yet complete JSON. */
export function jsonContinues(text: string): boolean {
  return jsonState(text) === 'incomplete';
}

/**
 * A rule for languages with braces (a GraphQL document): text that contains a `{` continues
 * while more `{` than `}` are open, outside "strings", """block strings""" and # comments.
 */
export function bracesContinue(text: string): boolean {
  let depth = 0;
  let opened = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if (ch === '"') {
      const block = text.startsWith('"""', i);
      const close = block ? '"""' : '"';
      let j = i + close.length;
      for (; j < text.length; j++) {
        if (text[j] === '\\') j++;
        else if (text.startsWith(close, j)) break;
        else if (!block && text[j] === '\n') break;
      }
      // An unterminated block string continues; a plain string ends at the line's end.
      if (j >= text.length) return block || depth > 0;
      i = j + close.length - 1;
    } else if (ch === '{') {
      depth++;
      opened = true;
    } else if (ch === '}') depth--;
  }
  return opened && depth > 0;
}

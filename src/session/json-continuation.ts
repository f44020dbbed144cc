// Pure: does a REPL buffer that starts with `{` or `[` need more lines to be complete JSON?

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

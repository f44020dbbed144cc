// REPL history on disk: $XDG_STATE_HOME/wsx/history, newest last, at most 1000 entries, mode 0600.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const HISTORY_SIZE = 1000;

export function historyPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const state = env.XDG_STATE_HOME;
  if (state) return join(state, 'wsx', 'history');
  const home = env.HOME ?? env.USERPROFILE;
  return home ? join(home, '.local', 'state', 'wsx', 'history') : undefined;
}

/** Entries newest first, as readline wants them. Missing or unreadable file = no history. */
export function loadHistory(file: string): string[] {
  try {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    return lines.slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

/** `entries` newest first. Errors are returned, not thrown: history must never break the REPL. */
export function saveHistory(file: string, entries: readonly string[]): Error | undefined {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const lines = entries
      .slice(0, HISTORY_SIZE)
      .filter((l) => !l.includes('\n'))
      .reverse();
    writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
    chmodSync(file, 0o600);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

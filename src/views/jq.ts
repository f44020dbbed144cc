// The jq engine behind --filter: real jq (jq-web, jq compiled to WebAssembly), loaded on first
// use. Messages that arrive together are filtered in one jq run, since starting jq costs about a
// millisecond while filtering one more value costs microseconds.

import type { JqError, JqWeb } from 'jq-web';
import { WsxError } from '../errors.js';

let engine: Promise<JqWeb> | undefined;

/** Load jq (compiles the WebAssembly module once per process). */
export function loadJq(): Promise<JqWeb> {
  // require, not import(): jq-web exports a promise, and an ESM namespace wrapping a promise is
  // itself thenable in some loaders. The bundle compiles the lazy sub-bundle here, on first use.
  engine ??= Promise.resolve().then(() => require('jq-web') as Promise<JqWeb>);
  return engine;
}

/** What the program made of one input. */
export interface JqResult {
  /** Each output value as compact JSON text (as `jq -c` prints it). */
  values: string[];
  /** A runtime error after those values (jq goes on with the next input). */
  error?: string;
}

export interface JqProgram {
  readonly source: string;
  /** Run on each JSON text in `inputs`; one result per input. `debug` gets jq's stderr. */
  run(inputs: readonly string[], debug?: (text: string) => void): JqResult[];
}

/** Compile `source` (a usage error naming the position when it does not compile). */
export async function compileJq(source: string, what = '--filter'): Promise<JqProgram> {
  const jq = await loadJq();
  try {
    // With no input at all jq compiles the program and runs it zero times: a pure syntax check.
    jq.raw('', source, ['-c']);
  } catch (err) {
    throw compileError(source, err as JqError, what);
  }
  // Every input gets its outputs as [v] lines, a runtime error as {"e":…}, then a null marker;
  // the newlines keep a trailing # comment in the program from swallowing the wrapper.
  const wrapped = `.[] | ((try ((\n${source}\n) | [.]) catch {"e": .}), null)`;
  return {
    source,
    run(inputs, debug) {
      if (inputs.length === 0) return [];
      let stdout: string | undefined;
      // jq-web reports debug/stderr output through console.warn: route it to the caller.
      const warn = console.warn;
      console.warn = (...args: unknown[]) => debug?.(String(args[args.length - 1] ?? ''));
      try {
        stdout = jq.raw(`[${inputs.join(',')}]`, wrapped, ['-c']);
      } catch (err) {
        const e = err as JqError;
        // halt / halt_error end the whole jq run.
        const message = cleanMessage(e.stderr ?? e.message);
        return inputs.map(() => ({ values: [], error: message }));
      } finally {
        console.warn = warn;
      }
      return splitResults(stdout ?? '', inputs.length);
    },
  };
}

function splitResults(stdout: string, count: number): JqResult[] {
  const results: JqResult[] = [];
  let current: JqResult = { values: [] };
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    if (line === 'null') {
      results.push(current);
      current = { values: [] };
    } else if (line.startsWith('[')) current.values.push(line.slice(1, -1));
    else current.error = errorText(line);
  }
  // A halt part-way leaves the rest without results.
  while (results.length < count) results.push({ values: [], error: 'jq stopped (halt)' });
  return results;
}

/** jq's own wording for an error value: the string, or the JSON and "(not a string)". */
function errorText(line: string): string {
  try {
    const e = (JSON.parse(line) as { e: unknown }).e;
    return typeof e === 'string' ? e : `${JSON.stringify(e)} (not a string)`;
  } catch {
    return line;
  }
}

function cleanMessage(stderr: string): string {
  return stderr
    .replace(/^jq: error(?: \(at [^)]*\))?: /, '')
    .replace(/\njq: \d+ compile errors?$/, '')
    .trim();
}

/**
 * jq 1.7 reports "… at <top-level>, line N:" followed by the source line padded with one space
 * per column before the error: turn that into "line N, column C" and show the line with a caret.
 */
function compileError(source: string, err: JqError, what: string): WsxError {
  const stderr = (err.stderr ?? err.message).trim();
  const m =
    /^jq: error: ([\s\S]*?) at <top-level>, line (\d+):\n([\s\S]*?)\njq: \d+ compile errors?$/.exec(
      stderr,
    );
  if (!m) {
    return new WsxError('usage', `${what}: ${cleanMessage(stderr)}`, { code: 'USAGE' });
  }
  const message = (m[1] ?? '').replace(' (Unix shell quoting issues?)', '');
  const lineNo = Number(m[2]);
  const shown = m[3] ?? '';
  const lineText = source.split('\n')[lineNo - 1] ?? '';
  let column: number | undefined;
  if (shown.startsWith(lineText)) {
    const pad = shown.slice(lineText.length).replace(/^\n/, '');
    if (/^ *$/.test(pad)) column = pad.length + 1;
  }
  const where = column === undefined ? `line ${lineNo}` : `line ${lineNo}, column ${column}`;
  const details =
    column === undefined ? [] : [`  ${lineText}`, `  ${' '.repeat(Math.max(0, column - 1))}^`];
  return new WsxError('usage', `${what}: jq: ${message} at ${where}`, { code: 'USAGE', details });
}

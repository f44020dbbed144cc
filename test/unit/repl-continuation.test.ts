// The REPL's multi-line rule is pluggable: the JSON rule by default, a dialect's (braces) instead.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Ending } from '../../src/errors.js';
import type { SessionOptions } from '../../src/options.js';
import { PLAIN } from '../../src/render/text.js';
import type { Driver } from '../../src/session/driver.js';
import { bracesContinue, jsonContinues } from '../../src/session/json-continuation.js';
import { runRepl } from '../../src/session/repl.js';

describe('continuation rules', () => {
  it('JSON: a { or [ line continues until it is complete JSON', () => {
    expect(jsonContinues('{')).toBe(true);
    expect(jsonContinues('{"a": [1,\n 2')).toBe(true);
    expect(jsonContinues('{"a": 1}')).toBe(false);
    expect(jsonContinues('query {')).toBe(false);
  });
  it('braces: a line that opens { continues until the braces balance', () => {
    expect(bracesContinue('subscription { ticks }')).toBe(false);
    expect(bracesContinue('query {')).toBe(true);
    expect(bracesContinue('query {\n  hello(s: "}") {\n    x')).toBe(true);
    expect(bracesContinue('query {\n  hello(s: "}") { x }\n}')).toBe(false);
    expect(bracesContinue('query { # not a } brace\n')).toBe(true);
    expect(bracesContinue('{ f(d: """a } b')).toBe(true);
    expect(bracesContinue('{ f(d: """a } b""") }')).toBe(false);
    expect(bracesContinue('[1,')).toBe(false);
    expect(bracesContinue('plain text')).toBe(false);
  });
});

/** A Driver that records what the REPL sends; quit() ends the run. */
function fakeDriver(): Driver & { sent: string[] } {
  let finish: (e: Ending) => void = () => {};
  const ended = new Promise<Ending>((r) => {
    finish = r;
  });
  const sent: string[] = [];
  return {
    sent,
    kind: 'client',
    ended,
    isFinished: false,
    connected: true,
    bufferedAmount: 0,
    onClosed: undefined,
    open: async () => true,
    send: (data) => {
      sent.push(String(data));
    },
    waitForDrain: async () => {},
    ping: () => {},
    pong: () => {},
    closeConnection: () => {},
    inputDone: () => {},
    quit: () => finish({ kind: 'done' }),
    interrupt: () => {},
    note: () => {},
    setReceiving: () => {},
    status: () => '',
    headers: () => '',
  };
}

async function typeInto(lines: string[], continues?: (text: string) => boolean) {
  const driver = fakeDriver();
  const input = new PassThrough();
  const output = Object.assign(new PassThrough(), { columns: 80, isTTY: true });
  output.resume();
  const session = { slash: true, history: false } as SessionOptions;
  const done = runRepl(driver, session, {
    input,
    output,
    dataOutput: output,
    errorOutput: output,
    historyFile: undefined,
    paintErr: PLAIN,
    setSink: () => {},
    ...(continues ? { continues } : {}),
  });
  for (const l of lines) input.write(`${l}\r`);
  input.write('\x04'); // Ctrl-D
  await done;
  return driver.sent;
}

describe('runRepl continues', () => {
  it('default: pasted JSON is one message', async () => {
    expect(await typeInto(['{', '  "a": 1', '}', 'query {', '}'])).toEqual([
      '{\n  "a": 1\n}',
      'query {',
      '}',
    ]);
  });
  it('a dialect rule replaces the JSON rule', async () => {
    expect(await typeInto(['query {', '  hello', '}', '[1,'], bracesContinue)).toEqual([
      'query {\n  hello\n}',
      '[1,',
    ]);
  });
});

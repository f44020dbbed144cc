// The jq engine behind --filter: real jq semantics, batched runs, errors with positions.

import { describe, expect, it } from 'vitest';
import { WsxError } from '../../src/errors.js';
import { compileJq } from '../../src/views/jq.js';

describe('compileJq', () => {
  it.each([
    ['.a |', /syntax error, unexpected end of file at line 1, column 4/],
    ['{a:}', /unexpected '}' at line 1, column 4/],
    ['.a | foo', /foo\/0 is not defined at line 1, column 6/],
    ['.a\n| .b |\n map(', /at line 3/],
    ['1 as $x | $y', /\$y is not defined at line 1, column 11/],
  ])('refuses %j as a usage error naming the position', async (program, message) => {
    const err = await compileJq(program).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WsxError);
    expect((err as WsxError).kind).toBe('usage');
    expect((err as WsxError).message).toMatch(/^--filter: jq: /);
    expect((err as WsxError).message).toMatch(message);
  });

  it('shows the line with a caret under the column', async () => {
    const err = (await compileJq('.a | foo').catch((e: unknown) => e)) as WsxError;
    expect(err.details).toEqual(['  .a | foo', '       ^']);
  });

  it('accepts definitions, comments and every builtin jq has', async () => {
    const p = await compileJq('def f: .x * 2; [.[] | f] | add # doubled');
    expect(p.run(['[{"x":1},{"x":2}]'])).toEqual([{ values: ['6'] }]);
  });
});

describe('JqProgram.run', () => {
  it('gives each input its own outputs, in order, with empty as no output', async () => {
    const p = await compileJq('select(.type == "trade") | .price');
    const r = p.run([
      '{"type":"trade","price":1.5}',
      '{"type":"ping"}',
      '{"type":"trade","price":2}',
    ]);
    expect(r).toEqual([{ values: ['1.5'] }, { values: [] }, { values: ['2'] }]);
  });

  it('keeps several outputs per input and jq -c formatting', async () => {
    const p = await compileJq('.items[] | {id, tags}');
    const r = p.run(['{"items":[{"id":1,"tags":["a"]},{"id":2,"tags":[]}]}']);
    expect(r[0]?.values).toEqual(['{"id":1,"tags":["a"]}', '{"id":2,"tags":[]}']);
  });

  it('keeps outputs before a runtime error and reports the error as jq words it', async () => {
    const p = await compileJq('.a, (.b | error("bad b")), 3');
    const r = p.run(['{"a":1,"b":2}', '[1]', '"s"']);
    expect(r[0]).toEqual({ values: ['1'], error: 'bad b' });
    expect(r[1]?.values).toEqual([]);
    expect(r[1]?.error).toMatch(/Cannot index array with string "a"/);
    expect(r[2]?.error).toMatch(/Cannot index string with string "a"/);
  });

  it('preserves integers beyond 2^53 as jq 1.7 prints them', async () => {
    const p = await compileJq('.id');
    expect(p.run(['{"id":12345678901234567890}'])[0]?.values).toEqual(['12345678901234567890']);
  });

  it('passes debug output to the caller instead of the console', async () => {
    const p = await compileJq('.x | debug');
    const seen: string[] = [];
    expect(p.run(['{"x":5}'], (d) => seen.push(d))[0]?.values).toEqual(['5']);
    expect(seen.join('')).toContain('["DEBUG:",5]');
  });

  it('gives every input a result when halt_error stops jq', async () => {
    const p = await compileJq('if .stop then halt_error else .n end');
    const r = p.run(['{"n":1}', '{"stop":true}', '{"n":3}']);
    expect(r).toHaveLength(3);
    expect(r[2]?.error).toBeDefined();
  });

  it('filters a thousand messages in one run', async () => {
    const p = await compileJq('.n');
    const inputs = Array.from({ length: 1000 }, (_, n) => JSON.stringify({ n }));
    const r = p.run(inputs);
    expect(r.map((x) => x.values[0])).toEqual(inputs.map((_, n) => String(n)));
  });
});

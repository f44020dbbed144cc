// Templates: {{name}} placeholders, \{{ literals, one time and seq per message, clear errors.

import { describe, expect, it } from 'vitest';
import {
  groupNames,
  parseTemplate,
  renderTemplate,
  type TemplateScope,
} from '../../src/conversation/template.js';
import { WsxError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 11, 1, 12, 30, 45, 678);

function scope(over: Partial<TemplateScope> = {}): TemplateScope {
  let seq = 6;
  return {
    env: { TOKEN: 't0k', EMPTY: '' },
    vars: new Map([
      ['room', 'lobby'],
      ['who', 'var-who'],
    ]),
    captures: new Map([['who', 'captured-who']]),
    seq: () => ++seq,
    now: () => T0,
    uuid: () => '00000000-0000-4000-8000-000000000000',
    ...over,
  };
}

const render = (src: string, s = scope()) => renderTemplate(parseTemplate(src, '-x'), s, '-x');

describe('renderTemplate', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{"auth":"{{env.TOKEN}}"}', '{"auth":"t0k"}'],
    ['[{{env.EMPTY}}]', '[]'],
    ['{{uuid}}', '00000000-0000-4000-8000-000000000000'],
    ['{{now}}', '2026-12-01T12:30:45.678Z'],
    ['{{unix}}', String(Math.floor(T0 / 1000))],
    ['{{unixms}}', String(T0)],
    ['{{seq}}', '7'],
    ['{{ room }}', 'lobby'],
    ['{{who}}', 'captured-who'],
    ['\\{{literal}}', '{{literal}}'],
    ['a\\{{b}} {{room}}', 'a{{b}} lobby'],
    ['{"a":{"b":1}}', '{"a":{"b":1}}'],
    ['', ''],
  ])('%j → %j', (src, out) => {
    expect(render(src)).toBe(out);
  });

  it('gives every placeholder of one message the same seq and time', () => {
    expect(render('{{seq}}/{{seq}} {{unixms}}={{unixms}}')).toBe(`7/7 ${T0}=${T0}`);
  });

  it('asks for the next seq once per message', () => {
    const s = scope();
    expect([render('{{seq}}', s), render('{{seq}}', s), render('x', s)]).toEqual(['7', '8', 'x']);
  });

  it.each([
    ['{{nope}}', /unknown template variable \{\{nope\}\}/],
    ['{{env.MISSING}}', /environment variable MISSING is not set/],
  ])('refuses %j at render time as a usage error', (src, message) => {
    const err = (() => {
      try {
        render(src);
      } catch (e) {
        return e;
      }
    })() as WsxError;
    expect(err).toBeInstanceOf(WsxError);
    expect(err.kind).toBe('usage');
    expect(err.message).toMatch(message);
  });
});

describe('parseTemplate', () => {
  it.each([
    ['{{unclosed', /'\{\{' at position 1 is not closed/],
    ['ok {{a b}}', /'\{\{a b\}\}' at position 4 is not a template name/],
    ['{{}}', /is not a template name/],
    ['{{env.}}', /is not a template name/],
  ])('refuses %j naming the position', (src, message) => {
    expect(() => parseTemplate(src, '-x')).toThrow(message);
  });

  it('lists the names used, once each', () => {
    expect(parseTemplate('{{a}}{{env.B}}{{a}}{{seq}}', '-x').names).toEqual(['a', 'env.B', 'seq']);
  });
});

describe('groupNames', () => {
  it.each([
    ['"token":"(?<token>[^"]+)"', ['token']],
    ['(?<a>x)(?<b>y)(?<a2>z)', ['a', 'b', 'a2']],
    ['(?<=x)(?<!y)plain', []],
    // An escaped paren: a literal "(" made optional, then the text "<x>".
    ['\\(?<x>', []],
    ['\\\\(?<y>z)', ['y']],
  ])('%s → %j', (src, names) => {
    expect(groupNames(new RegExp(src))).toEqual(names);
  });
});

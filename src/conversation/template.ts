// Pure: {{name}} templates for -x, --reply, --heartbeat and --template lines (SPEC §11): parsed
// once before connecting (so bad placeholders are usage errors then), rendered at send time.

import { usageError } from '../errors.js';

/** Names a template may use without defining them. */
export const BUILTINS = ['uuid', 'now', 'unix', 'unixms', 'seq'] as const;
const BUILTIN_SET: ReadonlySet<string> = new Set(BUILTINS);

export type TemplatePart = string | { name: string };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** The placeholder names, in order of first use. */
  readonly names: readonly string[];
}

const NAME = /^(?:env\.[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*)$/;

/** Is this a name a --var or a named regex group may define? */
export function isDefinableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !BUILTIN_SET.has(name) && name !== 'env';
}

/**
 * Parse `source`. `\{{` is a literal `{{`; `{{ name }}` is a placeholder; an unclosed `{{` or a
 * malformed name is a usage error naming `what` (e.g. "-x '…'") and the position.
 */
export function parseTemplate(source: string, what: string): Template {
  const parts: TemplatePart[] = [];
  const names: string[] = [];
  let literal = '';
  let i = 0;
  while (i < source.length) {
    if (source.startsWith('\\{{', i)) {
      literal += '{{';
      i += 3;
      continue;
    }
    if (!source.startsWith('{{', i)) {
      literal += source[i];
      i++;
      continue;
    }
    const end = source.indexOf('}}', i + 2);
    if (end === -1) {
      throw usageError(
        `${what}: '{{' at position ${i + 1} is not closed with '}}'`,
        'write \\{{ for a literal {{',
      );
    }
    const name = source.slice(i + 2, end).trim();
    if (!NAME.test(name)) {
      throw usageError(
        `${what}: '{{${source.slice(i + 2, end)}}}' at position ${i + 1} is not a template name`,
        'names: env.NAME, uuid, now, unix, unixms, seq, a --var, or a named group of --await/--reply; \\{{ is a literal {{',
      );
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push({ name });
    if (!names.includes(name)) names.push(name);
    i = end + 2;
  }
  if (literal !== '' || parts.length === 0) parts.push(literal);
  return { source, parts, names };
}

/** What a template's names resolve to when it is rendered. */
export interface TemplateScope {
  env: Readonly<Record<string, string | undefined>>;
  vars: ReadonlyMap<string, string>;
  /** Named groups captured by --await / --reply on this connection. */
  captures: ReadonlyMap<string, string>;
  /** The {{seq}} of the message about to be sent. */
  seq(): number;
  now(): number;
  uuid(): string;
}

/** Why a name cannot be resolved, or undefined when it can. */
export function unresolved(name: string, scope: TemplateScope): string | undefined {
  if (BUILTIN_SET.has(name)) return undefined;
  if (name.startsWith('env.')) {
    const key = name.slice(4);
    return scope.env[key] === undefined ? `environment variable ${key} is not set` : undefined;
  }
  if (scope.captures.has(name) || scope.vars.has(name)) return undefined;
  return `unknown template variable {{${name}}}`;
}

/**
 * Fill in a template. Every placeholder of one message sees the same time and {{seq}}. Unknown
 * or unset names are usage errors naming `what`.
 */
export function renderTemplate(t: Template, scope: TemplateScope, what: string): string {
  const first = t.parts[0];
  if (t.parts.length === 1 && typeof first === 'string') return first;
  let time: number | undefined;
  let seq: number | undefined;
  let out = '';
  for (const part of t.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const name = part.name;
    switch (name) {
      case 'uuid':
        out += scope.uuid();
        break;
      case 'now':
        time ??= scope.now();
        out += new Date(time).toISOString();
        break;
      case 'unix':
        time ??= scope.now();
        out += String(Math.floor(time / 1000));
        break;
      case 'unixms':
        time ??= scope.now();
        out += String(time);
        break;
      case 'seq':
        seq ??= scope.seq();
        out += String(seq);
        break;
      default: {
        const why = unresolved(name, scope);
        if (why !== undefined) throw templateError(what, name, why);
        if (name.startsWith('env.')) out += scope.env[name.slice(4)] ?? '';
        else out += scope.captures.get(name) ?? scope.vars.get(name) ?? '';
      }
    }
  }
  return out;
}

export function templateError(what: string, name: string, why: string) {
  const hint = name.startsWith('env.')
    ? `set it (export ${name.slice(4)}=…) or use --var`
    : `define it with --var ${name}=VALUE, or capture it with a named group (?<${name}>…) in an --await or --reply regex`;
  return usageError(`${what}: ${why}`, hint);
}

/** The named groups of a regular expression (the captures it can set). */
export function groupNames(re: RegExp): string[] {
  // A match attempt on '' does not reveal names; the source does: (?<name>…) but not (?<=…)/(?<!…).
  const names: string[] = [];
  const pattern = /\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>/g;
  for (const m of re.source.matchAll(pattern)) {
    const before = re.source.slice(0, m.index);
    // An escaped paren (\(?<x>) is not a group: count the backslashes before it.
    const slashes = /\\*$/.exec(before)?.[0].length ?? 0;
    if (slashes % 2 === 0 && m[1] !== undefined && !names.includes(m[1])) names.push(m[1]);
  }
  return names;
}

// Pure: the conversation and view flags (-x/--await steps, --reply, --heartbeat, --var,
// --template, --decode, --encode, --proto/--type, --filter) → validated options. Every usage
// error that can be known before connecting is raised here (SPEC §11, §14).

import { usageError } from '../errors.js';
import type { RawFlags } from '../options.js';
import { CODECS, type Codec } from '../views/codecs.js';
import {
  BUILTINS,
  groupNames,
  isDefinableName,
  parseTemplate,
  type Template,
  templateError,
} from './template.js';

export type Step =
  | { kind: 'send'; template: Template }
  | { kind: 'await'; regex: RegExp; source: string };

export interface ReplyRule {
  regex: RegExp;
  template: Template;
  source: string;
}

export interface Heartbeat {
  intervalMs: number;
  template: Template;
}

export interface ViewOptions {
  /** --decode: received binary messages through this codec. */
  decode: Codec | undefined;
  /** --decode-raw: raw output writes the decoded JSON instead of the bytes. */
  decodeRaw: boolean;
  /** --encode: typed, piped and -x JSON is sent in this binary form. */
  encode: Codec | undefined;
  /** --proto / --type (protobuf). */
  proto: { file: string; type: string } | undefined;
  /** --filter: the jq program (compiled when the run starts). */
  filter: string | undefined;
}

export interface ConversationOptions {
  /**
   * The -x messages and --await steps in command-line order. Non-empty means the conversation
   * layer sends the -x messages itself (the session's own -x list is left empty).
   */
  steps: Step[];
  replies: ReplyRule[];
  heartbeats: Heartbeat[];
  vars: Map<string, string>;
  /** --template: typed and piped lines are templates too. */
  template: boolean;
  /** The conversation layer is needed at all. */
  active: boolean;
  env: Readonly<Record<string, string | undefined>>;
  views: ViewOptions;
}

/** What these options read of the command line (RawFlags holds the one declaration). */
export type ConversationFlags = Pick<
  RawFlags,
  | 'execute'
  | 'await'
  | 'steps'
  | 'reply'
  | 'heartbeat'
  | 'var'
  | 'template'
  | 'decode'
  | 'decodeRaw'
  | 'encode'
  | 'proto'
  | 'type'
  | 'filter'
  | 'binary'
>;

const quote = (s: string) => (s.length > 40 ? `'${s.slice(0, 37)}…'` : `'${s}'`);

function parseRegex(option: string, raw: string): RegExp {
  try {
    return new RegExp(raw);
  } catch (err) {
    throw usageError(`${option}: invalid regular expression '${raw}': ${(err as Error).message}`);
  }
}

function checkGroups(option: string, re: RegExp): string[] {
  const names = groupNames(re);
  for (const n of names) {
    if (!isDefinableName(n)) {
      throw usageError(
        `${option} /${re.source}/: the group name '${n}' is reserved (${BUILTINS.join(', ')}, env)`,
      );
    }
  }
  return names;
}

function parseCodec(option: string, raw: string | undefined): Codec | undefined {
  if (raw === undefined) return undefined;
  if (!(CODECS as readonly string[]).includes(raw)) {
    throw usageError(`${option} takes ${CODECS.join(', ')}, not '${raw}'`);
  }
  return raw as Codec;
}

function parseViews(flags: ConversationFlags): ViewOptions {
  const decode = parseCodec('--decode', flags.decode);
  const encode = parseCodec('--encode', flags.encode);
  if (flags.decodeRaw && decode === undefined)
    throw usageError('--decode-raw needs --decode <codec>');
  const protobuf = decode === 'protobuf' || encode === 'protobuf';
  if (protobuf && (flags.proto === undefined || flags.type === undefined)) {
    throw usageError(
      'protobuf needs the message definition: --proto <file.proto> --type <package.Message>',
    );
  }
  if (!protobuf && (flags.proto !== undefined || flags.type !== undefined)) {
    throw usageError(
      `${flags.proto !== undefined ? '--proto' : '--type'} is for --decode protobuf or --encode protobuf`,
    );
  }
  if (encode !== undefined && flags.binary) {
    throw usageError(`--encode ${encode} already sends binary frames: drop -b`);
  }
  if (flags.filter !== undefined && flags.filter.trim() === '') {
    throw usageError('--filter needs a jq program, e.g. --filter .price');
  }
  return {
    decode,
    decodeRaw: flags.decodeRaw === true,
    encode,
    proto: protobuf ? { file: flags.proto ?? '', type: flags.type ?? '' } : undefined,
    filter: flags.filter,
  };
}

export function parseConversationOptions(
  flags: ConversationFlags,
  env: Readonly<Record<string, string | undefined>>,
  mode: 'client' | 'listen',
): ConversationOptions {
  const views = parseViews(flags);

  const vars = new Map<string, string>();
  for (const raw of flags.var ?? []) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw usageError(`--var takes NAME=VALUE, not ${quote(raw)}`);
    const name = raw.slice(0, eq);
    if (!isDefinableName(name)) {
      throw usageError(
        `--var ${name}: not a usable name`,
        `names are letters, digits and _, and not ${BUILTINS.join(', ')} or env`,
      );
    }
    vars.set(name, raw.slice(eq + 1));
  }

  // Every name a --reply or --await regex can capture (replies may use any of them at run time).
  const awaits = (flags.await ?? []).map((raw) => parseRegex('--await', raw));
  const allCaptures = new Set<string>();
  for (const re of awaits) for (const n of checkGroups('--await', re)) allCaptures.add(n);

  const replies: ReplyRule[] = (flags.reply ?? []).map((raw) => {
    const at = raw.indexOf('=>');
    if (at === -1) {
      throw usageError(
        `--reply takes 'REGEX=>TEMPLATE', not ${quote(raw)}`,
        `e.g. --reply '"type":"ping"=>{"type":"pong"}'`,
      );
    }
    const source = raw.slice(0, at);
    const regex = parseRegex('--reply', source);
    for (const n of checkGroups('--reply', regex)) allCaptures.add(n);
    return { regex, source, template: parseTemplate(raw.slice(at + 2), `--reply ${quote(raw)}`) };
  });
  const known = (name: string, captures: ReadonlySet<string>) =>
    (BUILTINS as readonly string[]).includes(name) ||
    vars.has(name) ||
    captures.has(name) ||
    name.startsWith('env.');
  const checkNames = (t: Template, what: string, captures: ReadonlySet<string>) => {
    for (const name of t.names) {
      if (name.startsWith('env.') && env[name.slice(4)] === undefined) {
        throw templateError(what, name, `environment variable ${name.slice(4)} is not set`);
      }
      if (!known(name, captures))
        throw templateError(what, name, `unknown template variable {{${name}}}`);
    }
  };
  for (const r of replies) checkNames(r.template, `--reply ${quote(r.source)}`, allCaptures);

  const heartbeats: Heartbeat[] = (flags.heartbeat ?? []).map((raw) => {
    const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*:([\s\S]*)$/.exec(raw);
    const seconds = Number(m?.[1]);
    if (!m || !(seconds >= 0.1) || seconds > 2_000_000) {
      throw usageError(
        `--heartbeat takes 'SECONDS:TEMPLATE' (at least 0.1 s), not ${quote(raw)}`,
        `e.g. --heartbeat '30:{"op":"ping"}'`,
      );
    }
    const what = `--heartbeat ${quote(raw)}`;
    const template = parseTemplate(m[2] ?? '', what);
    checkNames(template, what, allCaptures);
    return { intervalMs: Math.round(seconds * 1000), template };
  });

  // -x and --await in the order given; tests and callers without the order get -x first.
  const order = flags.steps ?? [
    ...(flags.execute ?? []).map((value) => ({ kind: 'execute' as const, value })),
    ...(flags.await ?? []).map((value) => ({ kind: 'await' as const, value })),
  ];
  const executes = flags.execute ?? [];
  const usesTemplates = executes.some((x) => x.includes('{{'));
  const active =
    awaits.length > 0 ||
    replies.length > 0 ||
    heartbeats.length > 0 ||
    vars.size > 0 ||
    flags.template === true ||
    usesTemplates ||
    // Listen mode has no -x sender of its own: the layer sends them to each client.
    (mode === 'listen' && executes.length > 0);

  const steps: Step[] = [];
  if (active) {
    // Captures a -x can use are those of the --await steps before it.
    const captured = new Set<string>();
    let awaitIndex = 0;
    for (const s of order) {
      if (s.kind === 'await') {
        const regex = awaits[awaitIndex++] ?? parseRegex('--await', s.value);
        for (const n of groupNames(regex)) captured.add(n);
        steps.push({ kind: 'await', regex, source: s.value });
      } else {
        const what = `-x ${quote(s.value)}`;
        const template = parseTemplate(s.value, what);
        for (const name of template.names) {
          if (!known(name, captured) && allCaptures.has(name)) {
            throw usageError(
              `${what}: {{${name}}} is captured by an --await that comes after this -x`,
              'put the --await that captures it before this -x',
            );
          }
        }
        checkNames(template, what, captured);
        steps.push({ kind: 'send', template });
      }
    }
  }
  const encode = views.encode;
  if (encode !== undefined && encode !== 'gzip' && encode !== 'deflate') {
    // A literal -x that is not JSON cannot be encoded: say so now, not after connecting.
    for (const x of executes) if (!x.includes('{{')) checkJson(x, encode);
  }
  return {
    steps,
    replies,
    heartbeats,
    vars,
    template: flags.template === true,
    active,
    env,
    views,
  };
}

function checkJson(text: string, codec: Codec): void {
  try {
    JSON.parse(text);
  } catch {
    throw usageError(`-x ${quote(text)} is not JSON, so --encode ${codec} cannot send it`);
  }
}

/**
 * options.ts's one call: the session and the conversation options together. When the steps send
 * the -x messages (templates, --await order), the session's own -x list is emptied so the pipe
 * sends nothing itself; the mode stays 'execute' (stdin is never read).
 */
export function withConversation<S extends { execute: string[] }>(
  flags: ConversationFlags,
  env: Readonly<Record<string, string | undefined>>,
  mode: 'client' | 'listen',
  session: S,
): { session: S; conversation: ConversationOptions } {
  const conversation = parseConversationOptions(flags, env, mode);
  if (conversation.steps.some((s) => s.kind === 'send'))
    return { session: { ...session, execute: [] }, conversation };
  return { session, conversation };
}

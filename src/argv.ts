// The common command lines parsed straight from the flag table, without commander: loading and
// configuring commander for ~90 options was about 2 ms and 4 MiB of peak RSS of every run
// (issue 10).
// Only the plain forms are handled here (`--long`, `--long value`, `--long=value`, `-s`,
// `-s value`, one URL); anything else (help, an unknown or misspelt flag, `-abc` groups, `--`,
// a missing value, a second operand) returns undefined and goes through commander, which
// parses it or explains the mistake. For what it accepts the result is commander's to the
// letter: test/unit/argv.test.ts checks both on thousands of command lines.

import { FLAGS, type FlagName, flagName } from './flags.js';

export interface ParsedArgv {
  /** What commander's program.opts() would hold. */
  opts: Record<string, unknown>;
  /** Operands (commander's program.args). */
  args: string[];
  /** -x and --await in command-line order. */
  steps: Array<{ kind: 'execute' | 'await'; value: string }>;
}

interface Known {
  name: FlagName;
  repeatable: boolean;
}

let table: { byFlag: Map<string, Known>; defaults: Record<string, unknown> } | undefined;

function flagTable(): NonNullable<typeof table> {
  if (table) return table;
  const byFlag = new Map<string, Known>();
  const defaults: Record<string, unknown> = {};
  for (const spec of FLAGS) {
    const name = flagName(spec);
    const known = { name, repeatable: spec.repeatable === true };
    byFlag.set(name.long, known);
    if (name.short) byFlag.set(name.short, known);
    // commander: `--no-x` alone makes x true by default; with a `--x` declared before, it does
    // not (--color/--no-color, --proxy/--no-proxy).
    if (name.negate && !byFlag.has(`--${name.long.slice(5)}`)) defaults[name.key] = true;
  }
  table = { byFlag, defaults };
  return table;
}

/** As commander: an argument that may be an option (`-` alone is an operand). */
const maybeOption = (arg: string) => arg.length > 1 && arg[0] === '-';

export function parseArgv(argv: readonly string[]): ParsedArgv | undefined {
  const { byFlag, defaults } = flagTable();
  const opts: Record<string, unknown> = { ...defaults };
  const args: string[] = [];
  const steps: ParsedArgv['steps'] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!maybeOption(arg)) {
      args.push(arg);
      continue;
    }
    let flag = arg;
    let inline: string | undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 2) {
      flag = arg.slice(0, eq);
      inline = arg.slice(eq + 1);
    }
    const known = byFlag.get(flag);
    if (!known) return undefined;
    const { name } = known;
    let value: string | undefined;
    if (name.value === 'none') {
      if (inline !== undefined) return undefined;
    } else if (inline !== undefined) {
      value = inline;
    } else if (name.value === 'required') {
      if (i + 1 >= argv.length) return undefined;
      value = argv[++i] as string;
    } else if (i + 1 < argv.length && !maybeOption(argv[i + 1] as string)) {
      value = argv[++i] as string;
    }
    if (name.key === 'execute' || name.key === 'await') {
      steps.push({ kind: name.key, value: value as string });
    }
    if (known.repeatable) {
      // commander's collector is not called without a value: a case left to commander.
      if (value === undefined) return undefined;
      const prev = opts[name.key];
      opts[name.key] = [...(Array.isArray(prev) ? prev : []), value];
    } else if (value !== undefined) {
      opts[name.key] = value;
    } else {
      opts[name.key] = !name.negate;
    }
  }
  // commander refuses a second operand ('too many arguments'): let it say so.
  if (args.length > 1) return undefined;
  return { opts, args, steps };
}

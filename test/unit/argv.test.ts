// src/argv.ts against commander itself: for every command line the fast parser accepts, commander
// must accept it too and produce the same options, operands and -x/--await order; for every line
// commander refuses, the fast parser must step aside (so commander explains the mistake).

import { describe, expect, it } from 'vitest';
import { parseArgv } from '../../src/argv.js';
import { FLAGS, flagName } from '../../src/flags.js';
import { buildProgram } from '../../src/program.js';

async function viaCommander(argv: string[]) {
  const program = await buildProgram();
  const steps: Array<{ kind: string; value: string }> = [];
  program.on('option:execute', (value: string) => steps.push({ kind: 'execute', value }));
  program.on('option:await', (value: string) => steps.push({ kind: 'await', value }));
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    program.parse(argv, { from: 'user' });
  } catch {
    return undefined;
  }
  return { opts: { ...program.opts() }, args: [...program.args], steps };
}

/** A small deterministic generator, so a failure names a reproducible case. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const VALUES = [
  'hello',
  '',
  '5',
  '-1',
  '-x',
  '--json',
  'ws://h:1/p',
  ':8080',
  'a=b',
  '{"op":"ping"}',
  'name: v',
  '-',
];
const OPERANDS = ['ws://127.0.0.1:9/', ':8080', 'localhost:1', '-', 'wss://x/'];
const ODD = ['--', '-h', '--help', '--version', '-vq', '-xhello', '--nope', '-Z', '--json=1', '-'];

function randomArgv(r: (n: number) => number): string[] {
  const argv: string[] = [];
  const n = r(7);
  for (let k = 0; k < n; k++) {
    const pick = r(20);
    if (pick === 0) {
      argv.push(OPERANDS[r(OPERANDS.length)] as string);
      continue;
    }
    if (pick === 1) {
      argv.push(ODD[r(ODD.length)] as string);
      continue;
    }
    const spec = FLAGS[r(FLAGS.length)];
    if (!spec) continue;
    const name = flagName(spec);
    const flag = name.short && r(2) === 0 ? name.short : name.long;
    const value = VALUES[r(VALUES.length)] as string;
    if (name.value === 'none') argv.push(flag);
    else if (name.value === 'optional' && r(3) === 0) argv.push(flag);
    else if (flag.startsWith('--') && r(3) === 0) argv.push(`${flag}=${value}`);
    else argv.push(flag, value);
  }
  if (r(4) !== 0) argv.splice(r(argv.length + 1), 0, OPERANDS[r(OPERANDS.length)] as string);
  // Sometimes drop the last word, leaving a flag without its value.
  if (r(10) === 0) argv.pop();
  return argv;
}

describe('the fast argv parser agrees with commander', () => {
  it('on the command lines of the README and the bench', async () => {
    const lines = [
      ['ws://127.0.0.1:8080/', '-x', 'hello', '-w', '0'],
      ['ws://127.0.0.1:8080/', '--count', '200000'],
      ['ws://h/', '-w', '0'],
      [':8080', '-x', '{"op":"ping"}', '--await', 'pong', '-x', 'bye', '--json'],
      ['--reconnect', 'ws://h/'],
      ['ws://h/', '--reconnect', '3', '--no-compress', '-H', 'A: 1', '-H', 'B: 2'],
      ['-l', '0', '--echo'],
      ['--dialect=mqtt', 'ws://h/', '--sub', 't/#'],
      ['-c', 'ws://h/', '-n', '--no-color', '--color'],
      ['ws://h/', '--proxy', 'http://p:1', '--no-proxy'],
      ['ws://h/', '-x', '-1', '--reconnect', '-q'],
    ];
    for (const argv of lines) {
      const fast = parseArgv(argv);
      expect(fast, argv.join(' ')).toBeDefined();
      expect(fast, argv.join(' ')).toEqual(await viaCommander(argv));
    }
  });

  it('leaves help, groups, unknown flags, "--", missing values and two operands to commander', () => {
    for (const argv of [
      ['-h'],
      ['ws://h/', '--help'],
      ['--version', 'x'],
      ['ws://h/', '-vq'],
      ['ws://h/', '-xhello'],
      ['ws://h/', '--jsn'],
      ['ws://h/', '--', '-x'],
      ['ws://h/', '-x'],
      ['ws://h/', '--json=yes'],
      ['ws://a/', 'ws://b/'],
    ]) {
      expect(parseArgv(argv), argv.join(' ')).toBeUndefined();
    }
  });

  it('on 3000 random command lines built from the flag table', async () => {
    const r = rng(20261202);
    let fastCount = 0;
    for (let i = 0; i < 3000; i++) {
      const argv = randomArgv(r);
      const fast = parseArgv(argv);
      const slow = await viaCommander(argv);
      if (fast) {
        fastCount++;
        expect(
          slow,
          `commander refused what the fast parser took: ${JSON.stringify(argv)}`,
        ).toBeDefined();
        expect(fast, JSON.stringify(argv)).toEqual(slow);
      }
    }
    // The fast path is the common one, not a branch that is never taken.
    expect(fastCount).toBeGreaterThan(1000);
  }, 60_000);
});

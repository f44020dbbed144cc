// The process boundary: argv → argv.ts (or commander) → Options → run(); signals and
// process.exitCode.
// The only module that touches process.argv, signals and the exit code.

import { type ParsedArgv, parseArgv } from './argv.js';
import { type CompletionOption, completionScript, SHELLS, type Shell } from './completion.js';
import { EXIT, WsxError } from './errors.js';
import { FLAGS, flagName } from './flags.js';
import { type Io, processIo } from './io.js';
import { parseOptions, type RawFlags } from './options.js';
import { buildProgram, VERSION } from './program.js';
import { errorLines, palette } from './render/renderer.js';
import type { Palette } from './render/text.js';
import { run, type SignalName } from './run.js';

/** Has a scheme, or is `:port…`: a URL, never an optional option's value (SPEC §17). */
const looksLikeUrl = (v: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^:\d+/.test(v);

function flagsFrom(parsed: ParsedArgv): RawFlags {
  const o = parsed.opts as RawFlags & { connect?: string };
  const flags: RawFlags = { ...o, url: parsed.args[0] };
  // `--reconnect ws://h/`: commander took the URL as the optional value; give it back.
  for (const key of ['reconnect', 'passphrase'] as const) {
    const v = flags[key];
    if (typeof v !== 'string' || !looksLikeUrl(v)) continue;
    if (flags.url !== undefined) {
      throw new WsxError('usage', `two URLs given: '${v}' and '${flags.url}'`);
    }
    flags.url = v;
    flags[key] = true;
  }
  return flags;
}

/** The command line through commander: help, and the forms src/argv.ts leaves to it. */
async function parseWithCommander(argv: string[], io: Io): Promise<ParsedArgv | number> {
  const program = await buildProgram();
  // -x and --await are one script in command-line order: commander emits option events in argv
  // order, while opts() keeps only one array per option.
  const steps: ParsedArgv['steps'] = [];
  program.on('option:execute', (value: string) => steps.push({ kind: 'execute', value }));
  program.on('option:await', (value: string) => steps.push({ kind: 'await', value }));
  const paintErr = await palette(io.stderrIsTTY && io.env.NO_COLOR === undefined);
  program.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    // Commander's own messages already start with "error: ".
    writeErr: (s) => io.stderr.write(s),
    outputError: (s, write) => write(s.replace(/^error:/, paintErr.red('error:'))),
  });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const { CommanderError } = await import('commander');
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
        return EXIT.ok;
      return EXIT.usage;
    }
    throw err;
  }
  return { opts: program.opts(), args: program.args, steps };
}

export async function main(argv: string[], io: Io): Promise<number> {
  const parsed = parseArgv(argv) ?? (await parseWithCommander(argv, io));
  if (typeof parsed === 'number') return parsed;
  const paintErr = await palette(io.stderrIsTTY && io.env.NO_COLOR === undefined);
  const { steps } = parsed;

  const completion = (parsed.opts as { completion?: string }).completion;
  if (completion !== undefined) return printCompletion(completion, io, paintErr);

  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(
      { ...flagsFrom(parsed), steps },
      {
        stdinIsTTY: io.stdinIsTTY,
        stdoutIsTTY: io.stdoutIsTTY,
        stderrIsTTY: io.stderrIsTTY,
        env: io.env,
      },
    );
  } catch (err) {
    if (err instanceof WsxError) {
      io.stderr.write(errorLines(err, paintErr));
      return EXIT.usage;
    }
    throw err;
  }

  return run(options, io, {
    onSignal(handler) {
      const on = (s: SignalName) => () => handler(s);
      const int = on('SIGINT');
      const term = on('SIGTERM');
      process.on('SIGINT', int);
      process.on('SIGTERM', term);
      return () => {
        process.off('SIGINT', int);
        process.off('SIGTERM', term);
      };
    },
    onHangup(handler) {
      process.on('SIGHUP', handler);
      return () => process.off('SIGHUP', handler);
    },
    askSecret: io.stdinIsTTY ? askSecret : undefined,
  });
}

function printCompletion(shell: string, io: Io, paintErr: Palette): number {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    io.stderr.write(
      errorLines({ message: `--completion takes bash, zsh or fish, not '${shell}'` }, paintErr),
    );
    return EXIT.usage;
  }
  const options: CompletionOption[] = FLAGS.map((spec) => {
    const n = flagName(spec);
    return {
      short: n.short,
      long: n.long,
      description: spec.help,
      takesValue: n.value !== 'none',
      choices: spec.choices ? [...spec.choices] : undefined,
      file: spec.file === true,
    };
  });
  options.push(
    { long: '--version', description: 'print the version', takesValue: false },
    { short: '-h', long: '--help', description: 'show this help', takesValue: false },
  );
  io.stdout.write(completionScript(shell as Shell, options));
  return EXIT.ok;
}

async function askSecret(message: string): Promise<string> {
  const { default: Enquirer } = await import('enquirer');
  try {
    const answer = (await Enquirer.prompt({ type: 'password', name: 'secret', message })) as {
      secret: string;
    };
    return answer.secret;
  } catch {
    throw new WsxError('usage', 'no password given');
  }
}

/** Entry point of the bundle. */
export async function start(): Promise<void> {
  const argv = process.argv.slice(2);
  // The commonest scripted call answers before anything else loads (tty, the option parser).
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const io = await processIo();
  const restoreTerminal = () => {
    if (io.stdinIsTTY) io.stdin().setRawMode?.(false);
  };
  main(argv, io).then(
    async (code) => {
      process.exitCode = code;
      if (io.stdinIsTTY) restoreTerminal();
      io.releaseStdin?.();
      // Everything is written once both streams have taken an empty write. After that nothing
      // should keep the process alive; if something does (a socket a proxy library never closes,
      // say), exiting cannot lose output, so do not make the user wait for it.
      const flushed = Promise.all(
        [io.stdout, io.stderr]
          .filter((s) => !s.destroyed && !s.errored)
          .map((s) => new Promise((resolve) => s.write('', resolve))),
      );
      // After a signal the user wants out: a stdout whose reader has stalled must not keep wsx
      // alive (issue 9, defect 17). Otherwise wait for every byte.
      const interrupted = code === EXIT.sigint || code === EXIT.sigterm;
      await (interrupted
        ? Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, 1000))])
        : flushed);
      setTimeout(() => process.exit(code), 500).unref();
    },
    (err: unknown) => {
      restoreTerminal();
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: internal error: ${message}\n`);
      if (process.env.WSX_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}

void start();

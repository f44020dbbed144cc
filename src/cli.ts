// The process boundary: argv → commander → Options → run(); signals and process.exitCode.
// The only module that touches process.argv, signals and the exit code.

import type { Command } from 'commander';
import { type CompletionOption, completionScript, SHELLS, type Shell } from './completion.js';
import { EXIT, WsxError } from './errors.js';
import { FLAGS, flagName } from './flags.js';
import { type Io, processIo } from './io.js';
import { parseOptions, type RawFlags } from './options.js';
import { errorLines, palette } from './render/renderer.js';
import type { Palette } from './render/text.js';
import { run, type SignalName } from './run.js';

declare const WSX_VERSION: string;
const VERSION = typeof WSX_VERSION === 'string' ? WSX_VERSION : '0.0.0-dev';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export async function buildProgram(): Promise<Command> {
  const { Command, Option } = await import('commander');
  const program = new Command('wsx')
    .description(
      'A WebSocket client and debugging console: REPL, lossless pipes, honest exit codes.',
    )
    .argument('[url]', 'ws://, wss://, http(s)://, host:port, :port, ws+unix:///sock:/path')
    .usage('[options] <url>')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    .exitOverride();
  let group: string | undefined;
  for (const spec of FLAGS) {
    if (spec.group !== group) {
      group = spec.group;
      program.optionsGroup(group);
    }
    const option = new Option(spec.flags, spec.help);
    if (spec.repeatable) option.argParser(collect);
    program.addOption(option);
  }
  program.addHelpText(
    'after',
    `
Exit codes: 0 done, 1 connection failed or lost, 2 usage, 3 server closed with an error code,
            4 --expect/--count not met, 130/143 interrupted.
Examples:
  wsx --demo                                  try it with the built-in server
  wsx wss://echo.example/ws                   interactive console
  wsx ws://localhost:8080 -x '{"op":"ping"}'  send one message, print the replies
  seq 100 | wsx :8080 -w 1 > replies.txt      pipe lines through`,
  );
  return program;
}

/** Has a scheme, or is `:port…`: a URL, never an optional option's value (SPEC §17). */
const looksLikeUrl = (v: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^:\d+/.test(v);

function flagsFrom(program: Command): RawFlags {
  const o = program.opts<RawFlags & { connect?: string }>();
  const flags: RawFlags = { ...o, url: program.args[0] };
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

export async function main(argv: string[], io: Io): Promise<number> {
  const program = await buildProgram();
  // -x and --await are one script in command-line order: commander emits option events in argv
  // order, while opts() keeps only one array per option.
  const steps: NonNullable<RawFlags['steps']> = [];
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

  const completion = program.opts<{ completion?: string }>().completion;
  if (completion !== undefined) return printCompletion(completion, io, paintErr);

  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(
      { ...flagsFrom(program), steps },
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

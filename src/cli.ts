// The process boundary: argv → commander → Options → run(); signals and process.exitCode.
// The only module that touches process.argv, signals and the exit code.

import type { Command } from 'commander';
import { type CompletionOption, completionScript, SHELLS, type Shell } from './completion.js';
import { EXIT, WsxError } from './errors.js';
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
    .option('--completion <shell>', 'print a completion script for bash, zsh or fish')
    .option('-c, --connect <url>', 'the URL to connect to (wscat compatible)')
    .option('--demo', 'start a built-in local server and open the REPL on it')
    .optionsGroup('Listen mode:')
    .option('-l, --listen <port>', 'run a WebSocket server on this port (0 = a free one)')
    .option('--bind <addr>', 'listen on this address (default 127.0.0.1)')
    .option('--echo', 'echo every message back to its sender')
    .option('--broadcast', 'relay every message to all other clients')
    .option('--once', 'exit after the first client disconnects')
    .optionsGroup('Input:')
    .option('-x, --execute <message>', 'send this message, never read stdin (repeatable)', collect)
    .option(
      '-w, --wait <s>',
      'after the input ends, keep receiving for s seconds; -1 = until the server closes (default 2)',
    )
    .option('-0, --null', 'split input on NUL bytes instead of newlines')
    .option('--no-split', 'send all of stdin as one message')
    .option('-b, --binary', 'send binary frames instead of text')
    .option(
      '--replay <file>',
      'send the outgoing messages of a recording, with their original spacing',
    )
    .option(
      '--replay-speed <x>',
      'with --replay: 2 = twice as fast, 0 = as fast as possible (default 1)',
    )
    .option('--no-slash', 'REPL: no slash commands; every line is sent')
    .option('--no-history', 'REPL: do not read or write the history file')
    .optionsGroup('Ending:')
    .option('--count <n>', 'finish after n messages are received')
    .option('--expect <regex>', 'finish when a received text message matches')
    .option('--timeout <s>', 'deadline for the whole run')
    .option(
      '--reconnect [n]',
      'after a failed connect or an abnormal ending, reconnect (at most n times)',
    )
    .option('--ping-interval <s>', 'send a keepalive ping every s seconds')
    .option(
      '--ping-timeout <s>',
      'with --ping-interval: a ping unanswered for s seconds ends the run (exit 1)',
    )
    .optionsGroup('Output:')
    .addOption(
      new Option(
        '--output <format>',
        'pretty, raw or json (default: pretty on a terminal, raw otherwise)',
      ),
    )
    .option('--json', 'same as --output json')
    .option('--no-pretty-json', 'pretty: keep JSON messages on one line')
    .option('--hide-ping-pong', 'pretty: do not show pings and pongs')
    .option('-t, --timestamps', 'pretty: prefix lines with the local time')
    .option('--max-display <bytes>', 'pretty: cut messages longer than this (default 64K; 0 = all)')
    .option('--binary-as <enc>', 'raw: write binary messages as hex or base64 lines')
    .option('--record <file>', 'append every event to this file as json lines')
    .option('-q, --quiet', 'only errors besides the payloads')
    .option('-v, --verbose', 'handshake details on stderr')
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .optionsGroup('Connection:')
    .option('-H, --header <"Name: value">', 'add a handshake header (repeatable)', collect)
    .option('-s, --subprotocol <name>', 'offer a subprotocol (repeatable)', collect)
    .option('-o, --origin <origin>', 'Origin header')
    .option('--host <host>', 'Host header')
    .option('--auth <user[:pass]>', 'HTTP Basic auth (asks for the password on a terminal)')
    .option('-p, --protocol-version <8|13>', 'WebSocket protocol version (default 13)')
    .option('--no-compress', 'do not offer permessage-deflate')
    .option('--max-message-size <bytes>', 'largest incoming message (default 100M)')
    .option('--handshake-timeout <s>', 'deadline for the opening handshake (default 10)')
    .option('-L, --location', 'follow redirects')
    .option('--max-redirects <n>', 'with -L: at most n hops (default 10)')
    .option(
      '--proxy <url>',
      'http://, https://, socks4://, socks5://, socks5h:// proxy (user:pass@ allowed)',
    )
    .option('--no-proxy', 'ignore HTTPS_PROXY, HTTP_PROXY, ALL_PROXY')
    .optionsGroup('TLS:')
    .option('--ca <file>', 'trust this CA certificate (PEM)')
    .option('--cert <file>', 'client certificate (PEM)')
    .option('--key <file>', 'client private key (PEM)')
    .option('--passphrase [pass]', 'passphrase of the key (asked for, hidden, without a value)')
    .option('-k, --insecure', 'do not verify the server certificate')
    .option('-n, --no-check', 'same as -k (wscat compatible)')
    .showSuggestionAfterError(true)
    .exitOverride();
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

function flagsFrom(program: Command): RawFlags {
  const o = program.opts<RawFlags & { connect?: string }>();
  return { ...o, url: program.args[0] };
}

export async function main(argv: string[], io: Io): Promise<number> {
  const program = await buildProgram();
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
  if (completion !== undefined) return printCompletion(program, completion, io, paintErr);

  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(flagsFrom(program), {
      stdinIsTTY: io.stdinIsTTY,
      stdoutIsTTY: io.stdoutIsTTY,
      stderrIsTTY: io.stderrIsTTY,
      env: io.env,
    });
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
    askSecret: io.stdinIsTTY ? askSecret : undefined,
  });
}

/** Value choices and file-valued options, for completion scripts. */
const CHOICES: Record<string, string[]> = {
  '--output': ['pretty', 'raw', 'json'],
  '--binary-as': ['hex', 'base64'],
  '--protocol-version': ['8', '13'],
  '--completion': [...SHELLS],
};
const FILE_OPTIONS = new Set(['--ca', '--cert', '--key']);

function printCompletion(program: Command, shell: string, io: Io, paintErr: Palette): number {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    io.stderr.write(
      errorLines({ message: `--completion takes bash, zsh or fish, not '${shell}'` }, paintErr),
    );
    return EXIT.usage;
  }
  const options: CompletionOption[] = program.options.map((o) => ({
    short: o.short,
    long: o.long,
    description: o.description,
    takesValue: o.required || o.optional,
    choices: o.long ? CHOICES[o.long] : undefined,
    file: o.long ? FILE_OPTIONS.has(o.long) : false,
  }));
  options.push({ short: '-h', long: '--help', description: 'show this help', takesValue: false });
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
      await Promise.all(
        [io.stdout, io.stderr]
          .filter((s) => !s.destroyed && !s.errored)
          .map((s) => new Promise((resolve) => s.write('', resolve))),
      );
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

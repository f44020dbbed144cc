// commander's program, built from the flag table: --help, --version, and the command lines
// src/argv.ts leaves to it. Loaded only then (commander is about 2 ms of start-up).

import type { Command } from 'commander';
import { FLAGS } from './flags.js';

declare const WSX_VERSION: string;
export const VERSION = typeof WSX_VERSION === 'string' ? WSX_VERSION : '0.0.0-dev';

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

// The REPL session: a readline console over injected streams. Incoming events print above the
// prompt and the half-typed line is kept; slash commands come from the table in commands.ts.

import {
  clearScreenDown,
  createInterface,
  cursorTo,
  type Interface,
  moveCursor,
} from 'node:readline';
import type { Ending } from '../errors.js';
import { WsxError } from '../errors.js';
import type { InStream, OutStream } from '../io.js';
import type { SessionOptions } from '../options.js';
import { errorLines } from '../render/renderer.js';
import type { Palette } from '../render/text.js';
import {
  type Command,
  type CommandContext,
  completeCommand,
  findCommand,
  parseSlash,
} from './commands.js';
import type { Driver } from './driver.js';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history.js';
import { jsonContinues } from './json-continuation.js';

export interface ReplDeps {
  input: InStream;
  /** Where the console lives: the prompt, the typed line, command output. */
  output: OutStream;
  /** Where rendered events go: stdout (a file, with `wsx URL > replies.txt`). */
  dataOutput: OutStream;
  /** Where stderr text goes (a terminal too, usually). */
  errorOutput: OutStream;
  historyFile: string | undefined;
  paintErr: Palette;
  /** Lets the REPL take over how rendered events are written while the prompt is shown. */
  setSink(sink: { out(data: string | Buffer): void; err(text: string): void } | undefined): void;
  /**
   * Does the text typed so far (lines joined with `\n`) continue on the next line? A dialect
   * brings its own rule (GraphQL: until the braces balance); default: jsonContinues, a line that
   * starts `{` or `[` and is not yet complete JSON (SPEC §5).
   */
  continues?: (text: string) => boolean;
  /** The run's layer commands (a dialect's, /filter), besides the built-in table. */
  commands?: readonly Command[];
}

const PROMPT = '> ';
const CONTINUE_PROMPT = '… ';

export async function runRepl(
  ctl: Driver,
  session: SessionOptions,
  deps: ReplDeps,
): Promise<Ending> {
  if (!(await ctl.open())) return ctl.ended;

  const history = session.history && deps.historyFile ? loadHistory(deps.historyFile) : [];
  const rl: Interface = createInterface({
    input: deps.input,
    output: deps.output,
    prompt: PROMPT,
    terminal: true,
    history,
    historySize: session.history ? HISTORY_SIZE : 0,
    removeHistoryDuplicates: true,
    completer: (line: string) => completeCommand(line, ctl.kind, commands),
    tabSize: 2,
  });
  let active = true;
  let buffer: string | undefined; // a message being continued over several lines
  const continues = deps.continues ?? jsonContinues;
  const commands = deps.commands ?? [];

  /**
   * readline's redraw first moves up `prevRows`, the row of the cursor within the prompt and line
   * as last drawn. After we print above the prompt the cursor is at the start of a fresh row, so
   * that must be 0: otherwise, when the typed line wraps, every redraw moves up into what was
   * just printed and wipes it (issue 9, defect 3).
   */
  const atFreshRow = () => {
    (rl as unknown as { prevRows?: number }).prevRows = 0;
  };

  /** Clear the prompt and the typed line, all of its wrapped rows, leaving the cursor there. */
  const clearPrompt = () => {
    // The row of the cursor, not the number of rows: the rows below it are cleared below.
    const pos = rl.getCursorPos();
    moveCursor(deps.output, 0, -pos.rows);
    cursorTo(deps.output, 0);
    clearScreenDown(deps.output);
  };

  /** Print above the prompt, then redraw the prompt and the half-typed line. */
  const printAbove = (stream: OutStream, text: string | Buffer) => {
    if (!active) {
      stream.write(text);
      return;
    }
    clearPrompt();
    stream.write(text);
    atFreshRow();
    rl.prompt(true);
  };
  deps.setSink({
    out: (data) => printAbove(deps.dataOutput, data),
    err: (text) => printAbove(deps.errorOutput, text),
  });

  const showError = (err: unknown) => {
    const e = err instanceof WsxError ? err : new WsxError('io', String(err));
    printAbove(deps.errorOutput, errorLines(e, deps.paintErr));
  };

  const persist = () => {
    if (!session.history || !deps.historyFile) return;
    const entries = (rl as unknown as { history: string[] }).history;
    saveHistory(deps.historyFile, entries);
  };

  const ctx: CommandContext = {
    driver: ctl,
    print: (text) => printAbove(deps.output, `${text}\n`),
    now: () => Date.now(),
    layer: (name) => ctl.layer?.(name),
    maxMessageSize: ctl.maxMessageSize,
    commands,
  };

  const runCommand = async (line: string) => {
    const { name, args } = parseSlash(line);
    const cmd = findCommand(name, ctl.kind, commands);
    if (!cmd) {
      showError(
        new WsxError('usage', `unknown command '/${name}'`, {
          hint: 'type /help; //text sends /text',
        }),
      );
      return;
    }
    if (cmd.needsPeer && !ctl.connected) {
      const [what, hint] =
        ctl.kind === 'client'
          ? ['not connected', 'try /reconnect']
          : ['no client is connected', undefined];
      showError(new WsxError('usage', `/${cmd.name}: ${what}`, { hint }));
      return;
    }
    try {
      await cmd.run(args, ctx);
    } catch (err) {
      showError(err);
    }
  };

  const setPrompt = (p: string) => {
    rl.setPrompt(p);
    rl.prompt();
  };

  rl.on('line', (line) => {
    if (line.startsWith(' ')) {
      // Lines typed with a leading space stay out of history (like HISTCONTROL=ignorespace).
      const h = (rl as unknown as { history: string[] }).history;
      if (h[0] === line) h.shift();
    }
    persist();
    if (buffer !== undefined) {
      buffer += `\n${line}`;
      if (continues(buffer)) return setPrompt(CONTINUE_PROMPT);
      ctl.send(buffer, false, true);
      buffer = undefined;
      return setPrompt(PROMPT);
    }
    if (session.slash && line.startsWith('/') && !line.startsWith('//')) {
      void runCommand(line).then(() => {
        if (active) rl.prompt();
      });
      return;
    }
    const text = session.slash && line.startsWith('//') ? line.slice(1) : line;
    if (text === '') return rl.prompt();
    if (continues(text)) {
      buffer = text;
      return setPrompt(CONTINUE_PROMPT);
    }
    ctl.send(text, false, true);
    rl.prompt();
  });

  rl.on('SIGINT', () => {
    if (rl.line !== '' || buffer !== undefined) {
      // Ctrl-C on a non-empty line clears it.
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      buffer = undefined;
      deps.output.write('^C\n');
      setPrompt(PROMPT);
      return;
    }
    ctl.quit();
  });

  rl.on('close', () => {
    // Ctrl-D, or the input ended. The prompt goes, so the closing lines start their own row
    // instead of trailing after `> `.
    if (active) {
      clearPrompt();
      active = false;
      ctl.quit();
    }
  });

  rl.on('SIGCONT', () => {
    // Back from Ctrl-Z and `fg`: readline paused the input on the way out and, on SIGCONT,
    // restores raw mode and redraws, but leaves the input paused: the REPL was dead (defect 4).
    // The shell printed the job line, so the redraw starts on a fresh row.
    atFreshRow();
    rl.resume();
  });

  ctl.onClosed = () => {
    // The server closed or the connection dropped: print the ending and leave the terminal sane.
    if (active) {
      active = false;
      clearPrompt();
      rl.close();
    }
  };

  rl.prompt();
  const ending = await ctl.ended;
  if (active) {
    active = false;
    rl.close();
  }
  persist();
  deps.setSink(undefined);
  return ending;
}

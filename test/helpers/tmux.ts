// Drive the built CLI in a real pseudo-terminal with tmux: type keys, read the screen.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.js';

let counter = 0;

/** Under CI (.ci/run installs tmux) always true, so a missing tmux fails instead of skipping. */
export function hasTmux(): boolean {
  if (process.env.CI === 'true') return true;
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Prints wsx's exit code and whether the terminal is back in canonical mode. */
const STATUS = `echo "__EXIT=$?"; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'`;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Terminal {
  readonly socket = `wsx-test-${process.pid}-${++counter}`;
  readonly home: string;
  private readonly jobControl: boolean;

  /**
   * `jobControl`: run wsx from an interactive bash, as a job of its own, so Ctrl-Z stops it and
   * `fg` brings it back (under `sh -c` nothing would). The exit status is asked for once the
   * shell's `$ ` prompt is back.
   */
  constructor(
    args: string[],
    opts: {
      env?: Record<string, string>;
      home?: string;
      width?: number;
      stdoutFile?: string;
      jobControl?: boolean;
      /** Run wsx through this command first, e.g. ['ip', 'netns', 'exec', 'ns'] (broker tests). */
      prefix?: string[];
    } = {},
  ) {
    this.jobControl = opts.jobControl === true;
    this.home = opts.home ?? mkdtempSync(join(tmpdir(), 'wsx-home-'));
    const env = {
      HOME: this.home,
      XDG_STATE_HOME: join(this.home, 'state'),
      NO_COLOR: '1',
      TERM: 'xterm-256color',
      ...opts.env,
    };
    const envs = Object.entries(env)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ');
    const prefix = (opts.prefix ?? []).map(quote).join(' ');
    const command = `env ${envs} ${prefix ? `${prefix} ` : ''}${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}${opts.stdoutFile ? ` > ${quote(opts.stdoutFile)}` : ''}`;
    if (this.jobControl) {
      this.tmux(
        'new-session',
        '-d',
        '-x',
        String(opts.width ?? 110),
        '-y',
        '40',
        '-s',
        'main',
        `env PS1='$ ' HISTFILE=/dev/null bash --norc --noprofile -i`,
      );
      this.type(command);
      this.press('Enter');
      return;
    }
    // After wsx exits: print its exit code and whether the terminal is back in canonical mode.
    const script = `${command}; ${STATUS}; sleep 60`;
    this.tmux(
      'new-session',
      '-d',
      '-x',
      String(opts.width ?? 110),
      '-y',
      '40',
      '-s',
      'main',
      `sh -c ${quote(script)}`,
    );
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
    });
  }

  /** Type text literally (no key names). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** Press keys by tmux name: Enter, C-c, C-d, Up, Tab, ... */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', 'main', '-S', '-200');
  }

  /** The whole history of the pane, wrapped lines joined: what a user can scroll back to. */
  scrollback(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', 'main', '-S', '-');
  }

  title(): string {
    return this.tmux('display-message', '-p', '-t', 'main', '#{pane_title}').trim();
  }

  async waitFor(pattern: RegExp, ms = 8000): Promise<string> {
    const end = Date.now() + ms;
    let last = '';
    while (Date.now() < end) {
      last = this.screen();
      if (pattern.test(last)) return last;
      await new Promise((r) => setTimeout(r, 40));
    }
    throw new Error(`timed out waiting for ${pattern}; screen:\n${last}`);
  }

  /** Wait for wsx to exit; returns its exit code and whether the terminal was left canonical. */
  async exited(ms = 10000): Promise<{ code: number; sane: boolean }> {
    if (this.jobControl) {
      await this.waitFor(/^\$ $/m, ms);
      this.type(STATUS);
      this.press('Enter');
    }
    const s = await this.waitFor(/__EXIT=\d+\n(-?icanon)/, ms);
    const m = /__EXIT=(\d+)\n(-?icanon)/.exec(s);
    return { code: Number(m?.[1]), sane: m?.[2] === 'icanon' };
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

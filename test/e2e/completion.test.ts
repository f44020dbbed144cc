// wsx --completion bash|zsh|fish: scripts that parse in their shells and complete every option.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { has } from '../fixtures/proxies.js';
import { runCli } from '../helpers/cli.js';

async function script(shell: string): Promise<string> {
  const r = await runCli(['--completion', shell]);
  expect(r.code).toBe(0);
  return r.out;
}

/** Every long option the help lists. */
async function longOptions(): Promise<string[]> {
  const help = (await runCli(['--help'])).out;
  return [
    ...new Set([...help.matchAll(/(?:^|[ ,])(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1] as string)),
  ];
}

describe('shell completion', () => {
  it('bash: completes option names and option values', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wsx-comp-')), 'wsx.bash');
    writeFileSync(file, await script('bash'));
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _wsx; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        {
          encoding: 'utf8',
        },
      )
        .trim()
        .split('\n');
    expect(complete(['wsx', '--he'])).toEqual(['--heartbeat', '--header', '--help']);
    expect(complete(['wsx', '--output', ''])).toEqual(['pretty', 'raw', 'json']);
    expect(complete(['wsx', '--completion', 'z'])).toEqual(['zsh']);
    const all = complete(['wsx', '--']);
    for (const opt of await longOptions()) expect(all).toContain(opt);
  });

  it.runIf(has('zsh'))('zsh: the script parses and names every option', async () => {
    const text = await script('zsh');
    const file = join(mkdtempSync(join(tmpdir(), 'wsx-comp-')), '_wsx');
    writeFileSync(file, text);
    execFileSync('zsh', ['-n', file]);
    for (const opt of await longOptions()) expect(text).toContain(opt);
  });

  it.runIf(has('fish'))('fish: the script parses and names every option', async () => {
    const text = await script('fish');
    const file = join(mkdtempSync(join(tmpdir(), 'wsx-comp-')), 'wsx.fish');
    writeFileSync(file, text);
    execFileSync('fish', ['--no-execute', file]);
    for (const opt of await longOptions()) expect(text).toContain(`-l ${opt.slice(2)}`);
    const completions = execFileSync('fish', ['-c', `source ${file}; complete -C 'wsx --out'`], {
      encoding: 'utf8',
    });
    expect(completions).toContain('--output');
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runCli(['--completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --completion takes bash, zsh or fish, not 'tcsh'/);
  });
});

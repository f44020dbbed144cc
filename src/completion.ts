// Pure: shell completion scripts (bash, zsh, fish) generated from the CLI's own option list, so
// they cannot drift from what the CLI accepts.

export interface CompletionOption {
  short?: string;
  long?: string;
  description: string;
  /** Takes a value (e.g. `--output <format>`). */
  takesValue: boolean;
  /** Fixed choices for the value, if any. */
  choices?: string[];
  /** The value is a file path. */
  file?: boolean;
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const quoteSingle = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function completionScript(shell: Shell, options: CompletionOption[]): string {
  switch (shell) {
    case 'bash':
      return bash(options);
    case 'zsh':
      return zsh(options);
    case 'fish':
      return fish(options);
  }
}

function bash(options: CompletionOption[]): string {
  const words = options
    .flatMap((o) => [o.short, o.long].filter((x): x is string => x !== undefined))
    .join(' ');
  const cases = options
    .filter((o) => o.takesValue)
    .map((o) => {
      const names = [o.short, o.long].filter(Boolean).join('|');
      const action = o.choices
        ? `COMPREPLY=( $(compgen -W ${quoteSingle(o.choices.join(' '))} -- "$cur") )`
        : o.file
          ? 'COMPREPLY=( $(compgen -f -- "$cur") )'
          : 'COMPREPLY=()';
      return `    ${names}) ${action}; return ;;`;
    })
    .join('\n');
  return `# wsx bash completion: eval "$(wsx --completion bash)" (e.g. in ~/.bashrc)
_wsx() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W ${quoteSingle(words)} -- "$cur") )
  fi
}
complete -o default -F _wsx wsx
`;
}

function zsh(options: CompletionOption[]): string {
  const esc = (s: string) => s.replace(/[[\]:'\\]/g, (c) => (c === "'" ? `'\\''` : `\\${c}`));
  const specs = options.map((o) => {
    const value = o.takesValue
      ? o.choices
        ? `:value:(${o.choices.join(' ')})`
        : o.file
          ? ':file:_files'
          : ':value:'
      : '';
    const desc = `[${esc(o.description)}]`;
    if (o.short && o.long)
      return `  '(${o.short} ${o.long})'{${o.short},${o.long}}'${desc}${value}'`;
    return `  '${o.long ?? o.short}${desc}${value}'`;
  });
  return `#compdef wsx
# wsx zsh completion: wsx --completion zsh > "\${fpath[1]}/_wsx" (or eval it in ~/.zshrc)
_wsx() {
  _arguments -s \\
${specs.join(' \\\n')} \\
  '1:url:'
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then _wsx "$@"; else compdef _wsx wsx; fi
`;
}

function fish(options: CompletionOption[]): string {
  const lines = options.map((o) => {
    let line = 'complete -c wsx';
    if (o.short) line += ` -s ${o.short.replace(/^-/, '')}`;
    if (o.long) line += ` -l ${o.long.replace(/^--/, '')}`;
    if (o.takesValue)
      line += o.choices ? ` -x -a ${quoteSingle(o.choices.join(' '))}` : o.file ? ' -r -F' : ' -x';
    return `${line} -d ${quoteSingle(o.description)}`;
  });
  return `# wsx fish completion: wsx --completion fish > ~/.config/fish/completions/wsx.fish\n${lines.join('\n')}\n`;
}

import type { CommandUnknownOpts, Option } from '@commander-js/extra-typings';

/**
 * Shell completion scripts written from the command tree itself (commander generates none), so a new command
 * or option is completed as soon as it exists. Each script finds the command path among the words typed so
 * far (words that are subcommands of the path so far), then offers that command's subcommands or options,
 * and an option's choices after it.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface OptionSpec {
  readonly flags: readonly string[];
  readonly description: string;
  readonly takesValue: boolean;
  readonly choices: readonly string[];
}

interface CommandSpec {
  /** Subcommand names from the program down: '' for the program itself. */
  readonly path: string;
  /** Its subcommands, or the values its first argument may take (`completion <shell>`). */
  readonly subcommands: readonly { readonly name: string; readonly description: string }[];
  readonly options: readonly OptionSpec[];
}

/** Every command of the tree, the program first. */
export function commandSpecs(program: CommandUnknownOpts): CommandSpec[] {
  const specs: CommandSpec[] = [];
  const visit = (command: CommandUnknownOpts, path: string) => {
    const options: OptionSpec[] = command.options.filter((option) => !option.hidden).map(optionSpec);
    const argument = command.registeredArguments[0];
    const words = [
      ...command.commands.map((sub) => ({ name: sub.name(), description: sub.summary() || sub.description() })),
      ...(argument?.argChoices ?? []).map((choice) => ({ name: choice, description: argument?.description ?? '' })),
    ];
    specs.push({ path, subcommands: words, options: [...options, HELP] });
    for (const sub of command.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  visit(program, '');
  return specs;
}

function optionSpec(option: Option): OptionSpec {
  return {
    flags: [option.short, option.long].filter((flag): flag is string => flag !== undefined),
    description: option.description,
    takesValue: option.required || option.optional,
    choices: option.argChoices ?? [],
  };
}

/** Commander gives every command -h, --help, outside its `options`. */
const HELP: OptionSpec = { flags: ['-h', '--help'], description: 'display help for command', takesValue: false, choices: [] };

export function completionScript(shell: Shell, program: CommandUnknownOpts): string {
  const name = program.name();
  const specs = commandSpecs(program);
  switch (shell) {
    case 'bash':
      return bashScript(name, specs);
    case 'zsh':
      return zshScript(name, specs);
    case 'fish':
      return fishScript(name, specs);
  }
}

const functionName = (name: string) => `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
/** Single-quoted for sh-like shells (zsh and bash alike). */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const paths = (specs: readonly CommandSpec[]) => specs.filter((spec) => spec.path !== '').map((spec) => spec.path);

function bashScript(name: string, specs: readonly CommandSpec[]): string {
  const fn = functionName(name);
  const cases = specs.map((spec) => {
    const values = spec.options.filter((option) => option.takesValue);
    const free = values.filter((option) => option.choices.length === 0).flatMap((option) => option.flags);
    const valueCases = [
      ...values.filter((option) => option.choices.length > 0).map((option) => `        ${option.flags.join('|')}) COMPREPLY=($(compgen -W ${quote(option.choices.join(' '))} -- "$cur")); return;;`),
      // A value of its own (a URL, an id): nothing to offer but files (complete -o default).
      ...(free.length > 0 ? [`        ${free.join('|')}) return;;`] : []),
    ];
    return [
      `    ${quote(spec.path)})`,
      `      words=${quote(spec.subcommands.map((sub) => sub.name).join(' '))}`,
      `      flags=${quote(spec.options.flatMap((option) => option.flags).join(' '))}`,
      ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
      '      ;;',
    ].join('\n');
  });
  return `# bash completion for ${name}: eval "$(${name} completion bash)", or save it in your bash_completion.d
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" word i next words flags
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    next="\${path:+$path }$word"
    case "$next" in
      ${paths(specs).map(quote).join('|')}) path="$next";;
    esac
  done
  case "$path" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ -n "$words" ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o default -F ${fn} ${name}
`;
}

function zshScript(name: string, specs: readonly CommandSpec[]): string {
  const fn = functionName(name);
  const describe = (text: string) => text.replace(/:/g, '\\:');
  const cases = specs.map((spec) => {
    const values = spec.options.filter((option) => option.takesValue);
    const valueCases = values.map((option) => `        (${option.flags.join('|')}) ${option.choices.length > 0 ? `compadd -- ${option.choices.map(quote).join(' ')}` : `_message ${quote(option.description)}`}; return;;`);
    return [
      `    (${quote(spec.path)})`,
      `      commands=(${spec.subcommands.map((sub) => quote(`${sub.name}:${describe(sub.description)}`)).join(' ')})`,
      `      flags=(${spec.options.flatMap((option) => option.flags.map((flag) => quote(`${flag}:${describe(option.description)}`))).join(' ')})`,
      ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
      '      ;;',
    ].join('\n');
  });
  return `#compdef ${name}
# zsh completion for ${name}: eval "$(${name} completion zsh)", or save it as ${fn} in your $fpath
${fn}() {
  local path_so_far="" word next prev="\${words[CURRENT-1]}" i
  local -a commands flags
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    next="\${path_so_far:+$path_so_far }$word"
    case "$next" in
      (${paths(specs).map(quote).join('|')}) path_so_far="$next";;
    esac
  done
  case "$path_so_far" in
${cases.join('\n')}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _describe 'option' flags
  elif (( \${#commands} )); then
    _describe 'command' commands
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

function fishScript(name: string, specs: readonly CommandSpec[]): string {
  const fn = `__${name.replace(/[^A-Za-z0-9_]/g, '_')}_path`;
  const fishQuote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines: string[] = [];
  for (const spec of specs) {
    const at = `-n ${fishQuote(`test (${fn}) = ${fishQuote(spec.path)}`)}`;
    for (const sub of spec.subcommands) lines.push(`complete -c ${name} -f ${at} -a ${fishQuote(sub.name)} -d ${fishQuote(sub.description)}`);
    for (const option of spec.options) {
      const flags = option.flags.map((flag) => (flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`)).join(' ');
      const value = option.takesValue ? (option.choices.length > 0 ? ` -x -a ${fishQuote(option.choices.join(' '))}` : ' -r') : '';
      lines.push(`complete -c ${name} ${at} ${flags}${value} -d ${fishQuote(option.description)}`);
    }
  }
  return `# fish completion for ${name}: ${name} completion fish > ~/.config/fish/completions/${name}.fish
function ${fn}
  set -l known ${paths(specs).map(fishQuote).join(' ')}
  set -l path ''
  for word in (commandline -opc)[2..-1]
    set -l next (string trim -- "$path $word")
    if contains -- $next $known
      set path $next
    end
  end
  echo $path
end
${lines.join('\n')}
`;
}

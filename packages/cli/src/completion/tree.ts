/**
 * The command tree as the completion scripts see it: read from the commander program at run time
 * (so every command and flag added to program.ts is completed without a list kept here), as plain
 * data the bash, zsh and fish generators turn into their own syntax.
 */
import type { Argument, CommandUnknownOpts, Option } from '@commander-js/extra-typings';

/** What a value (of an option or a positional argument) is, so the shell can offer candidates. */
export type ValueHint =
  | { kind: 'file' }
  | { kind: 'dir' }
  /** a program: a name on PATH or a path to an executable */
  | { kind: 'command' }
  | { kind: 'words'; words: readonly string[] }
  /** free text (a URL, a domain, a number): nothing to offer */
  | { kind: 'any' };

export interface OptionSpec {
  /** `--server`, if it has a long form */
  long?: string;
  /** `-d`, if it has a short form */
  short?: string;
  description: string;
  /** absent for a flag that takes no value */
  value?: ValueHint;
  /** the placeholder of the value, `FILE` in `--out <FILE>` */
  valueName?: string;
  /** may be given more than once (`--contact`, `-d`, `-v`) */
  repeatable: boolean;
}

export interface ArgumentSpec {
  name: string;
  value: ValueHint;
}

export interface CommandSpec {
  name: string;
  /** the names from the top: [] for the program itself, ['account', 'register'] */
  path: string[];
  description: string;
  /** the command's own options, then those of its ancestors (commander accepts them after a subcommand) */
  options: OptionSpec[];
  commands: CommandSpec[];
  /** positional arguments in order; the last one repeats when `variadic` */
  args: ArgumentSpec[];
  variadic: boolean;
}

/** Candidate words for options whose values are a known set, by long flag (e.g. `--challenge`). */
export type WordTable = Readonly<Record<string, readonly string[]>>;

/** The placeholder in `--out <FILE>` or `--foo [NAME]`. */
function placeholder(flags: string): string | undefined {
  return /[<[]([^>\]]+)[>\]]/.exec(flags)?.[1];
}

/** A hint from a placeholder or argument name: files for FILE/PATH, directories for DIR, programs for CMD. */
function hintFromName(name: string | undefined): ValueHint {
  const n = (name ?? '').replace(/\.\.\.$/, '');
  if (/^(dir|directory)$|_dir$|-dir$/i.test(n)) return { kind: 'dir' };
  if (/^(file|path)$|_file$|-file$|_path$/i.test(n)) return { kind: 'file' };
  if (/^(cmd|command|program)$/i.test(n)) return { kind: 'command' };
  return { kind: 'any' };
}

function optionSpec(o: Option, words: WordTable): OptionSpec {
  const takesValue = o.required || o.optional;
  const choices = o.argChoices ?? (o.long !== undefined ? words[o.long] : undefined);
  const spec: OptionSpec = {
    description: o.description,
    // an array default means the option collects values; a number (the -v count) means it counts
    repeatable: o.variadic || Array.isArray(o.defaultValue) || (!takesValue && typeof o.defaultValue === 'number'),
  };
  if (o.long !== undefined) spec.long = o.long;
  if (o.short !== undefined) spec.short = o.short;
  if (takesValue) {
    const name = placeholder(o.flags) ?? 'VALUE';
    spec.value = choices ? { kind: 'words', words: choices } : hintFromName(name);
    spec.valueName = name;
  }
  return spec;
}

function argumentHint(a: Argument, siblings: readonly string[], isHelp: boolean): ValueHint {
  if (a.argChoices) return { kind: 'words', words: a.argChoices };
  // `help [command]` names a sibling command
  if (isHelp && a.name() === 'command') return { kind: 'words', words: siblings };
  return hintFromName(a.name());
}

function walk(cmd: CommandUnknownOpts, path: string[], inherited: OptionSpec[], words: WordTable, siblings: readonly string[], isHelp = false): CommandSpec {
  const help = cmd.createHelp();
  const own = help.visibleOptions(cmd).map((o) => optionSpec(o, words));
  const seen = new Set(own.flatMap((o) => [o.long, o.short]).filter((f) => f !== undefined));
  // ancestors' options, except those this command defines itself (its own -h, --help)
  const options = [...own, ...inherited.filter((o) => !(o.long !== undefined && seen.has(o.long)) && !(o.short !== undefined && seen.has(o.short)))];
  const subs = help.visibleCommands(cmd);
  const subNames = subs.map((c) => c.name()).filter((n) => n !== 'help');
  const globals = [...own.filter((o) => o.long !== '--help'), ...inherited];
  const args = cmd.registeredArguments;
  return {
    name: cmd.name(),
    path,
    description: cmd.description(),
    options,
    // commander's implicit `help [command]` (its parent is not set): the argument names a sibling
    commands: subs.map((c) => walk(c, [...path, c.name()], globals, words, subNames, c.name() === 'help')),
    args: args.map((a) => ({ name: a.name(), value: argumentHint(a, siblings, isHelp) })),
    variadic: args.length > 0 && args[args.length - 1]!.variadic,
  };
}

/** The tree of a commander program, with value hints: `words` supplies the known values of some options. */
export function commandTree(program: CommandUnknownOpts, words: WordTable = {}): CommandSpec {
  return walk(program, [], [], words, []);
}

/** Every command of the tree, the root first, parents before their children. */
export function allCommands(root: CommandSpec): CommandSpec[] {
  return [root, ...root.commands.flatMap(allCommands)];
}

/** The flags of an option as typed: `-d`, `--domain`. */
export function flagsOf(o: OptionSpec): string[] {
  return [o.short, o.long].filter((f): f is string => f !== undefined);
}

/**
 * Words the scripts put into shell code unquoted or in single quotes: command names, flags and
 * candidate values. Anything else is refused here, so a strange name can never become shell code.
 */
export function checkedWord(word: string): string {
  if (!/^[A-Za-z0-9_.:@%+,/-]+$/.test(word)) throw new Error(`completion: cannot put ${JSON.stringify(word)} into a completion script`);
  return word;
}

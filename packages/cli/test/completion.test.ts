/**
 * `completion bash|zsh|fish`: the scripts the built CLI prints, loaded into the real shells. bash:
 * the completion function called with COMP_WORDS as bash splits them; zsh: a real interactive zsh
 * in a pseudo-terminal (zpty) with compinit, typing Tab; fish: `complete -C`. The expected
 * commands and flags are read from the same commander tree, so flags added later are checked too.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Argument, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { KEY_TYPES } from 'akamu-client';
import { completion } from '../src/commands/completion.js';
import { buildProgram } from '../src/program.js';
import { CHALLENGE_TYPES } from '../src/solvers.js';
import { assertFailure, runCli, tempDir } from './helpers.js';

const zshCapture = fileURLToPath(new URL('completion-capture.zsh', import.meta.url));

/** The program's command tree; its actions are never run here (the runner covers every version of CommandRunner). */
function program(): CommandUnknownOpts {
  const runner = { setVerbosity: () => {}, setOutput: () => {}, run: async () => {} };
  return buildProgram(runner, { writeOut: () => {}, writeErr: () => {} }) as unknown as CommandUnknownOpts;
}

/** Every command of the tree with its path ('' for the program) and the flags commander accepts there. */
function commandsOf(root: CommandUnknownOpts): { path: string; cmd: CommandUnknownOpts; flags: string[]; subs: string[] }[] {
  const out: { path: string; cmd: CommandUnknownOpts; flags: string[]; subs: string[] }[] = [];
  const visit = (cmd: CommandUnknownOpts, path: string[], inherited: string[]): void => {
    const help = cmd.createHelp();
    const own = help.visibleOptions(cmd).flatMap((o) => [o.short, o.long]).filter((f): f is string => f !== undefined);
    const flags = [...new Set([...own, ...inherited])];
    const subs = help.visibleCommands(cmd);
    out.push({ path: path.join(' '), cmd, flags, subs: subs.map((c) => c.name()) });
    for (const c of subs) visit(c, [...path, c.name()], [...own.filter((f) => f !== '-h' && f !== '--help'), ...inherited]);
  };
  visit(root, [], []);
  return out;
}

const sorted = (xs: readonly string[]): string[] => [...new Set(xs)].filter((x) => x !== '').sort();

/** A shell is there: a test of it runs; without it, it is skipped, except in CI (which installs zsh and fish). */
function shellTest(shell: string): { skip?: string } {
  if (spawnSync(shell, ['-c', 'exit 0']).status === 0) return {};
  assert.notEqual(process.env.CI, 'true', `${shell} is missing in CI (.ci/run installs it)`);
  return { skip: `${shell} is not installed` };
}

/** A directory to complete in: two files, a directory and an executable hook. */
function workDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.pem'), '');
  writeFileSync(join(dir, 'b.pem'), '');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'hook.sh'), '#!/bin/sh\n');
  chmodSync(join(dir, 'hook.sh'), 0o755);
  return dir;
}

async function script(shell: string): Promise<string> {
  const r = await runCli(['completion', shell]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

const tree = commandsOf(program());
const at = (path: string) => tree.find((c) => c.path === path)!;
const top = at('').subs;

describe('completion bash', () => {
  let file = '';
  let cwd = '';
  before(async () => {
    cwd = workDir();
    file = join(tempDir(), 'akamu-cli.bash');
    writeFileSync(file, await script('bash'));
  });

  /** Words as bash splits a command line (COMP_WORDBREAKS: ':' and '=' are words of their own). */
  const bashWords = (line: string): string[] =>
    line.split(' ').flatMap((w, i, all) => (w === '' ? (i === all.length - 1 ? [''] : []) : w.split(/([=:])/).filter((p) => p !== '')));

  /** COMPREPLY for a command line whose last word is being completed, from the sourced script. */
  function complete(line: string, scriptFile = file): string[] {
    const driver = `source "$1"; shift
fn="$(complete -p "$1" | sed -E 's/.*-F ([^ ]+) .*/\\1/')"
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=()
"$fn" "$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', driver, 'bash', scriptFile, ...bashWords(line)], { cwd, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', `no noise on stderr for ${line}`);
    return sorted(r.stdout.split('\n'));
  }

  it('is bash, and completes akamu-cli and akamu with one function', () => {
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', 'source "$1" && complete -p akamu-cli akamu', 'bash', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^complete -F (_\w+) akamu-cli\ncomplete -F \1 akamu\n$/);
  });

  it('offers the subcommands of every level, as the command tree has them', () => {
    assert.ok(['account', 'issue', 'renew', 'revoke', 'import', 'completion', 'help'].every((c) => top.includes(c)), top.join(' '));
    assert.deepEqual(complete('akamu-cli '), sorted(top));
    assert.deepEqual(complete('akamu-cli ac'), ['account']);
    assert.deepEqual(complete('akamu-cli account '), sorted(at('account').subs));
    assert.ok(complete('akamu-cli account ').includes('key-change'));
    assert.deepEqual(complete('akamu-cli import '), sorted(at('import').subs));
    assert.ok(complete('akamu-cli import ').includes('certbot'));
    assert.deepEqual(complete('akamu-cli -v account r'), ['register'], 'a flag without a value is no command');
  });

  it('offers exactly the flags commander accepts for each command (its own, then the global ones)', () => {
    for (const c of tree) {
      assert.deepEqual(complete(`akamu-cli ${c.path ? `${c.path} ` : ''}-`), sorted(c.flags), c.path);
    }
    assert.deepEqual(complete('akamu-cli issue --cha'), ['--challenge']);
    assert.deepEqual(complete('akamu-cli issue --ver'), ['--verbose', '--version'], 'global flags after the subcommand');
    // a leaf without positional arguments offers its flags on an empty word
    assert.deepEqual(complete('akamu-cli revoke '), sorted(at('revoke').flags));
  });

  it('skips option values when finding the command (a value may look like a command)', () => {
    assert.deepEqual(complete('akamu-cli issue -d account --a'), ['--account-key', '--agree-tos']);
    assert.deepEqual(complete('akamu-cli issue --server issue --ou'), ['--out']);
    assert.deepEqual(complete('akamu-cli issue --server=issue --ou'), ['--out']);
  });

  it('offers the known values: challenge types, key types, EAB algorithms, reason codes', () => {
    assert.deepEqual(complete('akamu-cli issue --challenge '), sorted(CHALLENGE_TYPES));
    assert.deepEqual(complete('akamu-cli renew --challenge d'), sorted(CHALLENGE_TYPES.filter((t) => t.startsWith('d'))));
    assert.deepEqual(complete('akamu-cli account key-change --new-key-type '), sorted(KEY_TYPES));
    // bash splits ec:P at ':' and replaces only the text after it
    assert.deepEqual(complete('akamu-cli issue --cert-key-type ec:P'), ['P-256', 'P-384', 'P-521']);
    assert.deepEqual(complete('akamu-cli issue --cert-key-type ec:'), ['P-256', 'P-384', 'P-521']);
    assert.deepEqual(complete('akamu-cli account register --eab-alg '), ['HS256', 'HS384', 'HS512']);
    assert.deepEqual(complete('akamu-cli revoke --reason 1'), ['1', '10']);
    assert.deepEqual(complete('akamu-cli import certbot --dns-challenge '), ['dns-01', 'dns-persist-01']);
    assert.deepEqual(complete('akamu-cli completion '), ['bash', 'fish', 'zsh']);
    assert.deepEqual(complete('akamu-cli issue --server '), [], 'a URL: nothing to offer');
  });

  it('offers files for FILE values, directories for DIR values, programs for CMD values', () => {
    assert.deepEqual(complete('akamu-cli issue --out '), ['a.pem', 'b.pem', 'hook.sh', 'sub']);
    assert.deepEqual(complete('akamu-cli issue --account-key a'), ['a.pem']);
    assert.deepEqual(complete('akamu-cli issue --out='), ['a.pem', 'b.pem', 'hook.sh', 'sub'], '--out=FILE');
    assert.deepEqual(complete('akamu-cli issue --out=b'), ['b.pem']);
    assert.deepEqual(complete('akamu-cli import certbot --certbot-dir '), ['sub']);
    assert.deepEqual(complete('akamu-cli issue --dns-hook ./ho'), ['./hook.sh']);
    assert.ok(complete('akamu-cli issue --dns-hook ba').includes('bash'), 'a program on PATH');
  });

  it('help names the commands of its level', () => {
    assert.deepEqual(complete('akamu-cli help '), sorted(top.filter((c) => c !== 'help')));
    assert.deepEqual(complete('akamu-cli account help '), sorted(at('account').subs.filter((c) => c !== 'help')));
  });

  it('is generated from the command tree when it runs: a command added to the program is completed', () => {
    const p = program();
    p.command('widget').description('a command this test adds')
      .option('--widget-file <FILE>', 'a file').option('--widget-mode <MODE>', 'a mode')
      .addArgument(new Argument('<dir>', 'a directory'));
    const extra = join(tempDir(), 'extra.bash');
    writeFileSync(extra, completion(p, 'bash').script);
    assert.ok(complete('akamu-cli ', extra).includes('widget'));
    assert.deepEqual(complete('akamu-cli widget --widget-', extra), ['--widget-file', '--widget-mode']);
    assert.deepEqual(complete('akamu-cli widget --widget-file a', extra), ['a.pem']);
    assert.deepEqual(complete('akamu-cli widget --widget-mode x ', extra), ['sub'], 'the <dir> argument');
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runCli(['completion', 'tcsh']);
    assertFailure(r, 2, /^error: command-argument value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\.$/);
    assert.equal(r.stdout, '');
  });
});

describe('completion zsh', () => {
  let dir = '';
  let file = '';
  let cwd = '';
  let text = '';
  before(async () => {
    cwd = workDir();
    dir = tempDir();
    file = join(dir, '_akamu-cli');
    text = await script('zsh');
    writeFileSync(file, text);
  });

  /** The matches a real zsh offers for each LINE<Tab>, typed into one session, with the script in $fpath (or sourced). */
  function completeAll(lines: string[], from = dir): string[][] {
    const r = spawnSync('zsh', ['-f', zshCapture, from, ...lines], { cwd, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const answers = r.stdout.split('<end>\n');
    assert.equal(answers.length, lines.length + 1, `one answer per line: ${r.stdout}`);
    return answers.slice(0, -1).map((a) => sorted(a.split('\n')));
  }

  it('names the commands it completes and loads both from $fpath and sourced (text)', () => {
    assert.match(text, /^#compdef akamu-cli akamu\n/);
    assert.match(text, /'--challenge=\[[^\]]*\]:TYPE:\(http-01 /);
    assert.match(text, /compdef _akamu-cli akamu-cli akamu\n/);
  });

  it('is zsh', shellTest('zsh'), () => {
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('completes commands, flags and values in a real zsh', shellTest('zsh'), () => {
    const cases: [string, string[], string?][] = [
      ['akamu-cli ', sorted(top)],
      ['akamu-cli account ', sorted(at('account').subs)],
      ['akamu-cli import certbot --certbot-', ['--certbot-dir']],
      ['akamu-cli issue --challenge ', sorted(CHALLENGE_TYPES)],
      ['akamu-cli issue --cert-key-type ec:', ['ec:P-256', 'ec:P-384', 'ec:P-521']],
      ['akamu issue -d account --a', ['--account-key', '--agree-tos'], 'the short name; a value is no command'],
      ['akamu-cli issue --out ', ['a.pem', 'b.pem', 'hook.sh', 'sub']],
      ['akamu-cli import certbot --cert-dir ', ['sub']],
      ['akamu-cli completion ', ['bash', 'fish', 'zsh']],
      ['akamu-cli -v issue --ver', ['--verbose', '--version']],
    ];
    const answers = completeAll(cases.map(([line]) => line));
    cases.forEach(([line, expected, why], i) => assert.deepEqual(answers[i], expected, why ?? line));
    assert.deepEqual(completeAll(['akamu account '], file), [sorted(at('account').subs)], 'sourced after compinit');
  });
});

describe('completion fish', () => {
  let file = '';
  let cwd = '';
  let text = '';
  before(async () => {
    cwd = workDir();
    file = join(tempDir(), 'akamu-cli.fish');
    text = await script('fish');
    writeFileSync(file, text);
  });

  /** What fish offers for a command line (`complete -C`), candidates without their descriptions. */
  function complete(line: string): string[] {
    const r = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', file, line], { cwd, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return sorted(r.stdout.split('\n').map((l) => l.split('\t')[0]!));
  }

  it('has a complete line for every flag (text)', () => {
    for (const c of tree) {
      for (const f of c.flags.filter((x) => x.startsWith('--'))) assert.ok(text.includes(` -l ${f.slice(2)} `), `${c.path} ${f}`);
    }
    assert.match(text, /^complete -c akamu -w akamu-cli$/m);
  });

  it('is fish', shellTest('fish'), () => {
    const r = spawnSync('fish', ['--no-execute', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('completes commands, flags and values in fish', shellTest('fish'), () => {
    assert.deepEqual(complete('akamu-cli '), sorted(top));
    assert.deepEqual(complete('akamu-cli account '), sorted(at('account').subs));
    assert.deepEqual(complete('akamu-cli account register --'), sorted(at('account register').flags.filter((f) => f.startsWith('--'))));
    assert.deepEqual(complete('akamu-cli issue --challenge '), sorted(CHALLENGE_TYPES));
    assert.deepEqual(complete('akamu issue --key-type ec:P-3'), ['ec:P-384'], 'the short name');
    assert.deepEqual(complete('akamu-cli issue -d account --a'), ['--account-key', '--agree-tos']);
    assert.deepEqual(complete('akamu-cli issue --out '), ['a.pem', 'b.pem', 'hook.sh', 'sub/']);
    assert.deepEqual(complete('akamu-cli import certbot --certbot-dir '), ['sub/']);
    assert.deepEqual(complete('akamu-cli completion '), ['bash', 'fish', 'zsh']);
  });
});

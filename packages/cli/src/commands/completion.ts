/**
 * `akamu-cli completion bash|zsh|fish`: a completion script generated from the command tree this
 * program was built with, so every command and flag is completed without a list to keep.
 */
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { KEY_TYPES } from 'akamu-client';
import { bashScript } from '../completion/bash.js';
import { fishScript } from '../completion/fish.js';
import { commandTree, type WordTable } from '../completion/tree.js';
import { zshScript } from '../completion/zsh.js';
import type { CompletionResult, CompletionShell } from '../results.js';
import { CHALLENGE_TYPES } from '../solvers.js';
import { CLI_NAMES, CLI_VERSION } from '../version.js';

/** The values of options that take one of a known set (the tree's placeholders say FILE, DIR… for the rest). */
export const COMPLETION_WORDS: WordTable = {
  '--challenge': CHALLENGE_TYPES,
  '--key-type': KEY_TYPES,
  '--cert-key-type': KEY_TYPES,
  '--new-key-type': KEY_TYPES,
  '--eab-alg': ['HS256', 'HS384', 'HS512'],
  '--dns-challenge': ['dns-01', 'dns-persist-01'],
  // RFC 5280 CRL reason codes the revoke command accepts (7 is unused)
  '--reason': ['0', '1', '2', '3', '4', '5', '6', '8', '9', '10'],
};

const GENERATORS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

export function completion(program: CommandUnknownOpts, shell: CompletionShell): CompletionResult {
  const script = GENERATORS[shell](commandTree(program, COMPLETION_WORDS), CLI_NAMES, CLI_VERSION);
  return { command: 'completion', shell, script };
}

/** What a command gets to talk to the operator while it runs: the logger, progress lines, prompts. */
import type { Logger } from 'akamu-client';
import { createLogger, logConfig } from './log.js';
import type { StdinPrompter } from './stdin-prompt.js';

export interface Runtime {
  log: Logger;
  /** Write one result line to stdout. */
  out(line: string): void;
  /** Write one progress/notice line to stderr (always shown: notes the user must see). */
  note(line: string): void;
  /** Ask the operator something on stderr and wait for a line on stdin. */
  prompt(text: string): Promise<string>;
}

/** Raw output: the process's stdout and stderr, or buffers in a test. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export function createRuntime(io: Io, verbosity: number, prompter: StdinPrompter): Runtime {
  return {
    log: createLogger(logConfig(verbosity), 'akamu_cli', io.err),
    out: (line) => io.out(`${line}\n`),
    note: (line) => io.err(`${line}\n`),
    prompt: (text) => prompter.ask(text),
  };
}

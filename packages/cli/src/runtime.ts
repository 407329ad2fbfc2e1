/** What a command gets to talk to the operator while it runs: the logger, events, notes, prompts. */
import type { IssueEvents } from 'akamu-client';
import { createLogger, logConfig, type CliLogger } from './log.js';
import { safeMessage } from './render/safe-text.js';
import type { CommandEvent } from './results.js';
import type { StdinPrompter } from './stdin-prompt.js';

export interface Runtime {
  log: CliLogger;
  /** Report a milestone as it happens (results.ts says which); the renderer prints it at once. */
  emit(event: CommandEvent): void;
  /**
   * A free-text line for stderr, shown at once. Kept as a plain callback for the warnings the
   * certbot readers collect while they walk a tree (printed before anything is imported).
   */
  note(line: string): void;
  /** Ask the operator something on stderr and wait for a line on stdin (the manual DNS prompt). */
  prompt(text: string): Promise<string>;
  /** Aborted when the run is interrupted (SIGINT, SIGTERM): the issuance stops and cleans up. */
  signal: AbortSignal;
  /** Watches an issuance as it happens (the progress line on a terminal); absent when nothing watches. */
  issueEvents?: IssueEvents;
}

/** Raw output: the process's stdout and stderr, or buffers in a test. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export function createRuntime(
  io: Io, verbosity: number, prompter: StdinPrompter, onEvent: (e: CommandEvent) => void, signal: AbortSignal = new AbortController().signal,
): Runtime {
  return {
    signal,
    log: createLogger(logConfig(verbosity), 'akamu_cli', io.err),
    emit: onEvent,
    note: (line) => io.err(`${safeMessage(line, false)}\n`),
    prompt: (text) => prompter.ask(text),
  };
}

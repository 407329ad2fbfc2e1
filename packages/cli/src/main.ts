/**
 * akamu-cli as a function: arguments → one command → its result rendered; exit codes; `error:`
 * lines. Importing this module runs nothing (bin/akamu-cli.js calls `main(process.argv)`), so tests
 * can run the program in-process with their own output buffers.
 */
import { CommanderError } from '@commander-js/extra-typings';
import { buildProgram, type CommandRunner } from './program.js';
import type { Io } from './runtime.js';
import type { StdinPrompter } from './stdin-prompt.js';

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** State of one run: the verbosity the flags asked for and the stdin prompter, once a command uses it. */
interface Session {
  verbosity: number;
  prompter?: StdinPrompter;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const session: Session = { verbosity: 0 };
  const runner: CommandRunner = {
    setVerbosity: (v) => {
      session.verbosity = v;
    },
    // the runtime (and with it the library) is loaded only once a command really runs
    run: async (command) => {
      const [{ createRuntime }, { StdinPrompter }] = await Promise.all([import('./runtime.js'), import('./stdin-prompt.js')]);
      session.prompter = new StdinPrompter(io.err);
      await command(createRuntime(io, session.verbosity, session.prompter));
    },
  };
  const program = buildProgram(runner, { writeOut: io.out, writeErr: io.err });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return await printError(err, io, session);
  } finally {
    session.prompter?.close();
  }
}

/** The one place errors are printed: one `error:` line (a stack trace only with -vv); returns the exit code. */
async function printError(err: unknown, io: Io, session: Session): Promise<number> {
  // a command failed, so the library is already loaded: this import costs nothing
  const { AkamuError, UsageError, UnsupportedError } = await import('akamu-client');
  const message = err instanceof Error ? err.message : String(err);
  io.err(`${session.prompter?.promptOpen ? '\n' : ''}error: ${message}\n`);
  if (session.verbosity >= 2 && err instanceof Error && err.stack && !(err instanceof AkamuError && err.code === 'usage')) {
    io.err(`${err.stack}\n`);
  }
  return err instanceof UsageError || err instanceof UnsupportedError ? 2 : 1;
}

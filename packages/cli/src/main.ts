/**
 * akamu-cli as a function: arguments → one command → its result rendered; exit codes; `error:`
 * lines. Importing this module runs nothing (bin/akamu-cli.js calls `main(process.argv)`), so tests
 * can run the program in-process with their own output buffers.
 *
 * While a command runs, SIGINT and SIGTERM abort the run's AbortSignal: the issuance stops and
 * cleans up as on failure (DNS hook `remove`, listeners closed, hook children ended), then the run
 * exits 130 or 143. A second signal ends the process at once.
 */
import { INTERRUPTS, InterruptedError, ResultFailure, type InterruptSignal } from './errors.js';
import type { CommandRunner } from './program.js';
import type { Io } from './runtime.js';
import type { StdinPrompter } from './stdin-prompt.js';
import { CLI_VERSION } from './version.js';

/**
 * Writes to a standard stream that never throw: once the reader is gone (`akamu-cli … | head -1`
 * closes the pipe: EPIPE), further output is dropped and the work goes on.
 */
function streamWriter(stream: () => NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  let watched = false;
  return (text) => {
    if (closed) return;
    const s = stream();
    if (!watched) {
      watched = true;
      s.on('error', () => {
        closed = true;
      });
    }
    try {
      s.write(text);
    } catch {
      closed = true;
    }
  };
}

const processIo: Io = {
  out: streamWriter(() => process.stdout),
  err: streamWriter(() => process.stderr),
};

/** State of one run: the verbosity the flags asked for, the stdin prompter once a command uses it, the signal that interrupted it. */
interface Session {
  verbosity: number;
  prompter?: StdinPrompter;
  interrupted?: InterruptSignal;
}

/**
 * Turns SIGINT/SIGTERM into a call of `onFirst` while a command runs; a second signal re-raises
 * itself with the default action (the process ends at once). Returns the function that stops watching.
 */
function watchSignals(onFirst: (sig: InterruptSignal) => void): () => void {
  let seen = false;
  const handlers = (Object.keys(INTERRUPTS) as InterruptSignal[]).map((sig) => {
    const handler = (): void => {
      if (!seen) {
        seen = true;
        onFirst(sig);
        return;
      }
      unwatch();
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  const unwatch = (): void => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
  return unwatch;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  // `akamu-cli --version` alone needs no parser: answered before commander and the command tree load
  // (any other use of --version goes through commander, which prints the same line)
  if (argv.length === 3 && argv[2] === '--version') {
    io.out(`${CLI_VERSION}\n`);
    return 0;
  }
  const [{ buildProgram }, { CommanderError }] = await Promise.all([import('./program.js'), import('@commander-js/extra-typings')]);
  const session: Session = { verbosity: 0 };
  const runner: CommandRunner = {
    setVerbosity: (v) => {
      session.verbosity = v;
    },
    // the runtime, the renderer and (through the command) the library load only when a command runs
    run: async (command) => {
      const [{ createRuntime }, { StdinPrompter }, text] = await Promise.all([
        import('./runtime.js'), import('./stdin-prompt.js'), import('./render/text.js'),
      ]);
      const lines = { out: (l: string) => io.out(`${l}\n`), err: (l: string) => io.err(`${l}\n`) };
      const prompter = new StdinPrompter(io.err);
      session.prompter = prompter;
      const interrupt = new AbortController();
      const unwatch = watchSignals((sig) => {
        session.interrupted = sig;
        const reason = new InterruptedError(sig);
        interrupt.abort(reason);
        prompter.cancel(reason);
      });
      try {
        const rt = createRuntime(io, session.verbosity, prompter, (event) => text.renderEvent(event, lines), interrupt.signal);
        const result = await command(rt);
        text.renderResult(result, lines);
        // the work is done and shown, but part of it failed (a deploy hook, a certificate of renew --all)
        if ('failure' in result && typeof result.failure === 'string') throw new ResultFailure(result.failure);
      } finally {
        unwatch();
      }
    },
  };
  const program = buildProgram(runner, { writeOut: io.out, writeErr: io.err });
  try {
    await program.parseAsync(argv);
    if (session.interrupted) {
      // the signal came too late to stop anything: the work is done and its results are printed
      io.err(`error: interrupted by ${session.interrupted} after the command had finished\n`);
      return INTERRUPTS[session.interrupted];
    }
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return await printError(err, io, session);
  } finally {
    session.prompter?.close();
  }
}

/**
 * The one place errors are printed: one `error:` line (a stack trace only with -vv); returns the
 * exit code. Control characters in the message are escaped and long lines cut; only an ACME
 * problem keeps its line breaks (one line per subproblem or failed authorization, by construction).
 */
async function printError(err: unknown, io: Io, session: Session): Promise<number> {
  // a command failed, so the library is already loaded: these imports cost nothing
  const [{ AkamuError, AcmeProblemError, UsageError, UnsupportedError }, { rootCause }, { adviceFor }, { safeMessage }] = await Promise.all([
    import('akamu-client'), import('./errors.js'), import('./advice.js'), import('./render/safe-text.js'),
  ]);
  const lead = session.prompter?.promptOpen ? '\n' : '';
  if (session.interrupted) {
    // whatever the interruption made fail, the interruption is what happened
    io.err(`${lead}error: interrupted by ${session.interrupted}\n`);
    return INTERRUPTS[session.interrupted];
  }
  // exit code and stack follow the error a command step wrapped (StepError only adds the step's name)
  const cause = rootCause(err);
  const advice = cause instanceof AkamuError ? adviceFor(cause.hint) : '';
  // the advice is the CLI's own text (it may add a line); only the error's message is escaped
  const message = `${safeMessage(err instanceof Error ? err.message : String(err), cause instanceof AcmeProblemError)}${advice}`;
  io.err(`${lead}error: ${message}\n`);
  if (session.verbosity >= 2 && cause instanceof Error && cause.stack && !(cause instanceof AkamuError && cause.code === 'usage') && !(cause instanceof ResultFailure)) {
    io.err(`${safeMessage(cause.stack, true)}\n`);
  }
  return cause instanceof UsageError || cause instanceof UnsupportedError ? 2 : 1;
}

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
import type { JsonCollector } from './render/json.js';
import type { ProgressLine } from './render/progress.js';
import type { CommandEvent, CommandResult } from './results.js';
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

/**
 * State of one run: the verbosity the flags asked for, the stdin prompter once a command uses it,
 * the signal that interrupted it. With `--json`: what the document collects, and the result.
 */
interface Session {
  verbosity: number;
  /** `--json`: seen in the arguments before they are parsed (for a usage error), then as parsed. */
  json: boolean;
  command?: string;
  prompter?: StdinPrompter;
  interrupted?: InterruptSignal;
  collector?: JsonCollector;
  result?: CommandResult;
  progress?: ProgressLine;
}

/** `--json` among the arguments (before a `--`): how a usage error is reported, before commander has parsed them. */
function jsonAsked(argv: string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

/**
 * The progress line, when it can be shown: stderr is the process's own and a terminal, NO_COLOR
 * is not set, the terminal is not `dumb`, and the output is not JSON.
 */
async function progressLine(io: Io, session: Session): Promise<ProgressLine | undefined> {
  const stderr = process.stderr;
  if (session.json || io !== processIo || stderr.isTTY !== true || process.env.NO_COLOR || process.env.TERM === 'dumb') return undefined;
  const { createProgress } = await import('./render/progress.js');
  return createProgress({ write: io.err, columns: stderr.columns });
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
  const session: Session = { verbosity: 0, json: jsonAsked(argv) };
  const runner: CommandRunner = {
    setVerbosity: (v) => {
      session.verbosity = v;
    },
    setOutput: ({ json, command }) => {
      session.json = json;
      session.command = command;
    },
    // the runtime, the renderer and (through the command) the library load only when a command runs
    run: async (command) => {
      const [{ createRuntime }, { StdinPrompter }, text, json] = await Promise.all([
        import('./runtime.js'), import('./stdin-prompt.js'), import('./render/text.js'), session.json ? import('./render/json.js') : undefined,
      ]);
      const progress = (session.progress = await progressLine(io, session));
      // on a terminal with the progress line, every other output erases it first and draws it again after
      const out: Io = progress ? { out: progress.around(io.out), err: progress.around(io.err) } : io;
      const lines = { out: (l: string) => out.out(`${l}\n`), err: (l: string) => out.err(`${l}\n`) };
      const collector = json ? (session.collector = new json.JsonCollector()) : undefined;
      const prompter = new StdinPrompter(out.err);
      session.prompter = prompter;
      const interrupt = new AbortController();
      const unwatch = watchSignals((sig) => {
        session.interrupted = sig;
        progress?.stop();
        const reason = new InterruptedError(sig);
        interrupt.abort(reason);
        prompter.cancel(reason);
      });
      try {
        const onEvent = collector ? (e: CommandEvent) => collector.event(e) : (e: CommandEvent) => text.renderEvent(e, lines);
        const rt = createRuntime(out, session.verbosity, prompter, onEvent, interrupt.signal);
        if (collector) rt.note = (line) => collector.note(line);
        if (progress) {
          rt.issueEvents = progress.events;
          const ask = rt.prompt;
          rt.prompt = async (question) => {
            progress.pause();
            try {
              return await ask(question);
            } finally {
              progress.resume();
            }
          };
        }
        const result = await command(rt);
        progress?.stop();
        // the JSON document is printed once the run is over (a signal may still come)
        if (collector) session.result = result;
        else text.renderResult(result, lines);
        // the work is done and shown, but part of it failed (a deploy hook, a certificate of renew --all)
        if (!collector && failureOf(result) !== undefined) throw new ResultFailure(failureOf(result)!);
      } finally {
        progress?.stop();
        unwatch();
      }
    },
  };
  // with --json, commander's own error text is not printed: its message goes into the document
  const program = buildProgram(runner, { writeOut: io.out, writeErr: session.json ? () => {} : io.err });
  try {
    await program.parseAsync(argv);
    if (session.interrupted) {
      // the signal came too late to stop anything: the work is done and its results are printed
      const message = `interrupted by ${session.interrupted} after the command had finished`;
      if (session.collector && session.result) {
        const { interruptedError } = await import('./render/json-error.js');
        io.out(session.collector.result(session.result, interruptedError(session.interrupted, message)));
      } else {
        io.err(`error: ${message}\n`);
      }
      return INTERRUPTS[session.interrupted];
    }
    if (session.collector && session.result) io.out(session.collector.result(session.result));
    // a result whose work partly failed (its `failure` is in the document) exits 1
    return session.result && failureOf(session.result) !== undefined ? 1 : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      if (session.json) {
        const { failureDocument, usageError } = await import('./render/json-error.js');
        io.out(failureDocument(undefined, undefined, usageError(err)));
      }
      return 2;
    }
    return await printError(err, io, session);
  } finally {
    session.progress?.stop();
    session.prompter?.close();
  }
}

/** A result's `failure`: the work is done but part of it failed (a deploy hook, a certificate of renew --all). */
function failureOf(result: CommandResult): string | undefined {
  return 'failure' in result && typeof result.failure === 'string' ? result.failure : undefined;
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
  const json = session.json ? await import('./render/json-error.js') : undefined;
  /** With --json, the document on stdout (the open prompt's line still ended on stderr); else the `error:` line. */
  const report = (message: string, error: () => Record<string, unknown>): void => {
    if (!json) return io.err(`${lead}error: ${message}\n`);
    if (lead) io.err(lead);
    // a result whose later step failed (a deploy hook, part of renew --all) is printed with the error
    if (session.collector && session.result) io.out(session.collector.result(session.result, error()));
    else io.out(json.failureDocument(session.collector, session.command, error()));
  };
  if (session.interrupted) {
    // whatever the interruption made fail, the interruption is what happened
    const message = `interrupted by ${session.interrupted}`;
    report(message, () => json!.interruptedError(session.interrupted!, message));
    return INTERRUPTS[session.interrupted];
  }
  // exit code and stack follow the error a command step wrapped (StepError only adds the step's name)
  const cause = rootCause(err);
  const advice = cause instanceof AkamuError ? adviceFor(cause.hint) : '';
  // the advice is the CLI's own text (it may add a line); only the error's message is escaped
  const message = `${safeMessage(err instanceof Error ? err.message : String(err), cause instanceof AcmeProblemError)}${advice}`;
  const exitCode = cause instanceof UsageError || cause instanceof UnsupportedError ? 2 : 1;
  report(message, () => json!.errorObject(err, { message, advice, exitCode }));
  if (session.verbosity >= 2 && cause instanceof Error && cause.stack && !(cause instanceof AkamuError && cause.code === 'usage') && !(cause instanceof ResultFailure)) {
    io.err(`${safeMessage(cause.stack, true)}\n`);
  }
  return exitCode;
}

/**
 * Running an operator's hook program: directly (never through a shell), with its values in the
 * environment only, stdin from /dev/null, stdout and stderr captured (bounded), and a timeout
 * that sends SIGTERM and, after a grace period, SIGKILL. Used by the DNS hook publisher; deploy
 * hooks reuse it. It never throws for the program's own failure: the outcome is returned.
 * The program runs in its own process group, and the timeout or an aborted `signal` ends the whole
 * group, so a hook script's own children (`sleep`, `nsupdate`) do not outlive it.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface CommandOptions {
  /** The program's path or name (looked up on PATH); never split, never given to a shell. */
  command: string;
  args?: readonly string[];
  env: NodeJS.ProcessEnv;
  /** A run longer than this is killed; default 5 minutes. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL; default 5 s. */
  killGraceMs?: number;
  /** Bytes kept of stdout (first) and stderr (last); default 64 KiB each. */
  captureBytes?: number;
  /** Aborting it ends the program as the timeout does (SIGTERM, then SIGKILL after the grace). */
  signal?: AbortSignal;
}

export type CommandOutcome =
  /** The program could not be started (ENOENT, EACCES, …). */
  | { kind: 'not-started'; reason: string; cause: unknown }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; aborted: boolean; stdout: string; stderr: string; durationMs: number };

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const KILL_GRACE_MS = 5_000;
const CAPTURE = 64 * 1024;
/** A grandchild may keep stdout/stderr open after the program exits; stop waiting after this. */
const AFTER_EXIT_MS = 2_000;

function startFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'ENOENT: no such file or directory';
  if (e.code === 'EACCES') return 'EACCES: permission denied (is it executable?)';
  return e.code ?? e.message;
}

/** Sends `sig` to the child's process group (it leads one), else to the child alone. */
function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) {
      process.kill(-child.pid, sig);
      return;
    }
  } catch {
    // the group is gone (or never formed): fall back to the child itself
  }
  child.kill(sig);
}

/** Runs the program to the end (or the timeout, or the abort) and reports what happened. */
export function runCommand(opts: CommandOptions): Promise<CommandOutcome> {
  const capture = opts.captureBytes ?? CAPTURE;
  const started = performance.now();
  return new Promise<CommandOutcome>((resolve) => {
    if (opts.signal?.aborted) {
      resolve({ kind: 'not-started', reason: 'aborted before it started', cause: opts.signal.reason });
      return;
    }
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      // detached: a process group of its own (POSIX), so the whole group can be ended
      child = spawn(opts.command, [...(opts.args ?? [])], { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env, windowsHide: true, detached: process.platform !== 'win32' });
    } catch (err) {
      resolve({ kind: 'not-started', reason: startFailure(err), cause: err });
      return;
    }
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    let aborted = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let afterExitTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (stdout.length < capture) stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-capture);
    });
    const terminate = (): void => {
      if (exit || killTimer) return;
      killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), opts.killGraceMs ?? KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const onAbort = (): void => {
      aborted = true;
      terminate();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (outcome: CommandOutcome): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (afterExitTimer) clearTimeout(afterExitTimer);
      resolve(outcome);
    };
    const settleExit = (): void => {
      if (!exit) return;
      finish({ kind: 'exited', ...exit, timedOut, aborted, stdout, stderr, durationMs: Math.round(performance.now() - started) });
    };
    child.on('error', (err) => {
      if (exit) return; // kill failures after the exit
      finish({ kind: 'not-started', reason: startFailure(err), cause: err });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // what the program started and left behind (a hook's `sleep &`) goes with it on a kill
      if (timedOut || aborted) killGroup(child, 'SIGKILL');
      afterExitTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        settleExit();
      }, AFTER_EXIT_MS);
      afterExitTimer.unref();
    });
    child.on('close', () => settleExit());
  });
}

/** `300 ms` below a second, else `N s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 1000)} s`;
}

/** The last `max` characters of trimmed text, with a leading `…` when cut. */
export function tail(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(t.length - max)}` : t;
}

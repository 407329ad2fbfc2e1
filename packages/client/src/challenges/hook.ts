/** DNS publishing through an external hook program (`<command> add` / `<command> remove`). */
import { spawn } from 'node:child_process';
import { ChallengeError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import type { DnsPublisher, DnsRecord } from './types.js';

export const HOOK_ENV_NAMES = [
  'AKAMU_DOMAIN',
  'AKAMU_TOKEN',
  'AKAMU_TXT',
  'AKAMU_KEY_AUTH',
  'AKAMU_RECORD_NAME',
  'AKAMU_CHALLENGE',
] as const;

export interface HookDnsPublisherOptions {
  log?: Logger;
  /** Environment the AKAMU_* variables are added to; default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Alias of baseEnv (the name used in docs/internals.md); baseEnv wins when both are given. */
  env?: NodeJS.ProcessEnv;
  /** A hook running longer than this is killed (SIGTERM, SIGKILL 5 s later); default 5 minutes. */
  timeoutMs?: number;
  /** Run hooks one at a time instead of in parallel; default false. */
  serial?: boolean;
}

const STDERR_TAIL = 500;
const CAPTURE_LIMIT = 64 * 1024;
const KILL_GRACE_MS = 5_000;

/** The environment a hook sees for a record: base environment + AKAMU_* (inherited AKAMU_* replaced). */
export function hookEnvironment(record: DnsRecord, baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  for (const name of HOOK_ENV_NAMES) delete env[name];
  env.AKAMU_DOMAIN = record.domain;
  env.AKAMU_TOKEN = record.token ?? '';
  env.AKAMU_TXT = record.value;
  env.AKAMU_KEY_AUTH = record.keyAuthorization ?? '';
  env.AKAMU_RECORD_NAME = record.name;
  env.AKAMU_CHALLENGE = record.challengeType;
  return env;
}

function tail(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(t.length - max)}` : t;
}

/**
 * Runs the hook program directly (no shell: the command string is one program path and is never
 * split), with argv exactly `[add]` or `[remove]`; every value travels in the environment
 * (AKAMU_DOMAIN, AKAMU_TOKEN, AKAMU_TXT, AKAMU_KEY_AUTH, AKAMU_RECORD_NAME, AKAMU_CHALLENGE), never
 * in argv (visible in /proc/<pid>/cmdline). stdin is /dev/null; stdout and stderr are captured.
 *
 * Concurrency: by default each `add`/`remove` runs its own process at once, so the issuance flow's
 * concurrent prepare() calls run several hooks in parallel (each with its own environment). A hook
 * that cannot cope with that (e.g. it rewrites one zone file) should lock itself, or pass
 * `serial: true` to run the hooks one after another.
 */
export class HookDnsPublisher implements DnsPublisher {
  readonly command: string;
  private readonly log: Logger;
  private readonly baseEnv: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;
  private readonly serial: boolean;
  private queue: Promise<void> = Promise.resolve();

  constructor(command: string, opts: HookDnsPublisherOptions = {}) {
    this.command = command;
    this.log = opts.log ?? silentLogger;
    this.baseEnv = opts.baseEnv ?? opts.env ?? process.env;
    this.timeoutMs = opts.timeoutMs ?? 5 * 60_000;
    this.serial = opts.serial ?? false;
  }

  add(record: DnsRecord): Promise<void> {
    return this.schedule('add', record);
  }

  remove(record: DnsRecord): Promise<void> {
    return this.schedule('remove', record);
  }

  private schedule(op: 'add' | 'remove', record: DnsRecord): Promise<void> {
    if (!this.serial) return this.run(op, record);
    const p = this.queue.then(() => this.run(op, record));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private run(op: 'add' | 'remove', record: DnsRecord): Promise<void> {
    const cmd = this.command;
    const what = `dns hook '${cmd}' ${op}`;
    this.log.debug(`running ${what}`, { domain: record.domain, record: record.name });
    return new Promise<void>((resolve, reject) => {
      let child;
      try {
        child = spawn(cmd, [op], {
          shell: false,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: hookEnvironment(record, this.baseEnv),
          windowsHide: true,
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        reject(new ChallengeError(`dns hook '${cmd}' could not be run: ${e.code ?? e.message}`, { cause: err }));
        return;
      }
      let stdout = '';
      let stderr = '';
      let settled = false;
      let timedOut = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let afterExitTimer: NodeJS.Timeout | undefined;
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        if (stdout.length < CAPTURE_LIMIT) stdout += d;
      });
      child.stderr.on('data', (d: string) => {
        stderr = (stderr + d).slice(-CAPTURE_LIMIT);
      });

      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
      }, this.timeoutMs);

      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        if (afterExitTimer) clearTimeout(afterExitTimer);
        if (stdout.trim()) this.log.debug(`${what} stdout`, { stdout: tail(stdout, 2_000) });
        if (stderr.trim()) this.log.debug(`${what} stderr`, { stderr: tail(stderr, 2_000) });
        if (err) reject(err);
        else resolve();
      };

      const settleExit = (): void => {
        if (!exit) return;
        const { code, signal } = exit;
        const detail = tail(stderr, STDERR_TAIL);
        if (timedOut) {
          finish(
            new ChallengeError(
              `${what} timed out after ${Math.round(this.timeoutMs / 1000)} s and was killed${signal ? ` by ${signal}` : ''}${detail ? `: ${detail}` : ''}`,
            ),
          );
        } else if (signal) {
          finish(new ChallengeError(`${what} was killed by ${signal}${detail ? `: ${detail}` : ''}`));
        } else if (code !== 0) {
          finish(new ChallengeError(`${what} exited with status ${code}${detail ? `: ${detail}` : ''}`));
        } else {
          this.log.debug(`${what} succeeded`, { domain: record.domain });
          finish();
        }
      };

      child.on('error', (err: NodeJS.ErrnoException) => {
        // spawn failure (ENOENT, EACCES, …); kill failures after exit are ignored
        if (exit) return;
        const reason = err.code === 'ENOENT' ? 'ENOENT: no such file or directory' : err.code === 'EACCES' ? 'EACCES: permission denied (is it executable?)' : err.message;
        finish(new ChallengeError(`dns hook '${cmd}' could not be run: ${reason}`, { cause: err }));
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // A grandchild may keep stdout/stderr open; do not wait for it forever.
        afterExitTimer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          settleExit();
        }, 2_000);
        afterExitTimer.unref();
      });
      child.on('close', () => settleExit());
    });
  }
}

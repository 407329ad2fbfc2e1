/** DNS publishing through an external hook program (`<command> add` / `<command> remove`). */
import { formatDuration, runCommand, tail } from '../command.js';
import { ChallengeError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import type { DnsPublisher, DnsRecord } from './types.js';

/** The variables a DNS hook is given (inherited variables of these names are replaced). */
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
  /** Alias of baseEnv; baseEnv wins when both are given. */
  env?: NodeJS.ProcessEnv;
  /** A hook running longer than this is killed (SIGTERM, SIGKILL 5 s later); default 5 minutes. */
  timeoutMs?: number;
  /** Run hooks one at a time instead of in parallel; default false. */
  serial?: boolean;
  /**
   * Aborting it ends a running `add` hook (SIGTERM to its process group, SIGKILL after 5 s) and
   * starts no new `add`; `remove` hooks still run, so cleanup after an interruption completes.
   */
  signal?: AbortSignal;
}

const STDERR_TAIL = 500;

/** The environment a hook sees for a record: base environment + AKAMU_* (inherited AKAMU_* replaced). */
function hookEnvironment(record: DnsRecord, baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
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
  private readonly signal?: AbortSignal;
  private queue: Promise<void> = Promise.resolve();

  constructor(command: string, opts: HookDnsPublisherOptions = {}) {
    this.command = command;
    this.log = opts.log ?? silentLogger;
    this.baseEnv = opts.baseEnv ?? opts.env ?? process.env;
    this.timeoutMs = opts.timeoutMs ?? 5 * 60_000;
    this.serial = opts.serial ?? false;
    if (opts.signal) this.signal = opts.signal;
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

  private async run(op: 'add' | 'remove', record: DnsRecord): Promise<void> {
    const cmd = this.command;
    const what = `dns hook '${cmd}' ${op}`;
    const abort = op === 'add' ? this.signal : undefined;
    abort?.throwIfAborted();
    this.log.debug(`running ${what}`, { domain: record.domain, record: record.name });
    const outcome = await runCommand({ command: cmd, args: [op], env: hookEnvironment(record, this.baseEnv), timeoutMs: this.timeoutMs, signal: abort });
    if (abort?.aborted) throw abort.reason;
    if (outcome.kind === 'not-started') {
      throw new ChallengeError(`dns hook '${cmd}' could not be run: ${outcome.reason}`, { cause: outcome.cause });
    }
    const { code, signal, timedOut, stdout, stderr } = outcome;
    if (stdout.trim()) this.log.debug(`${what} stdout`, { stdout: tail(stdout, 2_000) });
    if (stderr.trim()) this.log.debug(`${what} stderr`, { stderr: tail(stderr, 2_000) });
    const detail = tail(stderr, STDERR_TAIL);
    const suffix = detail ? `: ${detail}` : '';
    if (timedOut) {
      throw new ChallengeError(`${what} timed out after ${formatDuration(this.timeoutMs)} and was killed${signal ? ` by ${signal}` : ''}${suffix}`);
    }
    if (signal) throw new ChallengeError(`${what} was killed by ${signal}${suffix}`);
    if (code !== 0) throw new ChallengeError(`${what} exited with status ${code}${suffix}`);
    this.log.debug(`${what} succeeded`, { domain: record.domain });
  }
}

/**
 * certbot's manual hooks, carried over by `import certbot` (renewal fields `certbot_auth_hook`,
 * `certbot_cleanup_hook`) and run at renewal as certbot runs them, so the same scripts work
 * unchanged:
 *
 * - through `/bin/sh -c <hook>`, as certbot's `subprocess.run(hook, shell=True)` does: certbot
 *   stored a command line (`/usr/local/bin/dns.sh --zone example.com`), not a program. The string
 *   comes only from the renewal config the import wrote (the operator's own certbot setting); no
 *   value of the run is ever put into it: every value travels in the environment. akamu's own
 *   hooks (`--dns-hook`, `--deploy-hook`) keep running without a shell.
 * - one at a time, in authorization order, with certbot's variables: `CERTBOT_DOMAIN` (the name
 *   without `*.`), `CERTBOT_VALIDATION` (the TXT value for dns-01, the key authorization for
 *   http-01), `CERTBOT_TOKEN` (http-01 only), `CERTBOT_REMAINING_CHALLENGES`,
 *   `CERTBOT_ALL_DOMAINS` (comma-separated); the cleanup hook also gets `CERTBOT_AUTH_OUTPUT`
 *   (the auth hook's stdout, trimmed). Inherited `CERTBOT_*` and `AKAMU_*` variables are removed.
 *
 * Unlike certbot, a failing auth hook (non-zero exit, killed, timed out) fails the challenge
 * before it is triggered; a failing cleanup hook is a warning.
 */
import {
  ChallengeError, runCommand,
  type ChallengeContext, type DnsPublisher, type DnsRecord, type Identifier, type Logger, type Solver,
} from 'akamu-client';

/** The shell certbot's hooks run in (certbot: `subprocess.run(..., shell=True)`, i.e. /bin/sh -c). */
export const CERTBOT_HOOK_SHELL = '/bin/sh';

const CERTBOT_ENV = ['CERTBOT_DOMAIN', 'CERTBOT_VALIDATION', 'CERTBOT_TOKEN', 'CERTBOT_REMAINING_CHALLENGES', 'CERTBOT_ALL_DOMAINS', 'CERTBOT_AUTH_OUTPUT'];

export interface CertbotHookOptions {
  auth: string;
  cleanup?: string;
  log: Logger;
  /** Each hook run is killed after this long (SIGTERM, SIGKILL 5 s later); default 5 minutes. */
  timeoutMs?: number;
  /** Ends a running auth hook; cleanup hooks still run. */
  signal?: AbortSignal;
  baseEnv?: NodeJS.ProcessEnv;
}

/** One challenge as certbot describes it to its hooks. */
interface HookChallenge {
  key: string;
  domain: string;
  validation: string;
  token?: string;
}

const STDERR_TAIL = 500;

function tail(text: string): string {
  const t = text.trim();
  return t.length > STDERR_TAIL ? `…${t.slice(t.length - STDERR_TAIL)}` : t;
}

/**
 * The two hooks of one issuance. Auth hooks are collected for one turn of the event loop (the
 * issuance prepares every challenge at once), so the count and the domain list are those of the
 * challenges actually asked for, then run strictly one after another, as certbot does.
 */
export class CertbotHooks {
  private readonly opts: CertbotHookOptions;
  private batch: { ch: HookChallenge; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly envs = new Map<string, NodeJS.ProcessEnv>();

  constructor(opts: CertbotHookOptions) {
    this.opts = opts;
  }

  private environment(vars: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(this.opts.baseEnv ?? process.env)) {
      if (!k.startsWith('AKAMU_') && !CERTBOT_ENV.includes(k)) env[k] = v;
    }
    return { ...env, ...vars };
  }

  auth(ch: HookChallenge): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => this.runBatch());
      this.batch.push({ ch, resolve, reject });
    });
  }

  private runBatch(): void {
    const batch = this.batch;
    this.batch = [];
    const all = batch.map((b) => b.ch.domain).join(',');
    batch.forEach((b, i) => {
      const vars: Record<string, string> = {
        CERTBOT_DOMAIN: b.ch.domain,
        CERTBOT_VALIDATION: b.ch.validation,
        CERTBOT_ALL_DOMAINS: all,
        CERTBOT_REMAINING_CHALLENGES: String(batch.length - i - 1),
        ...(b.ch.token !== undefined ? { CERTBOT_TOKEN: b.ch.token } : {}),
      };
      const run = this.queue.then(async () => {
        const stdout = await this.run('auth', this.opts.auth, vars, b.ch.domain, this.opts.signal);
        this.envs.set(b.ch.key, { ...vars, CERTBOT_AUTH_OUTPUT: stdout.trim() });
      });
      this.queue = run.catch(() => undefined);
      run.then(b.resolve, b.reject);
    });
  }

  /** The cleanup hook for a challenge whose auth hook ran (certbot's order: after validation, one at a time). */
  async cleanup(key: string): Promise<void> {
    const vars = this.envs.get(key);
    const command = this.opts.cleanup;
    if (vars === undefined || command === undefined) return;
    this.envs.delete(key);
    const run = this.queue.then(() => this.run('cleanup', command, vars as Record<string, string>, vars.CERTBOT_DOMAIN ?? ''));
    this.queue = run.then(() => undefined, () => undefined);
    await run;
  }

  /** Runs one hook through the shell; returns its stdout, throws a ChallengeError when it failed. */
  private async run(which: 'auth' | 'cleanup', command: string, vars: Record<string, string>, domain: string, signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const what = `certbot ${which} hook '${command}' for ${domain}`;
    this.opts.log.debug(`running ${what}`);
    const timeoutMs = this.opts.timeoutMs ?? 5 * 60_000;
    const outcome = await runCommand({
      command: CERTBOT_HOOK_SHELL, args: ['-c', command], env: this.environment(vars), timeoutMs, ...(signal ? { signal } : {}),
    });
    if (signal?.aborted) throw signal.reason;
    if (outcome.kind === 'not-started') throw new ChallengeError(`${what} could not be run: ${outcome.reason}`, { cause: outcome.cause });
    const stderr = tail(outcome.stderr);
    const suffix = stderr ? `: ${stderr}` : '';
    if (outcome.stdout.trim()) this.opts.log.debug(`${what} stdout`, { stdout: tail(outcome.stdout) });
    if (outcome.timedOut) throw new ChallengeError(`${what} timed out after ${Math.round(timeoutMs / 1000)} s and was killed${suffix}`);
    if (outcome.signal) throw new ChallengeError(`${what} was killed by ${outcome.signal}${suffix}`);
    if (outcome.code !== 0) throw new ChallengeError(`${what} exited with status ${outcome.code}${suffix}`);
    return outcome.stdout;
  }
}

/** dns-01 records published by certbot's hooks (the record name is certbot's: `_acme-challenge.$CERTBOT_DOMAIN`). */
export class CertbotHookDnsPublisher implements DnsPublisher {
  constructor(private readonly hooks: CertbotHooks) {}

  add(r: DnsRecord): Promise<void> {
    return this.hooks.auth({ key: `${r.name} ${r.value}`, domain: r.domain, validation: r.value });
  }

  remove(r: DnsRecord): Promise<void> {
    return this.hooks.cleanup(`${r.name} ${r.value}`);
  }
}

/** http-01 through certbot's hooks: the auth hook places the key authorization at `.well-known/acme-challenge/$CERTBOT_TOKEN`. */
export class CertbotHookHttp01Solver implements Solver {
  readonly type = 'http-01';

  constructor(private readonly hooks: CertbotHooks, private readonly log: Logger) {}

  private key(ctx: ChallengeContext): string {
    return `${ctx.identifier.value} ${String(ctx.challenge.token)}`;
  }

  check(_identifiers: Identifier[]): void {}

  async prepare(ctx: ChallengeContext): Promise<void> {
    const token = ctx.challenge.token;
    if (typeof token !== 'string') throw new ChallengeError(`http-01 challenge for ${ctx.identifier.value} has no token`);
    await this.hooks.auth({ key: this.key(ctx), domain: ctx.identifier.value, validation: ctx.keyAuthorization, token });
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    try {
      await this.hooks.cleanup(this.key(ctx));
    } catch (err) {
      this.log.warn(`${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * `akamu-cli renew --all DIR`: every `*.renewal.toml` below DIR, renewed when due, in this one
 * process with at most `--concurrency` certificates at once. A certificate that is due is locked as
 * a single renew locks it (a set no run is writing is checked without its lock: the check only
 * reads); one that another run holds is reported `locked`, not waited for. The CA's
 * connection, directory, account sessions and challenge listeners are shared (fleet-sessions.ts), and
 * ARI answers are kept beside each certificate until their Retry-After (files/ari-cache.ts), so an
 * hourly run costs little. Ends with one result: a line per certificate and the counts; exit 1 when
 * any failed.
 */
import { UsageError, type Logger } from 'akamu-client';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { findRenewalConfigs } from '../files/find-configs.js';
import { LockedError } from '../files/lock.js';
import type { CliLogger } from '../log.js';
import type { RenewOptions } from '../program.js';
import type { RenewAllEntry, RenewAllResult, RenewResult, RenewalDecision } from '../results.js';
import type { Runtime } from '../runtime.js';
import { FleetSessions, SharedListeners } from './fleet-sessions.js';
import { renewOne } from './renew.js';

export const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;

/** Injected by tests: the random delay's sleep and dice, the clock of the renewal decisions and the ARI cache. */
export interface RenewAllDeps {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => Date;
}

/** Flags that name one certificate: they make no sense for a whole directory. */
const ONE_CERTIFICATE: [keyof RenewOptions, string][] = [
  ['renewalConfig', '--renewal-config'], ['out', '--out'], ['cert', '--cert'], ['certKey', '--cert-key'],
];

function parseCount(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${value}'`);
  return Number(value);
}

/** A logger whose lines name the certificate they are about (several are worked on at once). */
function prefixed(log: CliLogger, prefix: string): CliLogger {
  const wrap = (f: Logger['info']): Logger['info'] => (message, fields) => f(`${prefix}: ${message}`, fields);
  return {
    error: wrap(log.error), warn: wrap(log.warn), info: wrap(log.info), debug: wrap(log.debug), trace: wrap(log.trace),
    enabled: (level) => log.enabled(level),
    child: (target) => prefixed(log.child(target), prefix),
  };
}

export async function renewAll(opts: RenewOptions, rt: Runtime, deps: RenewAllDeps = {}): Promise<RenewAllResult> {
  const dir = opts.all!;
  for (const [key, flag] of ONE_CERTIFICATE) if (opts[key] !== undefined) throw new UsageError(`${flag} names one certificate; it cannot be used with --all`);
  if (opts.domain?.length) throw new UsageError('-d names the domains of one certificate; it cannot be used with --all');
  const concurrency = parseCount(opts.concurrency, '--concurrency', DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY);
  const maxDelay = parseCount(opts.randomDelay, '--random-delay', 0, 0, 86_400);
  const configs = await findRenewalConfigs(dir, (line) => rt.log.warn(line));

  const randomDelayMs = maxDelay > 0 ? Math.floor((deps.random ?? Math.random)() * maxDelay * 1000) : 0;
  if (randomDelayMs > 0) {
    rt.log.info(`waiting ${(randomDelayMs / 1000).toFixed(1)} s (--random-delay ${maxDelay}) before starting`);
    // an interruption ends the wait at once
    await (deps.sleep ?? ((ms: number) => sleepFor(ms, undefined, { signal: rt.signal })))(randomDelayMs);
  }

  const startedAt = new Date();
  const t0 = performance.now();
  const sessions = new FleetSessions(rt);
  const listeners = new SharedListeners();
  const { all: _a, concurrency: _c, randomDelay: _r, ...flags } = opts;
  const entries: RenewAllEntry[] = new Array(configs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < configs.length && !rt.signal.aborted) {
      const i = next++;
      entries[i] = await renewEntry(configs[i]!, { ...flags, renewalConfig: configs[i]! }, rt, { sessions, listeners, now: deps.now });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, configs.length) }, worker));
  } finally {
    await listeners.close();
    await sessions.close();
  }
  rt.signal.throwIfAborted();

  const count = (s: RenewAllEntry['status']): number => entries.filter((e) => e.status === s).length;
  const counts = { total: entries.length, renewed: count('renewed'), notDue: count('not-due'), failed: count('failed'), locked: count('locked') };
  const result: RenewAllResult = {
    command: 'renew --all', directory: dir, concurrency, randomDelayMs, startedAt, durationMs: Math.round(performance.now() - t0),
    certificates: entries, counts, requests: await sessions.requests(),
  };
  if (counts.failed > 0) result.failure = `${counts.failed} of ${counts.total} certificate${counts.total === 1 ? '' : 's'} failed`;
  return result;
}

/** One certificate: its renewal through the single renew's steps, told as an entry (never thrown). */
async function renewEntry(
  configPath: string, opts: RenewOptions, rt: Runtime, shared: { sessions: FleetSessions; listeners: SharedListeners; now?: () => Date },
): Promise<RenewAllEntry> {
  const t0 = performance.now();
  const entry: RenewAllEntry = { renewalConfigPath: configPath, status: 'failed', durationMs: 0 };
  let decision: RenewalDecision | undefined;
  const certRt: Runtime = {
    ...rt,
    log: prefixed(rt.log, configPath),
    // the decision goes into the summary; nothing is printed per certificate while several run
    emit: (e) => {
      if (e.type === 'renewal-decision') decision = e.decision;
    },
    prompt: () => Promise.reject(new UsageError('no operator prompt with renew --all: a dns-01 or dns-persist-01 renewal needs dns_hook')),
  };
  let ariCached: boolean | undefined;
  try {
    const r: RenewResult = await renewOne(opts, certRt, {
      onSettings: (s) => {
        entry.certificatePath = s.out;
        entry.domains = s.identifiers.map((d) => d.value);
      },
      client: (o, purpose, crt) => shared.sessions.client(o, purpose, crt),
      ariCache: true,
      checkFirst: true,
      shareSolvers: (solvers, ports) => shared.listeners.share(solvers, ports),
      now: shared.now,
      onAri: (cached) => {
        ariCached = cached;
      },
    });
    describeRenewal(entry, r, decision);
  } catch (err) {
    entry.status = err instanceof LockedError ? 'locked' : 'failed';
    entry.error = err instanceof Error ? err.message : String(err);
    if (decision) entry.reason = decision.reason;
  }
  if (ariCached !== undefined) entry.ariCached = ariCached;
  entry.durationMs = Math.round(performance.now() - t0);
  return entry;
}

function describeRenewal(entry: RenewAllEntry, r: RenewResult, decision: RenewalDecision | undefined): void {
  const d = r.checked?.decision ?? decision;
  if (r.checked) entry.notAfter = r.checked.notAfter;
  entry.reason = d?.reason ?? 'issued';
  if (!r.issued) {
    entry.status = 'not-due';
    if (d) entry.dueAt = d.at;
    return;
  }
  entry.status = r.failure !== undefined ? 'failed' : 'renewed';
  entry.serial = r.issued.certificate.serial;
  entry.notAfter = r.issued.certificate.notAfter;
  if (r.issued.deployHook) entry.deployHook = r.issued.deployHook;
  if (r.failure !== undefined) entry.error = r.failure;
}

/**
 * The issuance flow: newOrder → authorizations → challenges → finalize → download.
 *
 * Built for few round trips and no idle waiting:
 * - every authorization is fetched at once; already-valid ones are skipped; each pending one is
 *   given the first solver (in the caller's order) whose challenge type the server offers for it;
 * - each solver in use is started once, every pending challenge is prepared in parallel (a solver
 *   may serialise internally, e.g. manual prompts), then every challenge is triggered;
 * - waiting polls the ORDER, not each authorization: one POST-as-GET reports on all of them
 *   (`pending` while any is pending, `ready` once all are valid, `invalid` as soon as one fails).
 *   Only when the order turns invalid (or the deadline passes) are the worked authorizations
 *   fetched, to say which identifier failed and why;
 * - once `ready`: csr() → finalize → (poll while processing) → download.
 * Requests for N names on a fresh account ≈ 2N + 7 (the nonce pool chains concurrent requests).
 * One deadline (`pollTimeoutMs` from the start, or the earlier `deadline` / the client's own)
 * bounds every request, retry and wait of the run. Waiting for validation stops a moment before it
 * (a tenth of the span, at most 1 s), so the last look at the authorizations, which names the ones
 * still pending, fits in. Cleanup of every prepared challenge and every started solver's stop()
 * always run; their errors are logged, never thrown.
 * An aborted `signal` stops the flow between steps and in every wait (a request in flight ends
 * first); it cleans up as on failure and rejects with the signal's reason. Once finalize has been
 * sent the certificate exists, so the flow then completes (download) rather than discard it.
 */
import type { ChallengeContext, Solver } from '../challenges/types.js';
import { AcmeProblemError, AkamuError, PollTimeoutError } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import { childLogger, type Logger } from '../log.js';
import type { AcmeClient } from './client.js';
import { AuthorizationFailedError, authorizationName, orderInvalidError } from './errors.js';
import { defaultSleep, poll, wholeSeconds, type Clock, type Sleep } from './poll.js';
import { checkSolvable, chooseSolver, type Assignment } from './solverChoice.js';
import type { Authorization, Order } from './types.js';

export interface IssueEvents {
  /** The order was placed (or found): its status and authorization URLs. */
  onOrderPlaced?(order: Order): void;
  /** Each authorization of the order, as first fetched. */
  onAuthorization?(a: Authorization): void;
  /**
   * An authorization reached its final status (`valid`, or a failure such as `invalid`), as soon as
   * the flow learns of it: at the first fetch, or when the order turns `ready` or `invalid`.
   */
  onAuthorizationDone?(a: Authorization): void;
  /** A challenge was prepared by its solver. */
  onChallengeReady?(ctx: ChallengeContext): void;
  /** A challenge was triggered (response POSTed). */
  onChallengeTriggered?(ctx: ChallengeContext): void;
  /** Every authorization is valid (order `ready`). */
  onOrderReady?(order: Order): void;
}

export interface IssueOptions {
  identifiers: readonly Identifier[];
  profile?: string;
  replaces?: string;
  /**
   * Prefer the chain whose top certificate is issued by this common name, among the default chain
   * and the `Link: rel="alternate"` ones (RFC 8555 §7.4.2); the default chain when none matches.
   */
  preferredChain?: string;
  /** Solvers in order of preference; each authorization gets the first that fits. */
  solvers: readonly Solver[];
  /** Called after all authorizations are valid; returns the DER CSR. */
  csr: () => Promise<Buffer>;
  /** Bounds the whole run: every request, retry and wait (validation, issuance). */
  pollTimeoutMs: number;
  /** An earlier end for the run (epoch milliseconds by `now`), e.g. the caller's own deadline. */
  deadline?: number;
  log?: Logger;
  events?: IssueEvents;
  /** Pause between triggering the challenges and the first order poll; default 20 ms. */
  firstPollDelayMs?: number;
  sleep?: Sleep;
  now?: Clock;
  /** Aborting it stops the issuance (after cleanup) with the signal's reason. */
  signal?: AbortSignal;
}

export interface IssueResult {
  order: Order;
  chainPem: string;
  /** With `preferredChain`: whether a matching chain was found, and the top issuers offered. */
  preferredChain?: { requested: string; matched: boolean; offered: string[] };
}

const FIRST_POLL_DELAY_MS = 20;
/** Longest time kept back from the waiting for the report at the deadline. */
const REPORT_RESERVE_MS = 1_000;
/**
 * Problems that say the `replaces` certificate was not accepted: RFC 9773's alreadyReplaced, and
 * what servers answer for a predecessor they cannot find or will not link (Pebble, right after an
 * issuance: serverInternal "could not find an order for the given certificate"; Boulder:
 * malformed "parsing ARI CertID failed", unauthorized "requester account did not request the
 * certificate being replaced"). A plain order still renews.
 */
const REPLACES_REFUSED = ['alreadyReplaced', 'serverInternal', 'malformed', 'unauthorized'];

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Run extends IssueOptions {
  sleep: Sleep;
  now: Clock;
  deadline: number;
  log: Logger;
}

/** A sleep that an aborted signal cuts short (rejecting with its reason). */
function abortableSleep(sleep: Sleep, signal: AbortSignal | undefined): Sleep {
  if (!signal) return sleep;
  return (ms) => new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    sleep(ms).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Runs the whole issuance; returns the final order and the PEM chain. */
export async function issueCertificate(client: AcmeClient, opts: IssueOptions): Promise<IssueResult> {
  const accountUrl = client.accountUrl;
  if (!accountUrl) throw new AkamuError('no account: call newAccount() or login() before issuing', 'no-account');
  checkSolvable(opts.solvers, opts.identifiers);
  const { signal } = opts;
  try {
    signal?.throwIfAborted();
    return await issue(client, opts, accountUrl);
  } catch (err) {
    // whatever step the abort interrupted (a killed hook, a cut sleep), the reason is the abort
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}

async function issue(outer: AcmeClient, opts: IssueOptions, accountUrl: string): Promise<IssueResult> {
  const now = opts.now ?? Date.now;
  const start = now();
  // a view of the client whose every request, retry and wait ends by the run's deadline
  const client = outer.bounded({ deadline: Math.min(start + opts.pollTimeoutMs, opts.deadline ?? Infinity) });
  const hard = client.deadline ?? start + opts.pollTimeoutMs;
  const deadline = hard - Math.min(REPORT_RESERVE_MS, Math.max(0, hard - start) / 10);
  const sleep = abortableSleep(opts.sleep ?? defaultSleep, opts.signal);
  const run: Run = { ...opts, sleep, now, deadline, log: childLogger(opts.log, 'akamu_client') };
  const step = (): void => opts.signal?.throwIfAborted();

  let order = await placeOrder(client, run);
  step();
  opts.events?.onOrderPlaced?.(order);
  if (order.status === 'invalid') throw orderInvalidError(order);
  if (order.status === 'pending') {
    const authzs = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url)));
    step();
    for (const a of authzs) opts.events?.onAuthorization?.(a);
    for (const a of authzs) if (a.status !== 'pending') opts.events?.onAuthorizationDone?.(a);
    const dead = authzs.filter((a) => a.status !== 'valid' && a.status !== 'pending');
    if (dead.length > 0) throw new AuthorizationFailedError(dead);
    const work = authzs.filter((a) => a.status === 'pending').map((a) => assign(client, a, opts.solvers, accountUrl, run));
    run.log.debug(`order ${order.url}: ${work.length} of ${authzs.length} authorization(s) to solve`, {
      solvers: [...new Set(work.map((w) => w.solver.type))],
    });
    if (work.length > 0) order = await solve(client, order, work, run);
  }
  if (order.status === 'pending') {
    // Every authorization was already valid but the order has not caught up yet.
    order = await client.pollOrder(order.url, run.deadline, ['ready', 'valid']);
  }
  if (order.status === 'invalid') throw orderInvalidError(order);
  step();
  opts.events?.onOrderReady?.(order);

  if (order.status === 'ready') {
    const csr = await opts.csr();
    step();
    order = await client.finalize(order, csr, run.deadline);
  } else if (order.status === 'processing') {
    order = await client.pollOrder(order.url, run.deadline, ['valid']);
  }
  // once finalized, the certificate exists: an abort from here on lets the download finish
  if (!order.certificate) throw new AkamuError(`order ${order.url} is ${order.status} but has no certificate URL`, 'order-invalid');
  if (opts.preferredChain !== undefined) {
    const { chainPem, matched, offered } = await client.downloadPreferredChain(order.certificate, opts.preferredChain);
    run.log.debug(`certificate ${order.certificate} downloaded (chain issued by '${offered[matched ? offered.length - 1 : 0]}')`);
    return { order, chainPem, preferredChain: { requested: opts.preferredChain, matched, offered } };
  }
  const chainPem = await client.downloadCertificate(order.certificate);
  run.log.debug(`certificate ${order.certificate} downloaded`);
  return { order, chainPem };
}

/**
 * newOrder; with `replaces` when the server has ARI, once more without it when the server does not
 * accept the `replaces` (REPLACES_REFUSED).
 */
async function placeOrder(client: AcmeClient, run: Run): Promise<Order> {
  const request = { identifiers: run.identifiers, ...(run.profile !== undefined ? { profile: run.profile } : {}) };
  if (run.replaces === undefined || !client.supportsAri) return client.newOrder(request);
  try {
    return await client.newOrder({ ...request, replaces: run.replaces });
  } catch (err) {
    if (!(err instanceof AcmeProblemError && REPLACES_REFUSED.some((t) => err.is(t)))) throw err;
    // RFC 9773 §5: the predecessor was already replaced (e.g. by an earlier, failed attempt's
    // order), or the server cannot link it; a plain order still renews it.
    if (err.is('alreadyReplaced')) run.log.warn(`the server says ${run.replaces} was already replaced; ordering without 'replaces'`);
    else run.log.warn(`the server did not accept 'replaces' ${run.replaces} (${err.detail || err.type}); ordering without it`);
    return client.newOrder(request);
  }
}

function assign(client: AcmeClient, a: Authorization, solvers: readonly Solver[], accountUrl: string, run: Run): Assignment {
  const { solver, challenge } = chooseSolver(solvers, a);
  const ctx: ChallengeContext = {
    authorization: a,
    challenge,
    identifier: { type: a.identifier.type, value: authorizationName(a) },
    keyAuthorization: typeof challenge.token === 'string' ? client.keyAuthorization(challenge.token) : '',
    accountUrl,
    thumbprint: client.accountThumbprint(),
    directory: client.directory,
    deadline: run.deadline,
    ...(run.signal ? { signal: run.signal } : {}),
  };
  return { ctx, solver };
}

async function solve(client: AcmeClient, order: Order, work: Assignment[], run: Run): Promise<Order> {
  const { log } = run;
  const used = [...new Set(work.map((w) => w.solver))];
  const started: Solver[] = [];
  const prepared: Assignment[] = [];
  try {
    for (const s of used) {
      run.signal?.throwIfAborted();
      await s.start?.();
      started.push(s);
    }
    await allOrFirstError(work.map(async (w) => {
      prepared.push(w);
      await w.solver.prepare(w.ctx);
      run.events?.onChallengeReady?.(w.ctx);
    }));
    run.signal?.throwIfAborted(); // nothing triggered yet: the CA validates nothing in vain
    await allOrFirstError(work.map(async ({ ctx, solver }) => {
      if (ctx.challenge.status !== 'pending') return; // already processing / valid: just wait
      const payload = solver.responsePayload ? await solver.responsePayload(ctx) : {};
      const updated = await client.respondChallenge(ctx.challenge.url, payload);
      log.debug(`triggered ${ctx.challenge.type} for ${ctx.identifier.value}: ${updated.status}`);
      ctx.challenge = { ...ctx.challenge, ...updated };
      run.events?.onChallengeTriggered?.(ctx);
    }));
    return await waitForOrder(client, order, work, run);
  } finally {
    await Promise.all(prepared.map(({ ctx, solver }) =>
      solver.cleanup(ctx).catch((err: unknown) => {
        log.warn(`cleanup of ${ctx.challenge.type} for ${ctx.identifier.value} failed: ${messageOf(err)}`);
      })));
    for (const s of started) {
      await s.stop?.().catch((err: unknown) => log.warn(`stopping the ${s.type} solver failed: ${messageOf(err)}`));
    }
  }
}

/** Waits for every promise; rethrows the first rejection (in list order) once all have settled. */
async function allOrFirstError(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/**
 * Polls the order until it leaves `pending`. On `invalid`, fetches the worked authorizations to
 * report which failed — waiting (within the deadline) for those still pending, so that every
 * failure is reported and not only the first; at the deadline, to report which are still pending.
 */
async function waitForOrder(client: AcmeClient, order: Order, work: Assignment[], run: Run): Promise<Order> {
  const worked = (): Promise<Authorization[]> => Promise.all(work.map((w) => client.getAuthorization(w.ctx.authorization.url)));
  const failedOf = (authzs: Authorization[]): Authorization[] => authzs.filter((a) => a.status !== 'valid' && a.status !== 'pending');
  const allValid = work.every((w) => w.ctx.challenge.status === 'valid');
  const done = (a: Authorization): void => run.events?.onAuthorizationDone?.(a);
  const ready = await poll<Order>({
    fetch: () => client.fetchOrder(order.url),
    settle: async (current) => {
      if (current.status === 'invalid') {
        const failed = failedOf(await settled(client, work, run, done));
        throw failed.length > 0 ? new AuthorizationFailedError(failed) : orderInvalidError(current);
      }
      return current.status !== 'pending';
    },
    deadline: run.deadline,
    onTimeout: async () => {
      const authzs = await worked();
      const failed = failedOf(authzs);
      if (failed.length > 0) return new AuthorizationFailedError(failed);
      const waiting = authzs.filter((a) => a.status === 'pending').map(authorizationName);
      const what = waiting.length > 0 ? `authorization ${waiting.join(', ')}` : `order ${order.url}`;
      return new PollTimeoutError(`timed out after ${wholeSeconds(run.pollTimeoutMs)} s waiting for ${what}`, order.url);
    },
    firstDelayMs: allValid ? 0 : (run.firstPollDelayMs ?? FIRST_POLL_DELAY_MS),
    sleep: run.sleep,
    now: run.now,
  });
  // the order left `pending` without failing: every worked authorization is valid
  for (const w of work) done({ ...w.ctx.authorization, status: 'valid' });
  return ready;
}

/**
 * The worked authorizations once none is pending (re-fetching only those; `done` hears of each as
 * it settles), or as they are at the deadline.
 */
async function settled(client: AcmeClient, work: Assignment[], run: Run, done: (a: Authorization) => void): Promise<Authorization[]> {
  let latest: Authorization[] = [];
  const fetch = async (): Promise<{ value: Authorization[] }> => {
    latest = await Promise.all(work.map(async (w, i) => {
      const known = latest[i];
      if (known && known.status !== 'pending') return known;
      const a = await client.getAuthorization(w.ctx.authorization.url);
      if (a.status !== 'pending') done(a);
      return a;
    }));
    return { value: latest };
  };
  const deadlinePassed = new Error('deadline passed');
  try {
    return await poll<Authorization[]>({
      fetch,
      settle: (authzs) => authzs.every((a) => a.status !== 'pending'),
      deadline: run.deadline,
      onTimeout: () => deadlinePassed,
      sleep: run.sleep,
      now: run.now,
    });
  } catch (err) {
    if (err === deadlinePassed) return latest;
    throw err;
  }
}

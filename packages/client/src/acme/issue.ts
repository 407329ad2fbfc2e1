/**
 * The issuance flow: newOrder → authorizations → challenges → finalize → download.
 *
 * Built for few round trips and no idle waiting:
 * - every authorization is fetched at once; already-valid ones are skipped;
 * - the solver is started once, every pending challenge is prepared in parallel (a solver may
 *   serialise internally, e.g. manual prompts), then every challenge is triggered;
 * - waiting polls the ORDER, not each authorization: one POST-as-GET reports on all of them
 *   (`pending` while any is pending, `ready` once all are valid, `invalid` as soon as one fails).
 *   Only when the order turns invalid (or the deadline passes) are the worked authorizations
 *   fetched, to say which identifier failed and why. The first poll comes after a short pause
 *   (validation of a local challenge takes a few ms), then Retry-After or a 50 ms → 1 s backoff,
 *   so a fast CA is usually seen `ready` on the first poll;
 * - once `ready`, no authorization is polled at all; csr() → finalize → (poll while processing)
 *   → download.
 * Requests for N names on a fresh account: directory 1, HEAD newNonce 1, newAccount 1, newOrder 1,
 * N authorizations, N challenges, ~1 order poll, finalize 1, ~0–1 order poll, certificate 1
 * ≈ 2N + 7 (the nonce pool chains concurrent requests instead of sending extra HEADs).
 * One deadline (`pollTimeoutMs` from the start) bounds all waiting. Cleanup of every prepared
 * challenge and solver.stop() always run; their errors are logged, never thrown.
 */
import { type ChallengeContext, type Solver } from '../challenges/types.js';
import { AcmeProblemError, AkamuError, UsageError } from '../errors.js';
import { childLogger, type Logger } from '../log.js';
import type { AcmeClient } from './client.js';
import { authorizationName, authorizationsFailed, PollTimeoutError } from './errors.js';
import type { Authorization, Identifier, Order } from './types.js';

export interface IssueEvents {
  /** Each authorization of the order, as first fetched. */
  onAuthorization?(a: Authorization): void;
  /** A challenge was prepared by the solver. */
  onChallengeReady?(ctx: ChallengeContext): void;
  /** A challenge was triggered (response POSTed). */
  onChallengeTriggered?(ctx: ChallengeContext): void;
  /** Every authorization is valid (order `ready`). */
  onOrderReady?(order: Order): void;
}

export interface IssueOptions {
  identifiers: Identifier[];
  profile?: string;
  replaces?: string;
  solver: Solver;
  /** Called after all authorizations are valid; returns the DER CSR. */
  csr: () => Promise<Buffer>;
  /** Bounds all waiting (validation, issuance). */
  pollTimeoutMs: number;
  log?: Logger;
  events?: IssueEvents;
  /** Pause between triggering the challenges and the first order poll; default 20 ms. */
  firstPollDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const FIRST_POLL_DELAY_MS = 20;
const POLL_FIRST_MS = 50;
const POLL_MAX_MS = 1_000;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function seconds(ms: number): number {
  return Math.max(1, Math.round(ms / 1000));
}

/** Runs the whole issuance; returns the final order and the PEM chain. */
export async function issueCertificate(client: AcmeClient, opts: IssueOptions): Promise<{ order: Order; chainPem: string }> {
  const log = childLogger(opts.log, 'akamu_client');
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = Date.now() + opts.pollTimeoutMs;
  const { solver } = opts;
  const accountUrl = client.accountUrl;
  if (!accountUrl) throw new AkamuError('no account: call newAccount() or login() before issuing', 'no-account');
  solver.check?.(opts.identifiers);

  const orderRequest = {
    identifiers: opts.identifiers,
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
  };
  let order: Order;
  if (opts.replaces !== undefined && client.supportsAri) {
    try {
      order = await client.newOrder({ ...orderRequest, replaces: opts.replaces });
    } catch (err) {
      // RFC 9773 §5: the predecessor was already replaced (e.g. by an earlier, failed attempt's
      // order); a plain order still renews it.
      if (!(err instanceof AcmeProblemError && err.is('alreadyReplaced'))) throw err;
      log.warn(`the server says ${opts.replaces} was already replaced; ordering without 'replaces'`);
      order = await client.newOrder(orderRequest);
    }
  } else {
    order = await client.newOrder(orderRequest);
  }
  if (order.status === 'invalid') throw client.orderInvalid(order);

  if (order.status === 'pending') {
    const authzs = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url)));
    for (const a of authzs) opts.events?.onAuthorization?.(a);
    const dead = authzs.filter((a) => a.status !== 'valid' && a.status !== 'pending');
    if (dead.length > 0) throw authorizationsFailed(dead);
    const pending = authzs.filter((a) => a.status === 'pending');
    log.debug(`order ${order.url}: ${pending.length} of ${authzs.length} authorization(s) to solve with ${solver.type}`);
    const contexts = pending.map((a) => challengeContext(client, a, solver.type, accountUrl));
    if (contexts.length > 0) {
      order = await solve(client, order, contexts, { ...opts, sleep, deadline, log });
    }
  }
  if (order.status === 'pending') {
    // Every authorization was already valid but the order has not caught up yet.
    order = await client.pollOrder(order.url, deadline, ['ready', 'valid']);
  }
  if (order.status === 'invalid') throw client.orderInvalid(order);
  opts.events?.onOrderReady?.(order);

  if (order.status === 'ready') {
    const csr = await opts.csr();
    order = await client.finalize(order, csr, deadline);
  } else if (order.status === 'processing') {
    order = await client.pollOrder(order.url, deadline, ['valid']);
  }
  if (!order.certificate) throw new AkamuError(`order ${order.url} is ${order.status} but has no certificate URL`, 'order-invalid');
  const chainPem = await client.downloadCertificate(order.certificate);
  log.debug(`certificate ${order.certificate} downloaded`);
  return { order, chainPem };
}

function challengeContext(client: AcmeClient, a: Authorization, type: string, accountUrl: string): ChallengeContext {
  const name = authorizationName(a);
  const challenge = a.challenges.find((c) => c.type === type);
  if (!challenge) {
    const offered = a.challenges.map((c) => c.type).join(', ') || 'none';
    throw new UsageError(`the server offers no ${type} challenge for ${name} (offered: ${offered})`);
  }
  return {
    authorization: a,
    challenge,
    identifier: { type: a.identifier.type, value: name },
    keyAuthorization: typeof challenge.token === 'string' ? client.keyAuthorization(challenge.token) : '',
    accountUrl,
    thumbprint: client.accountThumbprint(),
    directory: client.directory,
  };
}

interface SolveOptions extends IssueOptions {
  sleep: (ms: number) => Promise<void>;
  deadline: number;
  log: Logger;
}

async function solve(client: AcmeClient, order: Order, contexts: ChallengeContext[], opts: SolveOptions): Promise<Order> {
  const { solver, log } = opts;
  const prepared: ChallengeContext[] = [];
  let started = false;
  try {
    if (solver.start) await solver.start();
    started = true;

    const preparing = await Promise.allSettled(
      contexts.map(async (ctx) => {
        prepared.push(ctx);
        await solver.prepare(ctx);
        opts.events?.onChallengeReady?.(ctx);
      }),
    );
    const prepareFailure = preparing.find((r) => r.status === 'rejected');
    if (prepareFailure) throw prepareFailure.reason;

    const triggering = await Promise.allSettled(
      contexts.map(async (ctx) => {
        if (ctx.challenge.status !== 'pending') return; // already processing / valid: just wait
        const payload = solver.responsePayload ? await solver.responsePayload(ctx) : {};
        const updated = await client.respondChallenge(ctx.challenge.url, payload);
        log.debug(`triggered ${ctx.challenge.type} for ${ctx.identifier.value}: ${updated.status}`);
        ctx.challenge = { ...ctx.challenge, ...updated };
        opts.events?.onChallengeTriggered?.(ctx);
      }),
    );
    const triggerFailure = triggering.find((r) => r.status === 'rejected');
    if (triggerFailure) throw triggerFailure.reason;

    return await waitForOrder(client, order, contexts, opts);
  } finally {
    await Promise.all(
      prepared.map((ctx) =>
        solver.cleanup(ctx).catch((err: unknown) => {
          log.warn(`cleanup of ${ctx.challenge.type} for ${ctx.identifier.value} failed: ${messageOf(err)}`);
        }),
      ),
    );
    if (started && solver.stop) {
      await solver.stop().catch((err: unknown) => log.warn(`stopping the ${solver.type} solver failed: ${messageOf(err)}`));
    }
  }
}

/**
 * Polls the order until it leaves `pending`. On `invalid`, fetches the worked authorizations to
 * report which failed; on timeout, to report which are still pending.
 */
async function waitForOrder(client: AcmeClient, order: Order, contexts: ChallengeContext[], opts: SolveOptions): Promise<Order> {
  const { deadline, sleep } = opts;
  const allValid = contexts.every((c) => c.challenge.status === 'valid');
  if (!allValid) await sleep(Math.min(opts.firstPollDelayMs ?? FIRST_POLL_DELAY_MS, Math.max(0, deadline - Date.now())));
  for (let step = POLL_FIRST_MS; ; step = Math.min(step * 2, POLL_MAX_MS)) {
    const { order: current, retryAfterMs } = await client.getOrderForPoll(order.url);
    if (current.status === 'invalid') {
      const authzs = await Promise.all(contexts.map((c) => client.getAuthorization(c.authorization.url)));
      const failed = authzs.filter((a) => a.status !== 'valid' && a.status !== 'pending');
      throw failed.length > 0 ? authorizationsFailed(failed) : client.orderInvalid(current);
    }
    if (current.status !== 'pending') return current;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const authzs = await Promise.all(contexts.map((c) => client.getAuthorization(c.authorization.url)));
      const failed = authzs.filter((a) => a.status !== 'valid' && a.status !== 'pending');
      if (failed.length > 0) throw authorizationsFailed(failed);
      const waiting = authzs.filter((a) => a.status === 'pending').map(authorizationName);
      const what = waiting.length > 0 ? `authorization ${waiting.join(', ')}` : `order ${order.url}`;
      throw new PollTimeoutError(`timed out after ${seconds(opts.pollTimeoutMs)} s waiting for ${what}`, order.url);
    }
    await sleep(Math.min(Math.max(retryAfterMs ?? 0, step), remaining));
  }
}

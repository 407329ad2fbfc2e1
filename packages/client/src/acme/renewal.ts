/**
 * The renewal decision (RFC 9773 and decisions.md "Renewal"), as a pure function of the
 * certificate's validity, the server's renewal information and the clock.
 *
 * - With ARI: renew from a point inside the suggested window chosen uniformly but
 *   deterministically from the certID, so every run (e.g. a daily cron job) reaches the same
 *   answer without keeping state, while many certificates still spread over the window.
 * - Without ARI: renew once less than a third of the lifetime remains (half, for lifetimes under
 *   ten days), so a daily job does not re-issue every day.
 * - `force` always renews; `at` still says when it would have been due.
 */
import { createHash } from 'node:crypto';
import type { RenewalInfo } from './ari.js';

/** Why a renewal is (or would be) due. */
export type RenewalReason = 'forced' | 'ari' | 'expiry';

export interface RenewalDecision {
  /** True when the certificate should be renewed now. */
  due: boolean;
  /** What the decision rests on: forcing, the ARI window, or the expiry rule. */
  reason: RenewalReason;
  /** When renewal is (or was) due. */
  at: Date;
  /** The server's suggested window, when ARI was used. */
  window?: { start: Date; end: Date };
  /** The server's explanation of the window, when it gave one. */
  explanationUrl?: string;
  /** The certificate's expiry. */
  notAfter: Date;
}

export interface RenewalInput {
  notBefore: Date;
  notAfter: Date;
  /** The server's renewal information; absent when the server has no ARI or it failed. */
  renewalInfo?: RenewalInfo;
  force?: boolean;
  now?: Date;
}

/** A point in [start, end) derived from the certID: the same on every run. */
export function ariDecisionTime(info: RenewalInfo): Date {
  const digest = createHash('sha256').update(info.certId).digest();
  const fraction = Number(digest.readBigUInt64BE(0) >> 11n) / 2 ** 53;
  const { start, end } = info.window;
  return new Date(start.getTime() + Math.floor(fraction * (end.getTime() - start.getTime())));
}

/** The expiry rule: a third of the lifetime before expiry (half, under ten days). */
export function expiryRenewalTime(notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const share = lifetime < 10 * 24 * 3600 * 1000 ? 1 / 2 : 1 / 3;
  return new Date(notAfter.getTime() - Math.floor(lifetime * share));
}

/** Decides whether to renew now; returns data for the caller to render. */
export function renewalDecision(input: RenewalInput): RenewalDecision {
  const now = input.now ?? new Date();
  const info = input.renewalInfo;
  const at = info ? ariDecisionTime(info) : expiryRenewalTime(input.notBefore, input.notAfter);
  const decision: RenewalDecision = {
    due: input.force === true || now.getTime() >= at.getTime(),
    reason: input.force ? 'forced' : info ? 'ari' : 'expiry',
    at,
    notAfter: input.notAfter,
  };
  if (info) decision.window = { start: info.window.start, end: info.window.end };
  if (info?.explanationURL) decision.explanationUrl = info.explanationURL;
  return decision;
}

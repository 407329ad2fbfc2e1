/** dns-01 (RFC 8555 §8.4): TXT `_acme-challenge.<base>.` = b64u(SHA-256(key authorization)). */
import type { Identifier } from '../identifiers.js';
import { dns01TxtValue } from '../jose/challenge.js';
import { type Logger, silentLogger } from '../log.js';
import { baseDomain, refuseIpIdentifiers } from './common.js';
import type { ChallengeContext, DnsPropagation, DnsPublisher, DnsRecord, Solver } from './types.js';

/** `_acme-challenge.<identifier without *.>.` (FQDN with trailing dot). */
export function dns01RecordName(identifierValue: string): string {
  return `_acme-challenge.${baseDomain(identifierValue)}.`;
}

/** The DnsRecord a dns-01 challenge asks for. */
export function dns01Record(ctx: ChallengeContext): DnsRecord {
  const token = ctx.challenge.token;
  return {
    name: dns01RecordName(ctx.identifier.value),
    value: dns01TxtValue(ctx.keyAuthorization),
    domain: baseDomain(ctx.identifier.value),
    identifier: ctx.identifier,
    token: typeof token === 'string' ? token : undefined,
    keyAuthorization: ctx.keyAuthorization,
    challengeType: 'dns-01',
  };
}

export interface Dns01SolverOptions {
  publisher: DnsPublisher;
  /** Wait until each record is visible before the challenge is triggered (e.g. a DnsPropagationCheck). */
  propagation?: DnsPropagation;
  log?: Logger;
}

/**
 * Publishes a record through the publisher, then (with a propagation check) waits, within the
 * run's deadline, until it is visible: the challenge is triggered only after prepare() returns.
 */
export async function publishRecord(record: DnsRecord, ctx: ChallengeContext, opts: Dns01SolverOptions, log: Logger): Promise<void> {
  log.debug(`${record.challengeType}: publishing TXT record`, { name: record.name, value: record.value });
  await opts.publisher.add(record);
  if (opts.propagation) await opts.propagation.wait(record, { deadline: ctx.deadline, signal: ctx.signal });
}

/**
 * Publishes the TXT record through a DnsPublisher (`add` in prepare, `remove` in cleanup).
 * Cleanup never throws: a failing `remove` is reported to the logger at warn.
 */
export class Dns01Solver implements Solver {
  readonly type: string = 'dns-01';
  protected readonly opts: Dns01SolverOptions;
  protected readonly log: Logger;

  constructor(opts: Dns01SolverOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
  }

  /** dns-01 MUST NOT be used for IP identifiers (RFC 8738 §7). */
  check(identifiers: Identifier[]): void {
    refuseIpIdentifiers(this.type, identifiers);
  }

  /** The publisher's own checks (e.g. an RFC 2136 key), before anything is ordered. */
  async start(): Promise<void> {
    await this.opts.publisher.start?.();
  }

  /** The record this solver publishes for a challenge. */
  protected record(ctx: ChallengeContext): DnsRecord {
    return dns01Record(ctx);
  }

  async prepare(ctx: ChallengeContext): Promise<void> {
    await publishRecord(this.record(ctx), ctx, this.opts, this.log);
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    const { publisher } = this.opts;
    if (!publisher.remove) return;
    const record = this.record(ctx);
    try {
      this.log.debug(`${this.type}: removing TXT record`, { name: record.name });
      await publisher.remove(record);
    } catch (err) {
      this.log.warn(`${this.type} cleanup of ${record.name} failed: ${err instanceof Error ? err.message : String(err)}`, {
        record: record.name,
      });
    }
  }
}

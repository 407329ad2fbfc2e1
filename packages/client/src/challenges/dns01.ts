/** dns-01 (RFC 8555 §8.4): TXT `_acme-challenge.<base>.` = b64u(SHA-256(key authorization)). */
import type { Identifier } from '../identifiers.js';
import { dns01TxtValue } from '../jose/challenge.js';
import { type Logger, silentLogger } from '../log.js';
import { baseDomain, refuseIpIdentifiers } from './common.js';
import type { ChallengeContext, DnsPublisher, DnsRecord, Solver } from './types.js';

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
  log?: Logger;
}

/**
 * Publishes the TXT record through a DnsPublisher (`add` in prepare, `remove` in cleanup).
 * Cleanup never throws: a failing `remove` is reported to the logger at warn.
 */
export class Dns01Solver implements Solver {
  readonly type = 'dns-01';
  private readonly publisher: DnsPublisher;
  private readonly log: Logger;

  constructor(opts: Dns01SolverOptions) {
    this.publisher = opts.publisher;
    this.log = opts.log ?? silentLogger;
  }

  /** dns-01 MUST NOT be used for IP identifiers (RFC 8738 §7). */
  check(identifiers: Identifier[]): void {
    refuseIpIdentifiers(this.type, identifiers);
  }

  async prepare(ctx: ChallengeContext): Promise<void> {
    const record = dns01Record(ctx);
    this.log.debug('dns-01: publishing TXT record', { name: record.name, value: record.value });
    await this.publisher.add(record);
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    if (!this.publisher.remove) return;
    const record = dns01Record(ctx);
    try {
      this.log.debug('dns-01: removing TXT record', { name: record.name });
      await this.publisher.remove(record);
    } catch (err) {
      this.log.warn(`dns-01 cleanup of ${record.name} failed: ${err instanceof Error ? err.message : String(err)}`, {
        record: record.name,
      });
    }
  }
}

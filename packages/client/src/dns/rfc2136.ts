/**
 * RFC 2136 DNS UPDATE as a DnsPublisher: TXT records added to and removed from the zone on its
 * primary server, every message signed with a TSIG key (RFC 8945) and every answer verified.
 */
import { ChallengeError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import type { DnsPublisher, DnsRecord } from '../challenges/types.js';
import { serverText, type DnsServerAddress } from './exchange.js';
import { encodeUpdate, fqdn, type TxtChange } from './packet.js';
import { ask, findZone, isInZone, rcodeName } from './query.js';
import type { TsigKey } from './tsig.js';

export interface Rfc2136PublisherOptions {
  /** The zone's primary server (the one that accepts updates). */
  server: DnsServerAddress;
  key: TsigKey;
  /** The zone to update; default: found for each name by an SOA query to the server. */
  zone?: string;
  /**
   * Record names (e.g. `_acme-challenge.<domain>.`) whose zones `start()` finds and probes with an
   * empty update, so a wrong key or zone fails before anything is ordered.
   */
  probeNames?: readonly string[];
  /** TTL of the records added; default 60 s. */
  ttl?: number;
  /** Per DNS attempt; default 5 s. */
  timeoutMs?: number;
  log?: Logger;
  /** Clock for the TSIG signing time (epoch ms); default Date.now. */
  now?: () => number;
}

const UPDATE_MEANING: Record<number, string> = {
  5: 'the key may not update this zone (allow-update / update-policy)',
  9: 'the server is not authoritative for this zone',
  10: 'the name is outside the zone',
};

/**
 * Adds the TXT record of a challenge in `add` and deletes exactly that record (not the others at
 * the same name) in `remove`. The zone comes from the options or from an SOA query per name.
 * `start()` checks key and zones before an issuance orders anything; it runs once.
 */
export class Rfc2136Publisher implements DnsPublisher {
  readonly server: DnsServerAddress;
  private readonly opts: Rfc2136PublisherOptions;
  private readonly log: Logger;
  private readonly zones = new Map<string, Promise<string>>();
  private started?: Promise<void>;

  constructor(opts: Rfc2136PublisherOptions) {
    this.opts = opts;
    this.server = opts.server;
    this.log = opts.log ?? silentLogger;
  }

  /** Finds the zone of every probe name and sends each zone an empty, signed update. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const zones = new Set(await Promise.all((this.opts.probeNames ?? []).map((n) => this.zoneOf(n))));
      await Promise.all([...zones].map((zone) => this.update(zone, [], 'probe')));
    })();
    return this.started;
  }

  /** The zone a record name is updated in. */
  zoneOf(name: string): Promise<string> {
    const key = fqdn(name);
    let zone = this.zones.get(key);
    if (!zone) {
      zone = this.lookUpZone(key);
      zone.catch(() => {});
      this.zones.set(key, zone);
    }
    return zone;
  }

  private async lookUpZone(name: string): Promise<string> {
    if (this.opts.zone !== undefined) {
      const zone = fqdn(this.opts.zone);
      if (!isInZone(name, zone)) throw new ChallengeError(`the record ${name} is not inside zone ${zone}`);
      return zone;
    }
    const zone = await findZone(this.server, name, this.askOptions());
    this.log.debug(`rfc2136: ${name} is in zone ${zone} at ${serverText(this.server)}`);
    return zone;
  }

  async add(record: DnsRecord): Promise<void> {
    await this.change(record, { op: 'add', name: record.name, value: record.value, ttl: this.opts.ttl ?? 60 });
  }

  async remove(record: DnsRecord): Promise<void> {
    await this.change(record, { op: 'delete', name: record.name, value: record.value });
  }

  private async change(record: DnsRecord, change: TxtChange): Promise<void> {
    const zone = await this.zoneOf(record.name);
    await this.update(zone, [change], `${change.op} TXT ${fqdn(record.name)}`);
  }

  private askOptions() {
    return { key: this.opts.key, timeoutMs: this.opts.timeoutMs, now: this.opts.now };
  }

  private async update(zone: string, changes: TxtChange[], what: string): Promise<void> {
    const server = serverText(this.server);
    const m = await ask(this.server, encodeUpdate(zone, changes), this.askOptions());
    if (m.rcode !== 0) {
      const meaning = UPDATE_MEANING[m.rcode];
      throw new ChallengeError(`DNS server ${server} refused the update of zone ${zone} (${what}) with key '${this.opts.key.name}': `
        + `${rcodeName(m)}${meaning ? ` — ${meaning}` : ''}`);
    }
    this.log.debug(`rfc2136: ${what} in zone ${zone} at ${server}: NOERROR`);
  }
}

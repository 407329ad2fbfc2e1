/**
 * The propagation check: before a DNS challenge is triggered, ask until the record's TXT value is
 * visible at every server that counts — the servers given (the RFC 2136 primary, or a resolver of
 * the operator's choice), else the zone's authoritative servers, found through the system's
 * resolvers (SOA → NS → addresses). Bounded by the run's deadline and an optional timeout.
 */
import { getServers } from 'node:dns';
import type { Answer } from 'dns-packet';
import { ChallengeError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { defaultSleep, wholeSeconds, type Clock, type Sleep } from '../acme/poll.js';
import { sleepUnlessAborted } from '../transport/retry.js';
import { abortedError } from '../transport/errors.js';
import type { DnsPropagation, DnsRecord } from '../challenges/types.js';
import { parseServerAddress, serverText, type DnsServerAddress } from './exchange.js';
import { encodeQuery, fqdn, sameName, txtValues } from './packet.js';
import { ask, findZone, rcodeName } from './query.js';

export interface DnsPropagationCheckOptions {
  /** Ask these servers (e.g. the RFC 2136 primary, or a resolver); default: the zone's authoritative servers. */
  servers?: readonly DnsServerAddress[];
  /** Where the zone and its name servers are looked up when `servers` is not given; default: the system's resolvers. */
  resolvers?: readonly DnsServerAddress[];
  /** Port the authoritative servers are asked on; default 53. */
  authoritativePort?: number;
  /** Longest wait for one record, in ms; default: until the run's deadline (10 minutes without one). */
  timeoutMs?: number;
  /** Per DNS query; default 3 s. */
  queryTimeoutMs?: number;
  log?: Logger;
  sleep?: Sleep;
  now?: Clock;
}

/** The text of a record's data (NS names, addresses). */
const dataText = (a: Answer): string => String((a as { data?: unknown }).data);

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;
const NO_DEADLINE_MS = 10 * 60_000;

interface Target {
  servers: DnsServerAddress[];
  recursive: boolean;
  /** The servers were given (asked until the end); else found (the zone's authoritative servers). */
  given: boolean;
}

interface Look {
  visible: boolean;
  /** The server sent a DNS answer (any RCODE). */
  answered: boolean;
  text: string;
}

/**
 * Waits until a record is visible (DnsPropagation). When no server is given and the zone's
 * authoritative servers cannot be found (no resolver answers, or none shows an SOA and NS
 * records), or none of them answers at all (a firewall that lets only the resolver through), it
 * warns once per record and does not wait: the CA's own lookup will tell. Servers that were given
 * are asked until the end, answering or not.
 */
export class DnsPropagationCheck implements DnsPropagation {
  private readonly opts: DnsPropagationCheckOptions;
  private readonly log: Logger;
  private readonly sleep: Sleep;
  private readonly now: Clock;
  private readonly authoritative = new Map<string, Promise<Target>>();

  constructor(opts: DnsPropagationCheckOptions = {}) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.sleep = opts.sleep ?? defaultSleep;
    this.now = opts.now ?? Date.now;
  }

  async wait(record: DnsRecord, bound: { deadline?: number; signal?: AbortSignal } = {}): Promise<void> {
    const started = this.now();
    const ends = [bound.deadline ?? Infinity, this.opts.timeoutMs !== undefined ? started + this.opts.timeoutMs : Infinity];
    const end = Math.min(...ends) === Infinity ? started + NO_DEADLINE_MS : Math.min(...ends);
    let target: Target;
    try {
      target = await this.targetFor(record.name, bound.signal);
    } catch (err) {
      if (bound.signal?.aborted) throw bound.signal.reason;
      this.log.warn(`cannot find the authoritative servers of ${record.name} (${(err as Error).message}); not waiting for the record to propagate`);
      return;
    }
    const seen = new Map<string, string>();
    const pending = new Set(target.servers.map(serverText));
    let answered = false;
    let delay = FIRST_DELAY_MS;
    for (let round = 0; ; round++) {
      await Promise.all(target.servers.filter((s) => pending.has(serverText(s))).map(async (server) => {
        const outcome = await this.look(server, record, target.recursive, bound.signal);
        if (outcome.answered) answered = true;
        if (outcome.visible) pending.delete(serverText(server));
        else seen.set(serverText(server), outcome.text);
      }));
      bound.signal?.throwIfAborted();
      if (round === 0 && !answered && !target.given) {
        this.log.warn(`none of the authoritative servers of ${record.name} answers (${[...seen.values()][0]}); not waiting for the record to propagate`);
        return;
      }
      if (pending.size === 0) {
        this.log.debug(`${record.name} TXT is visible at ${target.servers.map(serverText).join(', ')}`);
        return;
      }
      const left = end - this.now();
      if (left <= 0) {
        const where = [...pending].map((s) => `${s} (${seen.get(s) ?? 'no answer'})`).join(', ');
        throw new ChallengeError(`the TXT record ${record.name} "${record.value}" is not visible after ${wholeSeconds(this.now() - started)} s at ${where}`,
          { hint: { code: 'dns-record-not-visible' } });
      }
      await sleepUnlessAborted(this.sleep, Math.min(delay, left), bound.signal, () => abortedError('waiting for DNS propagation', bound.signal));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }

  /** Whether the value is among the name's TXT values at `server`, whether it answered, and what it showed. */
  private async look(server: DnsServerAddress, record: DnsRecord, recursive: boolean, signal?: AbortSignal): Promise<Look> {
    try {
      const m = await ask(server, encodeQuery(record.name, 'TXT', { recursive }), { timeoutMs: this.opts.queryTimeoutMs ?? 3_000, signal });
      if (m.rcode !== 0) return { visible: false, answered: true, text: rcodeName(m) };
      const values = txtValues(m.packet.answers, record.name);
      if (values.includes(record.value)) return { visible: true, answered: true, text: 'visible' };
      const text = values.length === 0 ? 'no TXT record yet' : `${values.length} other TXT value${values.length === 1 ? '' : 's'}`;
      return { visible: false, answered: true, text };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      return { visible: false, answered: false, text: (err as Error).message };
    }
  }

  private targetFor(name: string, signal?: AbortSignal): Promise<Target> {
    if (this.opts.servers) return Promise.resolve({ servers: [...this.opts.servers], recursive: true, given: true });
    const key = fqdn(name);
    let t = this.authoritative.get(key);
    if (!t) {
      t = this.findAuthoritative(key, signal);
      t.catch(() => {});
      this.authoritative.set(key, t);
    }
    return t;
  }

  /** The zone's name servers' addresses, through the resolvers (each tried in turn). */
  private async findAuthoritative(name: string, signal?: AbortSignal): Promise<Target> {
    const resolvers = this.opts.resolvers ?? getServers().map((s) => parseServerAddress(s));
    if (resolvers.length === 0) throw new Error('no DNS resolver is configured');
    const opts = { timeoutMs: this.opts.queryTimeoutMs ?? 3_000, signal, recursive: true };
    let last: unknown;
    for (const resolver of resolvers) {
      try {
        const zone = await findZone(resolver, name, opts);
        const ns = await ask(resolver, encodeQuery(zone, 'NS', opts), opts);
        const names = (ns.packet.answers ?? []).filter((a) => a.type === 'NS' && sameName(a.name, zone)).map(dataText);
        if (names.length === 0) throw new Error(`no NS records for ${zone} (${rcodeName(ns)})`);
        const port = this.opts.authoritativePort ?? 53;
        const hosts = new Set<string>();
        for (const host of names) {
          const glue = (ns.packet.additionals ?? []).filter((a) => (a.type === 'A' || a.type === 'AAAA') && sameName(a.name, host));
          const addresses = glue.length > 0 ? glue.map(dataText) : await this.addresses(resolver, host, opts);
          for (const a of addresses) hosts.add(a);
        }
        if (hosts.size === 0) throw new Error(`no addresses for the name servers of ${zone} (${names.join(', ')})`);
        this.log.debug(`zone ${zone}: asking its name servers ${[...hosts].join(', ')} for ${name}`);
        return { servers: [...hosts].map((host) => ({ host, port })), recursive: false, given: false };
      } catch (err) {
        if (signal?.aborted) throw err;
        last = err;
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  private async addresses(resolver: DnsServerAddress, host: string, opts: { timeoutMs: number; signal?: AbortSignal; recursive: boolean }): Promise<string[]> {
    const found: string[] = [];
    for (const type of ['A', 'AAAA'] as const) {
      const m = await ask(resolver, encodeQuery(host, type, opts), opts).catch(() => undefined);
      for (const a of m?.packet.answers ?? []) if (a.type === type) found.push(dataText(a));
    }
    return found;
  }
}

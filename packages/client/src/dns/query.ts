/**
 * Asking one DNS server: a plain or TSIG-signed exchange (the answer's TSIG verified), and the
 * zone a name belongs to, from the SOA record the server shows for it.
 */
import { ChallengeError } from '../errors.js';
import { exchange, serverText, type DnsServerAddress, type ExchangeOptions } from './exchange.js';
import { RCODES, decodeMessage, encodeQuery, fqdn, sameName, type Message } from './packet.js';
import { signMessage, verifyAnswer, type TsigKey } from './tsig.js';

export interface AskOptions extends ExchangeOptions {
  /** Sign with this key, and accept only an answer signed with it. */
  key?: TsigKey;
  /** Clock for TSIG times (epoch ms); default Date.now. */
  now?: () => number;
}

export const rcodeName = (m: Message): string => RCODES[m.rcode] ?? `RCODE ${m.rcode}`;

/** What a TSIG error means, for the operator. */
const TSIG_MEANING: Record<string, string> = {
  BADKEY: 'the server knows no key of this name and algorithm',
  BADSIG: "the secret does not match the server's",
  BADTIME: "the clocks differ by more than the allowed fudge; check this host's time",
};

/**
 * Sends `wire` (signed with `key` when given) and decodes the answer. A signed request's answer
 * must carry a TSIG that verifies; a TSIG error the server reports (BADKEY, BADSIG, BADTIME)
 * becomes a ChallengeError naming the key.
 */
export async function ask(server: DnsServerAddress, wire: Buffer, opts: AskOptions = {}): Promise<Message> {
  const now = opts.now ?? Date.now;
  const { key } = opts;
  const signed = key ? signMessage(wire, key, now() / 1000) : undefined;
  const raw = await exchange(server, signed?.message ?? wire, { ...opts, tcp: opts.tcp ?? false });
  let message: Message;
  try {
    message = decodeMessage(raw);
  } catch (err) {
    throw new ChallengeError(`malformed DNS answer from ${serverText(server)}: ${(err as Error).message}`);
  }
  if (!key || !signed) return message;
  const verdict = verifyAnswer(raw, message, key, signed.mac, now() / 1000);
  switch (verdict.kind) {
    case 'verified':
      return message;
    case 'server-error':
      throw new ChallengeError(`DNS server ${serverText(server)} rejected TSIG key '${key.name}' (${key.algorithm}): `
        + `${rcodeName(message)}/${verdict.error}${TSIG_MEANING[verdict.error] ? ` — ${TSIG_MEANING[verdict.error]}` : ''}`);
    case 'invalid':
      throw new ChallengeError(`the answer of DNS server ${serverText(server)} failed TSIG verification with key '${key.name}': ${verdict.why}`);
    case 'unsigned':
      // a server that could not check the request answers unsigned, e.g. NOTAUTH or FORMERR
      if (message.rcode !== 0) return message;
      throw new ChallengeError(`DNS server ${serverText(server)} answered a TSIG-signed request without a TSIG signature`);
  }
}

/**
 * The zone `name` is in, as `server` (authoritative for it) shows it: the owner of the SOA record
 * in its answer or authority section. REFUSED / NOTAUTH (not authoritative) and an answer without
 * SOA are ChallengeErrors.
 */
export async function findZone(server: DnsServerAddress, name: string, opts: AskOptions & { recursive?: boolean } = {}): Promise<string> {
  const m = await ask(server, encodeQuery(name, 'SOA', { recursive: opts.recursive }), opts);
  if (m.rcode !== 0 && m.rcode !== 3) {
    const why = m.rcode === 5 || m.rcode === 9 ? ': it serves no zone that contains it' : '';
    throw new ChallengeError(`cannot find the zone of ${fqdn(name)} at DNS server ${serverText(server)}: ${rcodeName(m)}${why}`);
  }
  const soa = [...(m.packet.answers ?? []), ...(m.packet.authorities ?? [])].find((a) => a.type === 'SOA');
  const zone = soa ? fqdn(soa.name) : undefined;
  if (!zone || !isInZone(name, zone)) {
    throw new ChallengeError(`cannot find the zone of ${fqdn(name)} at DNS server ${serverText(server)}: no SOA record in its ${rcodeName(m)} answer`);
  }
  return zone;
}

/** True when `name` is `zone` or below it. */
export function isInZone(name: string, zone: string): boolean {
  const n = fqdn(name);
  const z = fqdn(zone);
  return z === '.' || sameName(n, z) || n.endsWith(`.${z}`);
}

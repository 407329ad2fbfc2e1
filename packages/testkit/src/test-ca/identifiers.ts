// Order identifiers (RFC 8555 §7.1.4, RFC 8738 ip, RFC 9799 .onion; RFC 9448 and the JWTClaimConstraints
// draft when a Token Authority is trusted): what the test CA accepts, and v3 onion addresses (Tor
// rend-spec: base32(pubkey || checksum || 0x03)).

import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { AcmeProblem, type Identifier, type ProblemDocument } from './problem.js';
import { authorityTokenValueProblem, isAuthorityTokenType } from './tkauth.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ONION_V3 = /^[a-z2-7]{56}\.onion$/;

/** RFC 5952 text for IPv6 (what WHATWG URL parsing produces), IPv4 unchanged. */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

export function isOnion(name: string): boolean {
  return name.endsWith('.onion');
}

/** The `<56 chars>.onion` part of an onion name (subdomains and `*.` dropped). */
export function onionBase(name: string): string {
  return name.split('.').slice(-2).join('.');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let bits = 0, value = 0, out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + BASE32[(value << (5 - bits)) & 31] : out;
}

function onionChecksum(pub: Buffer): Buffer {
  return createHash('sha3-256').update(Buffer.concat([Buffer.from('.onion checksum'), pub, Buffer.from([3])])).digest().subarray(0, 2);
}

/** The v3 onion address of an Ed25519 public key. */
export function onionAddress(pub: Buffer): string {
  return `${base32(Buffer.concat([pub, onionChecksum(pub), Buffer.from([3])]))}.onion`;
}

function validOnion(base: string): boolean {
  if (!ONION_V3.test(base)) return false;
  const raw = Buffer.alloc(35);
  let bits = 0, value = 0, i = 0;
  for (const c of base.slice(0, 56)) {
    value = (value << 5) | BASE32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      raw[i++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return raw[34] === 3 && onionChecksum(raw.subarray(0, 32)).equals(raw.subarray(32, 34));
}

/** Why a dns identifier value is refused, or undefined when it is acceptable. */
function dnsProblem(value: string): string | undefined {
  if (value !== value.toLowerCase()) return 'DNS names must be lower case';
  if (value.endsWith('.')) return 'DNS names must not end with a dot';
  if (isIP(value)) return 'an IP address must use the "ip" identifier type';
  if (value.length > 253) return 'DNS name longer than 253 characters';
  const labels = value.split('.');
  if (labels[0] === '*') labels.shift();
  if (labels.length < 2) return 'DNS name needs at least two labels';
  if (!labels.every((l) => LABEL.test(l))) return 'DNS name has an invalid label (A-labels only, no underscore, no inner "*")';
  if (isOnion(value) && !validOnion(onionBase(value))) return 'not a valid v3 onion address (RFC 9799 requires v3)';
  return undefined;
}

/**
 * Validate newOrder identifiers; refusals come as one problem with a subproblem per identifier.
 * Authority-token identifiers (tkauth-01) only with `authorityTokens` (a trusted Token Authority).
 */
export function checkIdentifiers(value: unknown, opts: { authorityTokens?: boolean } = {}): Identifier[] {
  if (!Array.isArray(value) || value.length === 0) throw new AcmeProblem('malformed', 'identifiers must be a non-empty array');
  if (value.length > 100) throw new AcmeProblem('rejectedIdentifier', 'at most 100 identifiers per order');
  const out: Identifier[] = [];
  const subproblems: ProblemDocument[] = [];
  const seen = new Set<string>();
  let unsupported = false;
  for (const item of value) {
    const { type, value: v } = (item ?? {}) as Record<string, unknown>;
    if (typeof type !== 'string' || typeof v !== 'string') throw new AcmeProblem('malformed', 'each identifier needs string "type" and "value"');
    const id = { type, value: v };
    let why: string | undefined;
    if (type === 'dns') why = dnsProblem(v);
    else if (type === 'ip') why = !isIP(v) ? 'not an IP address' : canonicalIp(v) !== v ? `not in canonical form (${canonicalIp(v)})` : undefined;
    else if (opts.authorityTokens && isAuthorityTokenType(type)) why = authorityTokenValueProblem(v);
    else {
      unsupported = true;
      subproblems.push({ type: 'urn:ietf:params:acme:error:unsupportedIdentifier', detail: `identifier type "${type}" is not supported`, identifier: id });
      continue;
    }
    if (why) subproblems.push({ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: why, identifier: id });
    const k = `${type}:${v}`;
    if (!seen.has(k)) out.push(id);
    seen.add(k);
  }
  if (subproblems.length > 0) {
    const kind = unsupported && subproblems.length === 1 ? 'unsupportedIdentifier' : 'rejectedIdentifier';
    throw new AcmeProblem(kind, `${subproblems.length} identifier(s) refused: ${subproblems.map((p) => `${p.identifier!.value}: ${p.detail}`).join('; ')}`,
      { extra: { subproblems } });
  }
  return out;
}

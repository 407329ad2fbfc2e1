/**
 * onion-csr-01 (RFC 9799 §3.2; standards.md §8.2): control of a v3 onion service is proven with a
 * CSR signed by the service's own Ed25519 identity key. Its SubjectPublicKeyInfo is that key, and
 * it carries two attributes, each a single OCTET STRING: `caSigningNonce` (2.23.140.41), the raw
 * bytes of the challenge's `nonce` (standard base64), and `applicantSigningNonce` (2.23.140.42),
 * 16 fresh random bytes. The response is `{"csr": b64u(DER)}`; no token or key authorization is
 * used. The key may be a PKCS#8 seed or Tor's expanded key (`PrivateKey.fromFileContent`); it is
 * only ever used for this CSR, never for the certificate (the finalize CSR has its own key).
 */
import { randomBytes } from 'node:crypto';
import { ChallengeError, UsageError } from '../errors.js';
import type { Identifier } from '../identifiers.js';
import { b64u } from '../jose/base64url.js';
import type { PrivateKey } from '../keys/privateKey.js';
import { type Logger, silentLogger } from '../log.js';
import { foreignOnionNames, isOnionName, onionAddress } from '../onion.js';
import { loadAsn1 } from '../x509/asn1.js';
import { buildCsr } from '../x509/csr.js';
import type { ChallengeContext, Solver } from './types.js';

const OID_CA_SIGNING_NONCE = '2.23.140.41';
const OID_APPLICANT_SIGNING_NONCE = '2.23.140.42';
const APPLICANT_NONCE_BYTES = 16;
/** RFC 9799: the CA's nonce has at least 64 bits. */
const MIN_CA_NONCE_BYTES = 8;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface OnionCsr01SolverOptions {
  /** The onion service's Ed25519 identity key. */
  key: PrivateKey;
  log?: Logger;
}

/** The raw bytes of the challenge's `nonce`; ChallengeError when it is missing or not standard base64 of ≥ 64 bits. */
function caNonce(ctx: ChallengeContext): Buffer {
  const nonce = ctx.challenge.nonce;
  const where = `the onion-csr-01 challenge for ${ctx.identifier.value}`;
  if (typeof nonce !== 'string') throw new ChallengeError(`${where} has no nonce`);
  if (!STANDARD_BASE64.test(nonce)) throw new ChallengeError(`${where} has a nonce that is not padded standard base64: '${nonce.slice(0, 60)}'`);
  const bytes = Buffer.from(nonce, 'base64');
  if (bytes.length < MIN_CA_NONCE_BYTES) throw new ChallengeError(`${where} has a nonce of ${bytes.length * 8} bits (at least 64 required)`);
  return bytes;
}

/**
 * Answers onion-csr-01 for the `.onion` names of one onion service, the one of its key; `check`
 * refuses other names, so a solver list can give those to another solver.
 */
export class OnionCsr01Solver implements Solver {
  readonly type = 'onion-csr-01';
  /** The v3 onion address of the key (`<56 characters>.onion`). */
  readonly address: string;
  private readonly key: PrivateKey;
  private readonly log: Logger;
  private readonly csrs = new Map<string, Promise<Buffer>>();

  constructor(opts: OnionCsr01SolverOptions) {
    this.key = opts.key;
    this.address = onionAddress(opts.key);
    this.log = opts.log ?? silentLogger;
  }

  /** The `.onion` names among `identifiers` that are not of this key's onion service. */
  foreignNames(identifiers: readonly Identifier[]): string[] {
    return foreignOnionNames(identifiers, this.address);
  }

  /** Only names of this key's onion service (subdomains and wildcards included). */
  check(identifiers: Identifier[]): void {
    const other = identifiers.filter((i) => i.type !== 'dns' || !isOnionName(i.value)).map((i) => i.value);
    if (other.length > 0) throw new UsageError(`onion-csr-01 can only validate .onion names: ${other.join(', ')}`);
    const foreign = this.foreignNames(identifiers);
    if (foreign.length > 0) {
      throw new UsageError(`the onion service key is the key of ${this.address}; it cannot validate ${foreign.join(', ')}`);
    }
  }

  /** Builds the CSR (so a bad nonce fails before any challenge is triggered). */
  async prepare(ctx: ChallengeContext): Promise<void> {
    if (ctx.challenge.authKey !== undefined) {
      this.log.info(`the CA gave a client-authorization key (authKey) for ${ctx.identifier.value}; if the onion service requires Tor client authorization, add it as an authorized client`);
    }
    const csr = this.csr(ctx);
    this.csrs.set(ctx.challenge.url, csr);
    await csr;
  }

  async responsePayload(ctx: ChallengeContext): Promise<object> {
    const csr = await (this.csrs.get(ctx.challenge.url) ?? this.csr(ctx));
    return { csr: b64u(csr) };
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    this.csrs.delete(ctx.challenge.url);
  }

  private async csr(ctx: ChallengeContext): Promise<Buffer> {
    const nonce = caNonce(ctx);
    const { schema } = await loadAsn1();
    const octets = (bytes: Uint8Array): Uint8Array => new Uint8Array(schema.AsnConvert.serialize(new schema.OctetString(bytes)));
    this.log.debug(`onion-csr-01: CSR for ${ctx.identifier.value} signed by the key of ${this.address}`);
    return buildCsr({
      identifiers: [ctx.identifier],
      key: this.key,
      attributes: [
        { oid: OID_CA_SIGNING_NONCE, values: [octets(nonce)] },
        { oid: OID_APPLICANT_SIGNING_NONCE, values: [octets(randomBytes(APPLICANT_NONCE_BYTES))] },
      ],
    });
  }
}

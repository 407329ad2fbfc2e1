// onion-csr-01 (RFC 9799 §3.2, as standards.md §8.2 reads it): the CSR must be signed by the hidden
// service's Ed25519 key, that key must be the .onion name's, and it must carry caSigningNonce (the
// challenge nonce) and applicantSigningNonce (at least 64 bits of the applicant's randomness).

import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { parseCsr } from './csr.js';
import { onionAddress, onionBase } from './identifiers.js';
import { AcmeProblem, type Identifier } from './problem.js';

export const OID_CA_SIGNING_NONCE = '2.23.140.41';
export const OID_APPLICANT_SIGNING_NONCE = '2.23.140.42';

function octets(values: Buffer[] | undefined, what: string): Buffer {
  if (!values) throw new AcmeProblem('badCSR', `the onion CSR has no ${what} attribute`);
  if (values.length !== 1) throw new AcmeProblem('badCSR', `the ${what} attribute must have exactly one value`);
  try {
    return Buffer.from(AsnConvert.parse(values[0]!, OctetString).buffer);
  } catch {
    throw new AcmeProblem('badCSR', `the ${what} attribute value must be an OCTET STRING`);
  }
}

/** Check an onion-csr-01 response; returns the proven hidden-service public key (32 bytes). */
export function validateOnionCsr(id: Identifier, nonce: string, csrDer: Buffer): Buffer {
  const csr = parseCsr(csrDer);
  if (csr.key.family !== 'ed25519' || !csr.key.raw) {
    throw new AcmeProblem('badCSR', `the onion CSR must hold the hidden service's Ed25519 key, not ${csr.key.description}`);
  }
  const want = onionBase(id.value);
  const got = onionAddress(csr.key.raw);
  if (got !== want) throw new AcmeProblem('unauthorized', `the CSR's key belongs to ${got}, not to ${want}`);
  const caNonce = octets(csr.attributes.get(OID_CA_SIGNING_NONCE), 'caSigningNonce');
  if (!caNonce.equals(Buffer.from(nonce, 'base64'))) {
    throw new AcmeProblem('unauthorized', 'the caSigningNonce attribute does not match the challenge nonce');
  }
  const applicant = octets(csr.attributes.get(OID_APPLICANT_SIGNING_NONCE), 'applicantSigningNonce');
  if (applicant.length < 8 || applicant.every((b) => b === applicant[0])) {
    throw new AcmeProblem('badCSR', 'the applicantSigningNonce must carry at least 64 bits of randomness');
  }
  return csr.key.raw;
}

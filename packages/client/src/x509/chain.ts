import { X509Certificate } from 'node:crypto';
import { AkamuError } from '../errors.js';
import { parsePemBlocks } from './pem.js';

function badChain(message: string): AkamuError {
  return new AkamuError(`certificate chain rejected: ${message}`, 'bad-chain');
}

/**
 * Throws AkamuError (code 'bad-chain') unless `text` is one or more PEM CERTIFICATE blocks with
 * nothing but whitespace around them, each holding a parseable certificate (RFC 8555 §9.1).
 */
export function checkPemChain(text: string): void {
  splitPemCertificates(text);
}

/** DER of each CERTIFICATE block, after the same checks as `checkPemChain`. */
export function splitPemCertificates(text: string): Buffer[] {
  let blocks;
  try {
    blocks = parsePemBlocks(text);
  } catch (e) {
    throw badChain((e as Error).message);
  }
  if (blocks.length === 0) throw badChain('no PEM CERTIFICATE block found');
  let pos = 0;
  for (const [i, b] of blocks.entries()) {
    if (b.label !== 'CERTIFICATE') throw badChain(`block ${i + 1} is a ${b.label}, not a CERTIFICATE`);
    if (Object.keys(b.headers).length > 0) throw badChain(`block ${i + 1} has PEM headers`);
    if (text.slice(pos, b.start).trim() !== '') throw badChain(`unexpected text before block ${i + 1}`);
    pos = b.end;
  }
  if (text.slice(pos).trim() !== '') throw badChain('unexpected text after the last certificate');
  return blocks.map((b, i) => {
    try {
      new X509Certificate(b.der);
    } catch (e) {
      throw badChain(`block ${i + 1} is not a valid certificate (${String((e as Error).message)})`);
    }
    return b.der;
  });
}

/** The common name(s) in a certificate's issuer, as node:crypto prints them (`CN=…` lines). */
function issuerCommonNames(der: Buffer): string[] {
  return new X509Certificate(der).issuer.split('\n').filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
}

/**
 * The issuer common name of a chain's top certificate (the last one: the root's name for a chain
 * that ends below the root), as used to choose among a CA's alternate chains; '' when it has none.
 */
export function topIssuerName(chainPem: string): string {
  const ders = splitPemCertificates(chainPem);
  return issuerCommonNames(ders[ders.length - 1]!)[0] ?? '';
}

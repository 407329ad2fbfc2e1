// tls-alpn-01 (RFC 8737 §3): connect with SNI = the name and ALPN acme-tls/1 only, then check the
// presented certificate: exactly one SAN equal to the identifier and the critical acmeIdentifier
// extension holding SHA-256(key authorization).

import { createHash } from 'node:crypto';
import * as tls from 'node:tls';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { canonicalIp } from './identifiers.js';
import { AcmeProblem } from './problem.js';
import type { Identifier } from './problem.js';

const ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31';
const SAN = '2.5.29.17';

/** RFC 8738 §6: the reverse-mapping name used as SNI for an ip identifier. */
function reverseName(ip: string): string {
  if (ip.includes(':')) {
    const full = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    const groups = full.split(':');
    const gap = groups.indexOf('');
    const expanded = gap === -1 ? groups : [
      ...groups.slice(0, gap), ...Array<string>(8 - groups.filter((g) => g !== '').length).fill('0'),
      ...groups.slice(gap).filter((g) => g !== ''),
    ];
    return `${expanded.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
  }
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function peerCertificate(id: Identifier, target: { address: string; port: number }): Promise<Buffer> {
  const servername = id.type === 'ip' ? reverseName(id.value) : id.value;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.address, port: target.port, servername, ALPNProtocols: ['acme-tls/1'],
      rejectUnauthorized: false, minVersion: 'TLSv1.2', timeout: 5000,
    }, () => {
      const alpn = socket.alpnProtocol;
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (alpn !== 'acme-tls/1') reject(new AcmeProblem('tls', `the server did not negotiate ALPN acme-tls/1 (got ${alpn || 'none'})`));
      else if (!cert) reject(new AcmeProblem('tls', 'the server presented no certificate'));
      else resolve(cert.raw);
    });
    socket.on('timeout', () => socket.destroy(new Error('timeout after 5 s')));
    socket.on('error', (e) => reject(new AcmeProblem('tls', `TLS connection to ${target.address}:${target.port} (SNI ${servername}) failed: ${e.message}`)));
  });
}

export async function validateTlsAlpn01(id: Identifier, keyAuth: string, target: { address: string; port: number }): Promise<void> {
  const der = await peerCertificate(id, target);
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch {
    throw new AcmeProblem('tls', 'the presented certificate does not parse');
  }
  const exts = cert.tbsCertificate.extensions ?? [];
  const san = exts.find((e) => e.extnID === SAN);
  if (!san) throw new AcmeProblem('unauthorized', 'the tls-alpn-01 certificate has no subjectAltName');
  const names = AsnConvert.parse(san.extnValue.buffer, SubjectAlternativeName);
  const only = names.length === 1 ? names[0]! : undefined;
  const matches = id.type === 'ip'
    ? only?.iPAddress !== undefined && canonicalIp(only.iPAddress) === id.value
    : only?.dNSName?.toLowerCase() === id.value;
  if (!matches) throw new AcmeProblem('unauthorized', `the tls-alpn-01 certificate must have exactly one SAN, ${id.value}`);
  const acmeId = exts.find((e) => e.extnID === ACME_IDENTIFIER);
  if (!acmeId) throw new AcmeProblem('unauthorized', 'the tls-alpn-01 certificate has no acmeIdentifier extension');
  if (!acmeId.critical) throw new AcmeProblem('unauthorized', 'the acmeIdentifier extension must be critical');
  const want = Buffer.concat([Buffer.from([0x04, 0x20]), createHash('sha256').update(keyAuth).digest()]);
  if (!Buffer.from(acmeId.extnValue.buffer).equals(want)) {
    throw new AcmeProblem('unauthorized', 'the acmeIdentifier extension does not hold SHA-256 of the key authorization');
  }
}

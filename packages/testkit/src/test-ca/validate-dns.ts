// dns-01 (RFC 8555 §8.4): TXT _acme-challenge.<name> = b64u(SHA-256(key authorization)), asked
// of the configured resolver (pebble-challtestsrv in the tests).

import { createHash } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { AcmeProblem } from './problem.js';
import type { Identifier } from './problem.js';

export async function validateDns01(id: Identifier, keyAuth: string, server: string): Promise<void> {
  const name = `_acme-challenge.${id.value}`;
  const want = createHash('sha256').update(keyAuth).digest('base64url');
  const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
  resolver.setServers([server]);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new AcmeProblem('unauthorized', `no TXT record found at ${name}`);
    throw new AcmeProblem('dns', `DNS lookup of TXT ${name} at ${server} failed: ${code ?? (e as Error).message}`);
  }
  const values = records.map((r) => r.join(''));
  if (!values.includes(want)) {
    throw new AcmeProblem('unauthorized', `incorrect TXT record at ${name}: found ${values.map((v) => JSON.stringify(v)).join(', ') || 'none'}`);
  }
}

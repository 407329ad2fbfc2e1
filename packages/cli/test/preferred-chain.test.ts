/** `--preferred-chain ISSUER_CN` against Pebble with PEBBLE_ALTERNATE_ROOTS=2 (three chains per certificate). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { setupWithAccount, runCli, assertSuccess, type AccountEnv } from './helpers.js';

const commonName = (dn: string): string => dn.split('\n').find((l) => l.startsWith('CN='))!.slice(3);
const certs = (pem: string): X509Certificate[] => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));

describe('issue --preferred-chain', () => {
  let env: AccountEnv;
  let roots: X509Certificate[];
  before(async () => {
    env = await setupWithAccount({ env: { PEBBLE_ALTERNATE_ROOTS: '2' } });
    roots = [];
    for (const n of [0, 1, 2]) roots.push(new X509Certificate((await env.pebble.httpsGet(`${env.pebble.managementUrl}/roots/${n}`)).body));
  });
  after(async () => env.pebble.stop());

  const issue = (name: string, extra: string[]) =>
    runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '-d', name,
      '--out', join(env.dir, name, 'fullchain.pem'), ...extra]);

  it('writes the alternate chain whose top certificate is issued by the name, and stores it for renewals', async () => {
    const names = roots.map((r) => commonName(r.subject));
    assert.equal(new Set(names).size, 3, `three distinct roots: ${names.join(', ')}`);
    for (const n of [1, 2]) {
      const name = `alt${n}.example.com`;
      const r = await issue(name, ['--preferred-chain', names[n]!]);
      assertSuccess(r);
      assert.doesNotMatch(r.stderr, /Note: no chain/);
      const chain = certs(readFileSync(join(env.dir, name, 'fullchain.pem'), 'utf8'));
      const top = chain[chain.length - 1]!;
      assert.equal(commonName(top.issuer), names[n], 'top certificate issued by the preferred root');
      assert.ok(top.verify(roots[n]!.publicKey), 'and signed by it');
      assert.ok(chain[0]!.checkIssued(chain[1]!), 'the leaf still heads the chain');
      const cfg = parse(readFileSync(join(env.dir, name, 'fullchain.pem.renewal.toml'), 'utf8'));
      assert.equal(cfg.preferred_chain, names[n]);
    }
  });

  it('no chain with that issuer: the default chain, and a Note listing what was offered', async () => {
    const r = await issue('nomatch.example.com', ['--preferred-chain', 'No Such Root CA']);
    assertSuccess(r);
    const names = roots.map((x) => commonName(x.subject));
    const note = r.stderr.split('\n').filter((l) => l.startsWith('Note: no chain'));
    assert.equal(note.length, 1, r.stderr);
    assert.match(note[0]!, /^Note: no chain offered by the server has a top certificate issued by 'No Such Root CA' \(offered: '.+', '.+', '.+'\); the default chain was written$/);
    for (const n of names) assert.ok(note[0]!.includes(`'${n}'`), `${n} is listed`);
    const chain = certs(readFileSync(join(env.dir, 'nomatch.example.com', 'fullchain.pem'), 'utf8'));
    assert.equal(commonName(chain[chain.length - 1]!.issuer), note[0]!.match(/offered: '([^']+)'/)![1], 'the default chain (listed first)');
  });
});

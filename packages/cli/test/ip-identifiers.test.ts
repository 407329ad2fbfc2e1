/**
 * IP address certificates (RFC 8738) end to end against Pebble: `-d 127.0.0.1 -d ::1` become `ip`
 * identifiers and iPAddress SANs, validated by http-01 (Pebble's VA connects to the address itself,
 * on the port it uses) or tls-alpn-01 (reverse-DNS SNI name); DNS challenges are refused first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { setupWithAccount, runCli, assertFailure, assertSuccess, verifyChain, type AccountEnv } from './helpers.js';

describe('IP address identifiers', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());

  const issue = (name: string, extra: string[]) =>
    runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '--tls-port', String(env.pebble.tlsPort),
      '--out', join(env.dir, name, 'fullchain.pem'), ...extra]);
  const out = (name: string): string => join(env.dir, name, 'fullchain.pem');
  const shortlivedNote = /^Note: the server offers the profile 'shortlived'; CAs such as Let's Encrypt issue certificates for IP addresses \((.+)\) only with it: pass --profile shortlived$/m;

  it('http-01 for an IPv4 and an IPv6 address (with a DNS name): iPAddress SANs, ip identifiers in the renewal config, a profile note', async () => {
    const r = await issue('ip-http', ['-d', 'ip.example.com', '-d', '127.0.0.1', '-d', '0:0:0:0:0:0:0:1']);
    assertSuccess(r);
    const text = await verifyChain(env, out('ip-http'), `${out('ip-http')}.key.pem`);
    assert.match(text, /DNS:ip\.example\.com/);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /IP Address:0:0:0:0:0:0:0:1/);
    const cfg = parse(readFileSync(`${out('ip-http')}.renewal.toml`, 'utf8')) as { domains: { type: string; value: string }[] };
    assert.deepEqual(cfg.domains.map((d) => `${d.type}:${d.value}`), ['dns:ip.example.com', 'ip:127.0.0.1', 'ip:::1'], 'canonical IPv6 text');
    assert.equal(r.stderr.match(shortlivedNote)?.[1], '127.0.0.1, ::1');
  });

  it('tls-alpn-01 answers the reverse-DNS SNI names; no note when a profile was asked for', async () => {
    const r = await issue('ip-alpn', ['-d', '127.0.0.1', '-d', '::1', '--challenge', 'tls-alpn-01', '--profile', 'shortlived']);
    assertSuccess(r);
    const text = await verifyChain(env, out('ip-alpn'), `${out('ip-alpn')}.key.pem`);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /IP Address:0:0:0:0:0:0:0:1/);
    assert.doesNotMatch(r.stderr, /Note: the server offers the profile/);
  });

  it('dns-01 and dns-persist-01 are refused for IP addresses, with the reason, before anything is sent', async () => {
    const before = env.pebble.requestCount();
    for (const challenge of ['dns-01', 'dns-persist-01']) {
      const r = await issue(`ip-${challenge}`, ['-d', 'a.example.com', '-d', '192.0.2.1', '-d', '2001:DB8::1', '--challenge', challenge, '--dns-hook', '/bin/true']);
      assertFailure(r, 2, new RegExp(`^error: ${challenge} cannot validate IP address identifiers: 192\\.0\\.2\\.1, 2001:db8::1 \\(an IP address has no DNS name to publish the record under; RFC 8738 §7\\); use --challenge http-01 or tls-alpn-01$`));
    }
    assert.equal(env.pebble.requestCount(), before, 'nothing was sent to the CA');
  });
});

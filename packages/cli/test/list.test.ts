/** End to end: `list DIR` against Pebble 2.10 with the built CLI, and its result object. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ariCertId, ariDecisionTime, expiryRenewalTime } from 'akamu-client';
import { setupWithAccount, runCli, openssl, assertFailure, assertSuccess, serialOf, type AccountEnv } from './helpers.js';
import { list } from '../src/commands/list.js';
import { createRuntime } from '../src/runtime.js';
import { StdinPrompter } from '../src/stdin-prompt.js';
import type { ListedCertificate, ListResult } from '../src/results.js';
import { renderList } from '../src/render/list.js';

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The block of lines of one certificate in the text output, by its title. */
function block(stdout: string, title: string): string {
  const blocks = stdout.split('\n\n');
  const found = blocks.find((b) => b.startsWith(`  ${title}`));
  assert.ok(found, `a block for ${title} in:\n${stdout}`);
  return found;
}

async function dates(chain: string): Promise<{ notBefore: Date; notAfter: Date }> {
  const text = await openssl(['x509', '-in', chain, '-noout', '-startdate', '-enddate']);
  return { notBefore: new Date(/notBefore=(.+)/.exec(text)![1]!), notAfter: new Date(/notAfter=(.+)/.exec(text)![1]!) };
}

describe('list DIR', () => {
  let env: AccountEnv;
  let certs: string;
  const a = () => join(certs, 'a', 'fullchain.pem');
  const b = () => join(certs, 'b', 'b.pem');
  before(async () => {
    env = await setupWithAccount();
    certs = join(env.dir, 'certs');
    const issue = (extra: string[]) =>
      runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), ...extra]);
    assertSuccess(await issue(['-d', 'zeta.example', '-d', 'www.zeta.example', '--profile', 'shortlived', '--out', a()]));
    assertSuccess(await issue(['-d', 'alpha.example', '--cert-key-type', 'rsa:2048', '--out', b()]));
    // b's key replaced by another one: the set is damaged
    copyFileSync(`${a()}.key.pem`, `${b()}.key.pem`);
    // broken entries: a config whose certificate is missing, one that is not TOML, a chain that is not a certificate
    mkdirSync(join(certs, 'broken'));
    writeFileSync(join(certs, 'broken', 'missing.pem.renewal.toml'),
      readFileSync(`${a()}.renewal.toml`, 'utf8').replace(/^cert_path = .*$/m, `cert_path = "${join(certs, 'broken', 'missing.pem')}"`)
        .replace(/value = "zeta\.example"/, 'value = "missing.example"'));
    writeFileSync(join(certs, 'broken', 'garbage.renewal.toml'), 'this is = = not toml\n');
    const junk = join(certs, 'broken', 'junk.pem');
    writeFileSync(junk, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    writeFileSync(`${junk}.renewal.toml`, readFileSync(`${a()}.renewal.toml`, 'utf8').replace(/^cert_path = .*$/m, `cert_path = "${junk}"`)
      .replace(/value = "zeta\.example"/, 'value = "junk.example"'));
    // a chain in the wrong order (intermediate first)
    const blocks = readFileSync(a(), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
    const reversed = join(certs, 'reversed.pem');
    writeFileSync(reversed, [...blocks].reverse().join(''));
    writeFileSync(`${reversed}.renewal.toml`, readFileSync(`${a()}.renewal.toml`, 'utf8').replace(/^cert_path = .*$/m, `cert_path = "${reversed}"`)
      .replace(/value = "zeta\.example"/, 'value = "reversed.example"'));
  });
  after(async () => env.pebble.stop());

  it('shows every certificate, sorted, with ARI window and renewal time; broken entries as such', async () => {
    const r = await runCli(['list', certs, '--server-ca', env.pebble.caPemPath]);
    assertSuccess(r);
    assert.match(r.stdout, new RegExp(`^Found 6 certificates below ${certs} \\(5 with problems\\):\n`));
    const titles = [...r.stdout.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(titles, ['alpha.example', 'junk.example', 'missing.example', 'reversed.example', 'zeta.example', `${join(certs, 'broken', 'garbage.renewal.toml')}`]);

    const zeta = block(r.stdout, 'zeta.example');
    assert.doesNotMatch(zeta, /BROKEN|Problem/);
    const serial = serialOf(await openssl(['x509', '-in', a(), '-noout', '-serial']));
    assert.equal(BigInt(`0x${/Serial: +([0-9a-f]+)$/m.exec(zeta)![1]!}`), BigInt(`0x${serial}`));
    assert.match(zeta, /Names: +zeta\.example, www\.zeta\.example$/m);
    const { notBefore, notAfter } = await dates(a());
    assert.match(zeta, new RegExp(`Expires: +${iso(notAfter)} \\(in \\d+ days\\)$`, 'm'));
    assert.match(zeta, /Key type: +ec:P-256$/m);
    assert.match(zeta, /Profile: +shortlived$/m);
    assert.match(zeta, /Challenge: +http-01$/m);
    assert.match(zeta, /Chain: +\S+ \(2 certificates, in order\)$/m);
    assert.match(zeta, /Key: +\S+ \(matches the certificate\)$/m);
    // the renewal time is akamu's deterministic point in the window Pebble sent
    const w = /ARI window: +(\S+) – (\S+) \(from the CA\)$/m.exec(zeta);
    assert.ok(w, zeta);
    const window = { start: new Date(w[1]!), end: new Date(w[2]!) };
    assert.ok(window.start > notBefore && window.end <= notAfter, 'the window lies in the validity period');
    const at = ariDecisionTime({ certId: await ariCertId(readFileSync(a(), 'utf8')), window });
    // the printed window is cut to seconds: the point may differ by less than a second or so
    const printedAt = new Date(/Renews: +(\S+) \(in .*; ARI window\)$/m.exec(zeta)![1]!);
    assert.ok(Math.abs(printedAt.getTime() - at.getTime()) < 2000, `renews at ${iso(printedAt)}, expected about ${iso(at)}`);

    const alpha = block(r.stdout, 'alpha.example');
    assert.match(alpha, /^ {2}alpha\.example {2}\[BROKEN\]$/m);
    assert.match(alpha, /Problem: +the certificate key \S+ does not match the certificate \(renew will replace both\)$/m);
    assert.match(alpha, /Key type: +rsa:2048$/m, "the certificate's own key type, not the wrong key file's");
    assert.match(alpha, /Key: +\S+ \(does NOT match the certificate\)$/m);
    assert.match(alpha, /Renews: +at the next renew run/m);

    assert.match(block(r.stdout, 'missing.example'), /Problem: +the certificate \S+missing\.pem does not exist \(renew will issue one\)$/m);
    assert.match(block(r.stdout, 'junk.example'), /Problem: +the certificate \S+junk\.pem cannot be parsed/m);
    const reversed = block(r.stdout, 'reversed.example');
    assert.match(reversed, /Chain: +\S+ \(2 certificates, NOT in order\)$/m);
    assert.match(reversed, /Problem: +the chain in \S+ is not in order/m);
    assert.match(block(r.stdout, join(certs, 'broken', 'garbage.renewal.toml')), /Problem: +cannot parse \S+garbage\.renewal\.toml: /m);
  });

  it('--offline asks no CA: the expiry rule decides', async () => {
    const ariBefore = (env.pebble.logText().match(/renewalInfo/g) ?? []).length;
    assert.ok(ariBefore > 0, 'Pebble logged the ARI requests of the runs before');
    const r = await runCli(['list', certs, '--offline']);
    assertSuccess(r);
    assert.equal((env.pebble.logText().match(/renewalInfo/g) ?? []).length, ariBefore, 'no ARI request');
    const zeta = block(r.stdout, 'zeta.example');
    assert.match(zeta, /ARI window: +not asked \(--offline; no fresh answer in the ARI cache\)$/m);
    const { notBefore, notAfter } = await dates(a());
    assert.match(zeta, new RegExp(`Renews: +${iso(expiryRenewalTime(notBefore, notAfter))} \\(in .*; expiry rule\\)$`, 'm'));
  });

  it('a fresh ARI cache entry is used (also --offline); a stale one or one of another CA is not', async () => {
    const { writeAriCache, ariCachePath } = await import('../src/files/ari-cache.js');
    const certId = await ariCertId(readFileSync(a(), 'utf8'));
    const { notBefore, notAfter } = await dates(a());
    // a window Pebble would never send, so the list can only have it from the cache
    const window = { start: new Date(notBefore.getTime() + 3600_000), end: new Date(notBefore.getTime() + 7200_000) };
    const now = new Date();
    await writeAriCache(a(), env.pebble.directoryUrl, { certId, window, retryAfterMs: 3600_000 }, now);
    try {
      for (const extra of [[], ['--offline']]) {
        const r = await runCli(['list', certs, '--server-ca', env.pebble.caPemPath, ...extra]);
        assertSuccess(r);
        const zeta = block(r.stdout, 'zeta.example');
        assert.match(zeta, new RegExp(`ARI window: +${iso(window.start)} – ${iso(window.end)} \\(cached until ${iso(new Date(now.getTime() + 3600_000))}\\)$`, 'm'));
        assert.match(zeta, new RegExp(`Renews: +${iso(ariDecisionTime({ certId, window }))} \\(in .*ARI window\\)$|Renews: +now: due since ${iso(ariDecisionTime({ certId, window }))}`, 'm'));
      }
      // past its Retry-After: asked again
      await writeAriCache(a(), env.pebble.directoryUrl, { certId, window, retryAfterMs: 60_000 }, new Date(now.getTime() - 120_000));
      assert.match(block((await runCli(['list', certs, '--server-ca', env.pebble.caPemPath])).stdout, 'zeta.example'), /ARI window: +\S+ – \S+ \(from the CA\)$/m);
      // another CA's answer
      await writeAriCache(a(), 'https://other.test/dir', { certId, window, retryAfterMs: 3600_000 }, now);
      assert.match(block((await runCli(['list', certs, '--server-ca', env.pebble.caPemPath])).stdout, 'zeta.example'), /\(from the CA\)$/m);
    } finally {
      rmSync(ariCachePath(a()), { force: true });
    }
  });

  it('the result object is plain data', async () => {
    const err: string[] = [];
    const rt = createRuntime({ out: () => {}, err: (t) => err.push(t) }, 0, new StdinPrompter(() => {}), () => {});
    const r = await list(certs, { serverCa: env.pebble.caPemPath, offline: false }, rt);
    assert.equal(r.command, 'list');
    assert.equal(r.certificates.length, 6);
    const byName = (n: string): ListedCertificate => r.certificates.find((c) => c.identifiers?.[0]?.value === n)!;
    const zeta = byName('zeta.example');
    assert.equal(zeta.ok, true);
    assert.equal(zeta.keyMatches, true);
    assert.deepEqual(zeta.chain, { length: 2, inOrder: true });
    assert.equal(zeta.ari?.source, 'fetched');
    assert.equal(zeta.decision?.reason, 'ari');
    assert.equal(zeta.decision?.due, false);
    assert.equal(zeta.renewsNow, false);
    assert.equal(zeta.profile, 'shortlived');
    const alpha = byName('alpha.example');
    assert.equal(alpha.keyMatches, false);
    assert.equal(alpha.renewsNow, true);
    assert.equal(alpha.certificate?.keyType, 'rsa:2048');
    assert.equal(byName('missing.example').certificate, undefined);
    assert.equal(byName('missing.example').renewsNow, true);
    const garbage = r.certificates.find((c) => c.renewalConfigPath.endsWith('garbage.renewal.toml'))!;
    assert.equal(garbage.ok, false);
    assert.equal(garbage.renewsNow, false, 'renew cannot run it at all');
    // JSON-friendly: a round trip keeps every field (dates as ISO strings)
    const round = JSON.parse(JSON.stringify(r)) as { certificates: { certificate?: { notAfter: string } }[] };
    assert.equal(round.certificates.length, 6);
    assert.equal(typeof round.certificates.find((c) => c.certificate)!.certificate!.notAfter, 'string');
    assert.deepEqual(err, [], 'no warnings');
  });

  it('a CA that cannot be reached: a warning, the expiry rule, and the list still comes', async () => {
    const r = await runCli(['list', certs]); // Pebble's TLS certificate is not trusted without --server-ca
    assertSuccess(r);
    assert.match(r.stderr, /^WARN {2}akamu_cli: cannot reach \S+ \(.*\); showing the expiry rule's times for its certificates$/m);
    assert.equal(r.stderr.match(/cannot reach/g)?.length, 1, 'one warning per CA, not per certificate');
    assert.match(block(r.stdout, 'zeta.example'), /ARI window: +unavailable \(.*\)$/m);
  });

  it('DIR must be a directory', async () => {
    assertFailure(await runCli(['list', join(env.dir, 'nope')]), 2, /^error: cannot read directory \S+nope: no such file$/);
    assertFailure(await runCli(['list', a()]), 2, /is not a directory$/);
    const empty = join(env.dir, 'empty');
    mkdirSync(empty);
    const r = await runCli(['list', empty]);
    assertSuccess(r);
    assert.equal(r.stdout, `No renewal configs (*.renewal.toml) found below ${empty}.\n`);
  });
});

describe('list text, from data', () => {
  const now = new Date('2027-01-10T00:00:00Z');
  const render = (certificates: ListedCertificate[]): string[] => {
    const out: string[] = [];
    const r: ListResult = { command: 'list', directory: '/etc/akamu', offline: false, checkedAt: now, certificates };
    renderList(r, { out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`) });
    return out;
  };
  const base = (over: Partial<ListedCertificate>): ListedCertificate => ({
    renewalConfigPath: '/etc/akamu/a.pem.renewal.toml', ok: true, problems: [], renewsNow: false,
    server: 'https://ca.test/dir', identifiers: [{ type: 'dns', value: 'a.test' }], challenge: 'dns-01',
    certificatePath: '/etc/akamu/a.pem', certificateKeyPath: '/etc/akamu/a.pem.key.pem', keyMatches: true, chain: { length: 2, inOrder: true },
    certificate: { names: ['a.test'], serial: '01', notBefore: new Date('2026-10-01T00:00:00Z'), notAfter: new Date('2027-01-05T00:00:00Z'), issuer: 'CN=x', keyType: 'ed25519', expired: true },
    ...over,
  });

  it('an expired certificate, a CA without ARI, no profile', () => {
    const out = render([base({
      ari: { source: 'unsupported' },
      decision: { due: true, reason: 'expiry', at: new Date('2026-12-04T00:00:00Z'), notAfter: new Date('2027-01-05T00:00:00Z') },
    })]);
    assert.deepEqual(out, [
      'Found 1 certificate below /etc/akamu:',
      '',
      '  a.test',
      '    Names:        a.test',
      '    Serial:       01',
      '    Expires:      2027-01-05T00:00:00Z (EXPIRED 5 days ago)',
      '    Key type:     ed25519',
      "    Profile:      (the CA's default)",
      '    Challenge:    dns-01',
      '    Server:       https://ca.test/dir',
      '    Chain:        /etc/akamu/a.pem (2 certificates, in order)',
      '    Key:          /etc/akamu/a.pem.key.pem (matches the certificate)',
      '    ARI window:   the CA does not offer ARI',
      '    Renews:       now: due since 2026-12-04T00:00:00Z (expiry rule)',
      '    Config:       /etc/akamu/a.pem.renewal.toml',
    ]);
  });

  it('text from files is escaped; no certID; an ARI error', () => {
    const evil = base({
      identifiers: [{ type: 'dns', value: 'evil\u001b[2J.test' }], profile: 'p\u202eq',
      ari: { source: 'error', error: 'HTTP 500\u0007' },
      decision: { due: false, reason: 'expiry', at: new Date('2027-01-12T12:00:00Z'), notAfter: new Date('2027-02-05T00:00:00Z') },
    });
    const noId = base({ renewalConfigPath: '/b', identifiers: [{ type: 'dns', value: 'b.test' }], ari: { source: 'no-cert-id' } });
    const out = render([evil, noId]).join('\n');
    assert.match(out, /^ {2}evil\\x1b\[2J\.test$/m);
    assert.match(out, /Profile: +p\\u202eq$/m);
    assert.match(out, /ARI window: +unavailable \(HTTP 500\\x07\)$/m);
    assert.match(out, /Renews: +2027-01-12T12:00:00Z \(in 2 days; expiry rule\)$/m);
    assert.match(out, /ARI window: +none \(the certificate has no Authority Key Identifier\)$/m);
    assert.doesNotMatch(out, /[\u001b\u0007\u202e]/);
  });
});

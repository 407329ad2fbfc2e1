import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Authorization, Challenge, Identifier } from '../src/acme/types.js';
import { DnsPersist01Solver, dnsPersistAccountUri, dnsPersistRecord, dnsPersistRecordName } from '../src/challenges/dnsPersist01.js';
import { HOOK_ENV_NAMES, HookDnsPublisher } from '../src/challenges/hook.js';
import { type ChallengeContext, type DnsPublisher, type DnsRecord } from '../src/challenges/types.js';
import { AcmeClient } from '../src/acme/client.js';
import { issueCertificate } from '../src/acme/issue.js';
import { AcmeProblemError, ChallengeError, UsageError } from '../src/errors.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { PrivateKey } from '../src/keys/index.js';
import { HttpTransport } from '../src/transport/http.js';
import { buildCsr } from '../src/x509/csr.js';
import { startPebble, type Pebble } from '../../testkit/src/index.js';
import { fakeDirectory } from './helpers/fake-directory.js';

// Test vector of the -02 editor's copy (standards.md §7.3)
const VEC_THUMB = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const VEC_ACCOUNT = 'https://ca.example/acct/123';
const VEC_PREFIX = 'https://ca.example/account-hash/';

function ctxFor(
  identifier: Identifier,
  challengeFields: Record<string, unknown>,
  opts: { wildcard?: boolean; meta?: Record<string, unknown> } = {},
): ChallengeContext {
  const challenge: Challenge = { type: 'dns-persist-01', url: 'https://ca.test/chall/1', status: 'pending', ...challengeFields };
  const authorization: Authorization = {
    url: 'https://ca.test/authz/1',
    status: 'pending',
    identifier: { type: identifier.type, value: identifier.value.replace(/^\*\./, '') },
    challenges: [challenge],
    ...(opts.wildcard === undefined ? {} : { wildcard: opts.wildcard }),
  };
  return {
    authorization,
    challenge,
    identifier,
    keyAuthorization: '',
    accountUrl: VEC_ACCOUNT,
    thumbprint: VEC_THUMB,
    directory: fakeDirectory(opts.meta),
  };
}

const dnsId = (value: string): Identifier => ({ type: 'dns', value });

describe('dnsPersistAccountUri (hashed accounturi, -02 editor copy)', () => {
  it('matches the draft test vector for example.com', () => {
    assert.equal(
      dnsPersistAccountUri({ accountHashPrefix: VEC_PREFIX, domain: 'example.com', thumbprint: VEC_THUMB, accountUrl: VEC_ACCOUNT }),
      `${VEC_PREFIX}sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw`,
    );
  });

  it('matches the draft test vector for the domain-independent form `*`', () => {
    assert.equal(
      dnsPersistAccountUri({ accountHashPrefix: VEC_PREFIX, domain: '*', thumbprint: VEC_THUMB, accountUrl: VEC_ACCOUNT }),
      `${VEC_PREFIX}sha-256/NpDnSwUthQK8zCgFdefYxAdAVPnygMLbs9US6oO-5ug`,
    );
  });

  it('normalises the domain (case, trailing dot)', () => {
    assert.equal(
      dnsPersistAccountUri({ accountHashPrefix: VEC_PREFIX, domain: 'Example.COM.', thumbprint: VEC_THUMB, accountUrl: VEC_ACCOUNT }),
      `${VEC_PREFIX}sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw`,
    );
  });

  it('a different domain, key or account gives a different URI', () => {
    const base = { accountHashPrefix: VEC_PREFIX, domain: 'example.com', thumbprint: VEC_THUMB, accountUrl: VEC_ACCOUNT };
    const ref = dnsPersistAccountUri(base);
    assert.notEqual(dnsPersistAccountUri({ ...base, domain: 'example.org' }), ref);
    assert.notEqual(dnsPersistAccountUri({ ...base, thumbprint: VEC_THUMB.replace('N', 'M') }), ref);
    assert.notEqual(dnsPersistAccountUri({ ...base, accountUrl: `${VEC_ACCOUNT}4` }), ref);
  });

  it('refuses an empty domain', () => {
    assert.throws(
      () => dnsPersistAccountUri({ accountHashPrefix: VEC_PREFIX, domain: '', thumbprint: VEC_THUMB, accountUrl: VEC_ACCOUNT }),
      UsageError,
    );
  });
});

describe('dnsPersistRecord', () => {
  it('plain name (-00/-01: kebab-case issuer-domain-names, plain accounturi)', () => {
    const ctx = ctxFor(dnsId('example.com'), { 'issuer-domain-names': ['authority.example', 'other.example'] });
    const r = dnsPersistRecord(ctx);
    assert.deepEqual(r, {
      name: '_validation-persist.example.com.',
      value: 'authority.example; accounturi=https://ca.example/acct/123',
      domain: 'example.com',
      identifier: dnsId('example.com'),
      token: undefined,
      keyAuthorization: undefined,
      challengeType: 'dns-persist-01',
    });
    assert.equal(dnsPersistRecordName('*.example.com'), '_validation-persist.example.com.');
  });

  it('wildcard identifier: base name and policy=wildcard', () => {
    const r = dnsPersistRecord(ctxFor(dnsId('*.example.org'), { 'issuer-domain-names': ['ca1.example'] }, { wildcard: true }));
    assert.equal(r.name, '_validation-persist.example.org.');
    assert.equal(r.domain, 'example.org');
    assert.equal(r.value, 'ca1.example; accounturi=https://ca.example/acct/123; policy=wildcard');
  });

  it('authorization.wildcard alone also means policy=wildcard', () => {
    const r = dnsPersistRecord(ctxFor(dnsId('example.org'), { 'issuer-domain-names': ['ca1.example'] }, { wildcard: true }));
    assert.equal(r.value, 'ca1.example; accounturi=https://ca.example/acct/123; policy=wildcard');
    const plain = dnsPersistRecord(ctxFor(dnsId('example.org'), { 'issuer-domain-names': ['ca1.example'] }, { wildcard: false }));
    assert.equal(plain.value, 'ca1.example; accounturi=https://ca.example/acct/123');
  });

  it('-02: camelCase issuerDomainNames + meta.accountHashPrefix → hashed accounturi (the §7.3 record)', () => {
    const ctx = ctxFor(dnsId('example.com'), { issuerDomainNames: ['authority.example'] }, { meta: { accountHashPrefix: VEC_PREFIX } });
    const r = dnsPersistRecord(ctx);
    assert.equal(r.name, '_validation-persist.example.com.');
    assert.equal(
      r.value,
      'authority.example; accounturi=https://ca.example/account-hash/sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw',
    );
    const wild = dnsPersistRecord(
      ctxFor(dnsId('*.example.com'), { issuerDomainNames: ['authority.example'] }, { wildcard: true, meta: { accountHashPrefix: VEC_PREFIX } }),
    );
    assert.equal(
      wild.value,
      'authority.example; accounturi=https://ca.example/account-hash/sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw; policy=wildcard',
    );
  });

  it('camelCase without accountHashPrefix, or kebab-case with a prefix → plain accounturi', () => {
    const camel = dnsPersistRecord(ctxFor(dnsId('example.com'), { issuerDomainNames: ['authority.example'] }));
    assert.equal(camel.value, 'authority.example; accounturi=https://ca.example/acct/123');
    const kebab = dnsPersistRecord(
      ctxFor(dnsId('example.com'), { 'issuer-domain-names': ['authority.example'] }, { meta: { accountHashPrefix: VEC_PREFIX } }),
    );
    assert.equal(kebab.value, 'authority.example; accounturi=https://ca.example/acct/123');
  });

  it('missing or empty issuer list is a ChallengeError', () => {
    for (const fields of [{}, { 'issuer-domain-names': [] }, { issuerDomainNames: [] }]) {
      assert.throws(
        () => dnsPersistRecord(ctxFor(dnsId('a.example'), fields)),
        (e: unknown) => e instanceof ChallengeError && e.message === 'dns-persist-01 challenge for a.example has no issuer-domain-names',
      );
    }
  });

  it('more than ten issuers, a non-array or a bad issuer name is a ChallengeError', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `ca${i}.example`);
    assert.throws(
      () => dnsPersistRecord(ctxFor(dnsId('a.example'), { 'issuer-domain-names': eleven })),
      (e: unknown) =>
        e instanceof ChallengeError &&
        e.message === 'dns-persist-01 challenge for a.example lists 11 issuer-domain-names (at most 10 allowed)',
    );
    assert.doesNotThrow(() => dnsPersistRecord(ctxFor(dnsId('a.example'), { 'issuer-domain-names': eleven.slice(0, 10) })));
    assert.throws(
      () => dnsPersistRecord(ctxFor(dnsId('a.example'), { 'issuer-domain-names': 'ca.example' })),
      (e: unknown) => e instanceof ChallengeError && /malformed issuer-domain-names/.test(e.message),
    );
    for (const bad of ['ca.example; accounturi=https://evil', 'ca example', '', 42]) {
      assert.throws(
        () => dnsPersistRecord(ctxFor(dnsId('a.example'), { 'issuer-domain-names': [bad] })),
        (e: unknown) => e instanceof ChallengeError && /invalid issuer domain name/.test(e.message),
        String(bad),
      );
    }
  });
});

describe('DnsPersist01Solver', () => {
  it('prepare adds the record, cleanup never removes it, payload is {}', async () => {
    const added: DnsRecord[] = [];
    let removed = 0;
    const solver = new DnsPersist01Solver({
      publisher: {
        add: async (r) => {
          added.push(r);
        },
        remove: async () => {
          removed++;
        },
      },
    });
    assert.equal(solver.type, 'dns-persist-01');
    const ctx = ctxFor(dnsId('*.example.com'), { 'issuer-domain-names': ['ca.example'] }, { wildcard: true });
    await solver.prepare(ctx);
    assert.deepEqual(added, [dnsPersistRecord(ctx)]);
    assert.deepEqual(await solver.responsePayload(), {});
    await solver.cleanup();
    assert.equal(removed, 0);
  });

  it('prepare fails without touching DNS when the challenge has no issuer', async () => {
    let calls = 0;
    const solver = new DnsPersist01Solver({ publisher: { add: async () => void calls++ } });
    await assert.rejects(solver.prepare(ctxFor(dnsId('x.example'), {})), ChallengeError);
    assert.equal(calls, 0);
  });

  it('refuses IP identifiers, allows wildcards', () => {
    const solver = new DnsPersist01Solver({ publisher: { add: async () => undefined } });
    assert.throws(
      () => solver.check([dnsId('a.example'), { type: 'ip', value: '192.0.2.1' }, { type: 'ip', value: '2001:db8::1' }]),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          'dns-persist-01 cannot validate IP address identifiers: 192.0.2.1, 2001:db8::1 (an IP address has no DNS name to publish the record under; RFC 8738 §7)' && e.hint?.code === 'ip-needs-http-or-tls',
    );
    solver.check([dnsId('a.example'), dnsId('*.a.example')]);
  });
});

describe('HookDnsPublisher with a dns-persist-01 record', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'akamu-persist-hook-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('AKAMU_TXT is the whole record, token and key authorization empty', async () => {
    const hook = join(dir, 'dump.sh');
    await writeFile(hook, '#!/bin/sh\nenv > "$HOOK_OUT/$1.env"\n');
    await chmod(hook, 0o755);
    const record = dnsPersistRecord(ctxFor(dnsId('*.example.com'), { 'issuer-domain-names': ['ca.example'] }, { wildcard: true }));
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOOK_OUT: dir, AKAMU_TOKEN: 'stale', AKAMU_KEY_AUTH: 'stale' };
    await new DnsPersist01Solver({ publisher: new HookDnsPublisher(hook, { baseEnv }) }).prepare(
      ctxFor(dnsId('*.example.com'), { 'issuer-domain-names': ['ca.example'] }, { wildcard: true }),
    );
    const env = new Map(
      (await readFile(join(dir, 'add.env'), 'utf8'))
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    assert.equal(env.get('AKAMU_TXT'), 'ca.example; accounturi=https://ca.example/acct/123; policy=wildcard');
    assert.equal(env.get('AKAMU_RECORD_NAME'), '_validation-persist.example.com.');
    assert.equal(env.get('AKAMU_DOMAIN'), 'example.com');
    assert.equal(env.get('AKAMU_CHALLENGE'), 'dns-persist-01');
    assert.equal(env.get('AKAMU_TOKEN'), '');
    assert.equal(env.get('AKAMU_KEY_AUTH'), '');
    assert.deepEqual(
      [...env.keys()].filter((k) => k.startsWith('AKAMU_')).sort(),
      [...HOOK_ENV_NAMES].sort(),
      'the hook sees exactly the AKAMU_* variables of the record',
    );
  });
});

describe('dns-persist-01 against a real Pebble validation authority', () => {
  let pebble: Pebble;
  let client: AcmeClient;
  let accountUrl = '';
  let resolver: Resolver;

  before(async () => {
    pebble = await startPebble({});
    client = await AcmeClient.connect(pebble.directoryUrl, {
      transport: new HttpTransport({ userAgent: 'akamu-dns-persist-test', extraCaPem: pebble.caPem }),
    });
    accountUrl = (await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true })).url;
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${pebble.dnsPort}`]);
  });
  after(() => pebble?.stop());

  async function txt(name: string): Promise<string[]> {
    try {
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join('')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENODATA' || (err as NodeJS.ErrnoException).code === 'ENOTFOUND') return [];
      throw err;
    }
  }

  /** Publishes into challtestsrv and remembers every record it was asked for. */
  function recordingPublisher(publish = true): DnsPublisher & { added: DnsRecord[] } {
    const added: DnsRecord[] = [];
    return {
      added,
      add: async (r) => {
        added.push(r);
        if (publish) await pebble.setTxt(r.name, r.value); // adds a value to the name's TXT set
      },
    };
  }

  async function issue(solver: DnsPersist01Solver, names: string[]): Promise<X509Certificate> {
    const certKey = await PrivateKey.generate('ec:P-256');
    const r = await issueCertificate(client, {
      identifiers: names.map(dnsId),
      solvers: [solver],
      csr: () => buildCsr({ key: certKey, identifiers: normalizeIdentifiers(names) }),
      pollTimeoutMs: 30_000,
    });
    assert.equal(r.order.status, 'valid');
    const leaf = new X509Certificate(r.chainPem);
    for (const n of names) assert.ok(leaf.subjectAltName?.includes(`DNS:${n}`), `${n} in ${leaf.subjectAltName}`);
    return leaf;
  }

  it('Pebble offers dns-persist-01 with kebab-case issuer-domain-names and no token', async () => {
    const order = await client.newOrder({ identifiers: [dnsId('offer.example.com')] });
    const authz = await client.getAuthorization(order.authorizations[0]!);
    const ch = authz.challenges.find((c) => c.type === 'dns-persist-01');
    assert.ok(ch, `offered: ${authz.challenges.map((c) => c.type).join(', ')}`);
    assert.ok(Array.isArray(ch['issuer-domain-names']) && (ch['issuer-domain-names'] as unknown[]).length > 0);
    assert.equal(ch.token, undefined);
  });

  it('issues for a plain name; a second issuance reuses the record without changing DNS', async () => {
    const name = 'persist.example.com';
    const first = recordingPublisher();
    await issue(new DnsPersist01Solver({ publisher: first }), [name]);
    assert.equal(first.added.length, 1);
    const rec = first.added[0]!;
    assert.equal(rec.name, `_validation-persist.${name}.`);
    assert.match(rec.value, /^[a-z0-9.-]+; accounturi=/);
    assert.equal(rec.value.slice(rec.value.indexOf(';')), `; accounturi=${accountUrl}`);
    const before = await txt(`_validation-persist.${name}`);
    assert.deepEqual(before, [rec.value]);

    // The record stays in place: the second run's publisher does not touch DNS.
    // (Pebble 2.10 reuses a valid authorization when rand.Intn(100) is not above PEBBLE_AUTHZREUSE,
    // so about 1 order in 100 even at 0: then no challenge is asked for, and the order is tried again)
    let second = recordingPublisher(false);
    for (let attempt = 0; attempt < 3; attempt++) {
      second = recordingPublisher(false);
      await issue(new DnsPersist01Solver({ publisher: second }), [name]);
      if (second.added.length > 0) break;
    }
    assert.deepEqual(second.added, [rec], 'asked for the identical record');
    assert.deepEqual(await txt(`_validation-persist.${name}`), before, 'DNS unchanged');
  });

  it('issues for a wildcard and its apex (policy=wildcard on the wildcard record)', async () => {
    const pub = recordingPublisher();
    await issue(new DnsPersist01Solver({ publisher: pub }), ['*.wild.example.com', 'wild.example.com']);
    assert.deepEqual(
      pub.added.map((r) => r.name),
      ['_validation-persist.wild.example.com.', '_validation-persist.wild.example.com.'],
    );
    const values = pub.added.map((r) => r.value).sort();
    const issuer = values[0]!.slice(0, values[0]!.indexOf(';'));
    assert.deepEqual(values, [`${issuer}; accounturi=${accountUrl}`, `${issuer}; accounturi=${accountUrl}; policy=wildcard`]);
    assert.deepEqual(await txt('_validation-persist.wild.example.com'), values);
  });

  it('a record with a wrong accounturi fails validation with an ACME problem', async () => {
    const name = 'wrong.example.com';
    const wrongAccount = `${accountUrl}0`;
    const solver = new DnsPersist01Solver({
      publisher: {
        add: async (r) => {
          await pebble.setTxt(r.name, r.value.replace(`accounturi=${accountUrl}`, `accounturi=${wrongAccount}`));
        },
      },
    });
    const certKey = await PrivateKey.generate('ec:P-256');
    await assert.rejects(
      issueCertificate(client, { identifiers: [dnsId(name)], solvers: [solver], csr: () => buildCsr({ key: certKey, identifiers: normalizeIdentifiers([name]) }), pollTimeoutMs: 30_000 }),
      (e: unknown) => {
        assert.ok(e instanceof AcmeProblemError, String(e));
        assert.match(e.message, /wrong\.example\.com/);
        assert.equal(e.type, 'urn:ietf:params:acme:error:unauthorized');
        assert.ok(e.message.includes(`accounturi mismatch: expected "${accountUrl}", got "${wrongAccount}"`), e.message);
        return true;
      },
    );
  });

  it('a wildcard authorization fails when the record lacks policy=wildcard', async () => {
    const solver = new DnsPersist01Solver({
      publisher: {
        add: async (r) => {
          await pebble.setTxt(r.name, r.value.replace('; policy=wildcard', ''));
        },
      },
    });
    const certKey = await PrivateKey.generate('ec:P-256');
    const names = ['*.nopolicy.example.com'];
    await assert.rejects(
      issueCertificate(client, { identifiers: names.map(dnsId), solvers: [solver], csr: () => buildCsr({ key: certKey, identifiers: normalizeIdentifiers(names) }), pollTimeoutMs: 30_000 }),
      (e: unknown) => {
        assert.ok(e instanceof AcmeProblemError, String(e));
        assert.match(e.message, /\*\.nopolicy\.example\.com/);
        assert.equal(e.type, 'urn:ietf:params:acme:error:unauthorized');
        assert.match(e.message, /policy mismatch/);
        return true;
      },
    );
  });
});

/** End to end: `ca info --server URL` against Pebble 2.10 and the strict test CA (EAB required, http+unix). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDirectoryProxy, startTestCa, type TestCa } from '../../testkit/src/index.js';
import { setup, runCli, assertFailure, assertSuccess, tempDir, type Env } from './helpers.js';
import { caInfo } from '../src/commands/ca-info.js';
import { createRuntime } from '../src/runtime.js';
import { StdinPrompter } from '../src/stdin-prompt.js';

/** The value printed after `<label>:` (labels are padded to one column). */
function field(stdout: string, label: string): string {
  const m = new RegExp(`^${label}: +(.*)$`, 'm').exec(stdout);
  assert.ok(m, `a '${label}' line in:\n${stdout}`);
  return m[1]!;
}

describe('ca info', () => {
  let env: Env;
  before(async () => {
    env = await setup();
  });
  after(async () => env.pebble.stop());

  it("Pebble: terms, CAA, profiles with descriptions, ARI, EAB, key change, from its directory", async () => {
    const r = await runCli(['ca', 'info', ...env.server]);
    assertSuccess(r);
    assert.equal(r.stderr, '');
    assert.equal(field(r.stdout, 'Directory'), env.pebble.directoryUrl);
    assert.equal(field(r.stdout, 'Terms of service'), 'data:text/plain,Do%20what%20thou%20wilt');
    assert.equal(field(r.stdout, 'Website'), 'not advertised');
    assert.equal(field(r.stdout, 'CAA identities'), 'pebble.letsencrypt.org');
    assert.equal(field(r.stdout, 'External account'), 'not required');
    assert.match(field(r.stdout, 'ARI \\(RFC 9773\\)'), /^yes: https:\/\/127\.0\.0\.1:\d+\/draft-ietf-acme-ari-03\/renewalInfo$/);
    assert.match(field(r.stdout, 'Key change'), /^https:\/\/127\.0\.0\.1:\d+\/rollover-account-key$/);
    assert.equal(field(r.stdout, 'Pre-authorization'), 'no (no newAuthz)');
    assert.equal(field(r.stdout, 'Identifier types'), 'not advertised');
    assert.equal(field(r.stdout, 'Challenge types'), 'not advertised');
    assert.match(r.stdout, /^Profiles:\n {2}default {5}The default profile \(90 days\)\n {2}shortlived {2}A short-lived profile \(6 days\)$/m);
    assert.doesNotMatch(r.stdout, /Extensions:|Other metadata:/);
  });

  it('the result object, and what a directory with extensions and other metadata shows', async () => {
    const proxy = await startDirectoryProxy(env.pebble, (d) => {
      const { renewalInfo: _drop, ...rest } = d;
      const meta = rest.meta as Record<string, unknown>;
      return {
        ...rest, newAuthz: 'https://ca.test/new-authz',
        meta: { ...meta, profiles: {}, website: 'https://ca.test/\u001b[31m', issuerDomainNames: ['ca.test'], accountHashPrefix: 'https://ca.test/h/', subdomainAuthAllowed: true, someCaThing: { a: 1 } },
      };
    });
    try {
      const rt = createRuntime({ out: () => {}, err: () => {} }, 0, new StdinPrompter(() => {}), () => {});
      const r = await caInfo({ server: proxy.directoryUrl, serverCa: env.pebble.caPemPath }, rt);
      assert.deepEqual(JSON.parse(JSON.stringify(r)), {
        command: 'ca info',
        server: proxy.directoryUrl,
        termsOfService: 'data:text/plain,Do%20what%20thou%20wilt',
        website: 'https://ca.test/\u001b[31m',
        caaIdentities: ['pebble.letsencrypt.org'],
        profiles: [],
        ari: { supported: false },
        externalAccountRequired: false,
        keyChangeUrl: (JSON.parse((await env.pebble.httpsGet(env.pebble.directoryUrl)).body) as { keyChange: string }).keyChange,
        preAuthorizationUrl: 'https://ca.test/new-authz',
        extensions: [
          { name: 'dns-persist-01', detail: 'issuer domain names ca.test; hashed account URIs under https://ca.test/h/' },
          { name: 'subdomain authorizations (RFC 9444)', detail: 'allowed' },
        ],
        otherMeta: { someCaThing: { a: 1 } },
      });
      const text = await runCli(['ca', 'info', '--server', proxy.directoryUrl, '--server-ca', env.pebble.caPemPath]);
      assertSuccess(text);
      assert.equal(field(text.stdout, 'Website'), 'https://ca.test/\\x1b[31m', 'control characters escaped');
      assert.equal(field(text.stdout, 'ARI \\(RFC 9773\\)'), 'no (renewals use the expiry rule)');
      assert.equal(field(text.stdout, 'Profiles'), 'not advertised');
      assert.equal(field(text.stdout, 'Pre-authorization'), 'https://ca.test/new-authz');
      assert.match(text.stdout, /^Extensions:\n {2}dns-persist-01: issuer domain names ca\.test; hashed account URIs under https:\/\/ca\.test\/h\/\n {2}subdomain authorizations \(RFC 9444\): allowed\nOther metadata:\n {2}someCaThing: \{"a":1\}\n$/m);
    } finally {
      await proxy.stop();
    }
  });

  it('bad --server: a usage error; an untrusted server: one error line', async () => {
    assertFailure(await runCli(['ca', 'info', '--server', 'ftp://x.test/dir']), 2, /must be an https:\/\/, http:\/\/ or http\+unix:\/\/ URL/);
    assertFailure(await runCli(['ca', 'info', '--server', env.pebble.directoryUrl]), 1, /certificate/i);
  });
});

describe('ca info against the strict test CA', () => {
  let ca: TestCa;
  before(async () => {
    ca = await startTestCa({ eabKeys: { 'kid-1': 'c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw' }, dnsServer: false });
  });
  after(async () => ca.stop());

  it('EAB required, website, terms, ARI', async () => {
    const r = await runCli(['ca', 'info', '--server', ca.directoryUrl, '--server-ca', ca.caPemPath]);
    assertSuccess(r);
    assert.equal(field(r.stdout, 'External account'), 'required (register with --eab-kid and --eab-key-file)');
    assert.equal(field(r.stdout, 'Website'), 'https://akamu.invalid/test-ca');
    assert.equal(field(r.stdout, 'CAA identities'), 'akamu-test-ca.invalid');
    assert.equal(field(r.stdout, 'Terms of service'), ca.directoryUrl.replace(/\/dir$/, '/terms'));
    assert.equal(field(r.stdout, 'ARI \\(RFC 9773\\)'), `yes: ${ca.directoryUrl.replace(/\/dir$/, '/renewal-info')}`);
  });

  it('over http+unix', async () => {
    const socketPath = join(tempDir(), 'ca.sock');
    const unixCa = await startTestCa({ socketPath, dnsServer: false });
    try {
      assert.match(unixCa.directoryUrl, /^http\+unix:/);
      const r = await runCli(['ca', 'info', '--server', unixCa.directoryUrl]);
      assertSuccess(r);
      assert.equal(field(r.stdout, 'Directory'), unixCa.directoryUrl);
      assert.equal(field(r.stdout, 'External account'), 'not required');
      assert.match(r.stdout, /^ {2}shortlived {2}A short-lived profile \(6 days\)$/m);
    } finally {
      await unixCa.stop();
    }
  });
});

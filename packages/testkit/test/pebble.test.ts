import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import { startPebble, type Pebble } from '../src/index.js';

describe('testkit: Pebble + challtestsrv', () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  it('serves an ACME directory with ARI and profiles over TLS trusted via caPem', async () => {
    const r = await pebble.httpsGet(pebble.directoryUrl);
    assert.equal(r.status, 200);
    const dir = JSON.parse(r.body) as Record<string, unknown> & { meta: { profiles: Record<string, string> } };
    for (const k of ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange', 'renewalInfo']) {
      assert.equal(typeof dir[k], 'string', `directory has ${k}`);
    }
    assert.deepEqual(Object.keys(dir.meta.profiles).sort(), ['default', 'shortlived']);
    assert.match(pebble.caPem, /BEGIN CERTIFICATE/);
    assert.equal(pebble.requestCount(), 1, 'one ACME request counted');
  });

  it('answers the management API', async () => {
    assert.match(await pebble.rootPem(), /^-----BEGIN CERTIFICATE-----/);
    assert.match(await pebble.intermediatePem(), /^-----BEGIN CERTIFICATE-----/);
  });

  it('publishes TXT records through challtestsrv DNS', async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`127.0.0.1:${pebble.dnsPort}`]);
    await pebble.setTxt('_acme-challenge.txt.example.com', 'hello-akamu');
    assert.deepEqual(await resolver.resolveTxt('_acme-challenge.txt.example.com'), [['hello-akamu']]);
    await pebble.clearTxt('_acme-challenge.txt.example.com');
    await assert.rejects(resolver.resolveTxt('_acme-challenge.txt.example.com'));
    assert.deepEqual(await resolver.resolve4('anything.example.net'), ['127.0.0.1']);
    await pebble.addA('other.example.net', '127.0.0.2');
    assert.deepEqual(await resolver.resolve4('other.example.net'), ['127.0.0.2']);
  });

  it('runs several instances side by side and stops them cleanly', async () => {
    const [a, b] = await Promise.all([startPebble({ nonceReject: 5 }), startPebble({ eabKeys: { 'kid-1': 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' } })]);
    assert.notEqual(a.directoryUrl, b.directoryUrl);
    const eabDir = JSON.parse((await b.httpsGet(b.directoryUrl)).body) as { meta: { externalAccountRequired: boolean } };
    assert.equal(eabDir.meta.externalAccountRequired, true);
    assert.match(a.logText(), /reject 5% of good nonces/);
    await Promise.all([a.stop(), b.stop()]);
    await assert.rejects(a.httpsGet(a.directoryUrl));
    await assert.rejects(b.httpsGet(b.directoryUrl));
  });
});

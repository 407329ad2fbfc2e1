/**
 * RFC 2136 updates, TSIG (RFC 8945) and the propagation check against a real BIND 9 on loopback:
 * the signatures are BIND's to accept, and BIND's signed answers are verified here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DnsRecord } from '../src/challenges/types.js';
import { dnsAccountLabel, dnsAccount01RecordName } from '../src/challenges/dnsAccount01.js';
import { exchange } from '../src/dns/exchange.js';
import { decodeMessage, encodeQuery, encodeUpdate } from '../src/dns/packet.js';
import { DnsPropagationCheck } from '../src/dns/propagation.js';
import { findZone } from '../src/dns/query.js';
import { Rfc2136Publisher } from '../src/dns/rfc2136.js';
import { signMessage, verifyAnswer, type TsigKey } from '../src/dns/tsig.js';
import { ChallengeError } from '../src/errors.js';
import { freePort, startBind, type Bind } from '../../testkit/src/index.js';

const record = (name: string, value: string, challengeType = 'dns-01'): DnsRecord => ({
  name, value, domain: name.replace(/^_acme-challenge\./, '').replace(/\.$/, ''), identifier: { type: 'dns', value: 'x' }, challengeType,
});

describe('dns-account-01 label (draft-ietf-acme-dns-account-label-01)', () => {
  it('matches the draft example used in Boulder tests', () => {
    assert.equal(dnsAccountLabel('https://example.com/acme/acct/ExampleAccount'), '_ujmmovf2vn55tgye');
    assert.equal(dnsAccount01RecordName('*.example.org', 'https://example.com/acme/acct/ExampleAccount'), '_ujmmovf2vn55tgye._acme-challenge.example.org.');
  });
});

describe('RFC 2136 with TSIG against BIND 9', () => {
  let bind: Bind;
  let key256: TsigKey;
  let key512: TsigKey;
  const keyOf = (name: string): TsigKey => {
    const k = bind.keys[name]!;
    return { name: k.name, algorithm: k.algorithm, secret: Buffer.from(k.secret, 'base64') };
  };
  before(async () => {
    bind = await startBind({
      zones: ['example.test', 'sub.example.test', { name: 'locked.test', updateKeys: [] }],
      tsigKeys: [{ name: 'k256', algorithm: 'hmac-sha256' }, { name: 'k512.keys', algorithm: 'hmac-sha512' }],
    });
    key256 = keyOf('k256');
    key512 = keyOf('k512.keys');
  });
  after(async () => bind?.stop());
  const server = () => ({ host: bind.host, port: bind.port });

  it('adds and removes exactly its own TXT record, with hmac-sha256 and hmac-sha512; zones found by SOA', async () => {
    const name = '_acme-challenge.www.example.test.';
    const a = new Rfc2136Publisher({ server: server(), key: key256 });
    const b = new Rfc2136Publisher({ server: server(), key: key512 });
    await a.add(record(name, 'value-a'));
    await b.add(record(name, 'value-b'));
    assert.deepEqual((await bind.dig(name)).sort(), ['value-a', 'value-b']);
    await a.remove(record(name, 'value-a'));
    assert.deepEqual(await bind.dig(name), ['value-b'], 'the other record at the same name stays');
    await b.remove(record(name, 'value-b'));
    assert.deepEqual(await bind.dig(name), []);
    assert.equal(await a.zoneOf(name), 'example.test.');
    assert.equal(await a.zoneOf('_acme-challenge.deep.sub.example.test'), 'sub.example.test.', 'the delegated-looking child zone is its own');
  });

  it('a record longer than 255 octets is split into character-strings and goes over TCP when large', async () => {
    const name = '_validation-persist.big.example.test.';
    const value = `ca.example; accounturi=https://ca.example/acct/${'9'.repeat(600)}`;
    const p = new Rfc2136Publisher({ server: server(), key: key256, zone: 'example.test' });
    await p.add(record(name, value, 'dns-persist-01'));
    assert.deepEqual(await bind.dig(name), [value]);
    assert.match(bind.logText(), /via TCP|adding an RR at '_validation-persist\.big\.example\.test' TXT/);
  });

  it('start() probes the zone of every name with an empty update before anything is published', async () => {
    await new Rfc2136Publisher({ server: server(), key: key256, probeNames: ['_acme-challenge.a.example.test.', '_acme-challenge.b.sub.example.test.'] }).start();
    const locked = new Rfc2136Publisher({ server: server(), key: key256, probeNames: ['_acme-challenge.locked.test.'] });
    await assert.rejects(locked.start(), (err: Error) => err instanceof ChallengeError
      && /^DNS server 127\.0\.0\.1:\d+ refused the update of zone locked\.test\. \(probe\) with key 'k256': REFUSED — the key may not update this zone/.test(err.message));
  });

  it('a wrong secret is BADSIG, an unknown key BADKEY; a name outside the zone is refused before sending', async () => {
    const wrong = new Rfc2136Publisher({ server: server(), key: { ...key256, secret: Buffer.alloc(32, 7) } });
    await assert.rejects(wrong.add(record('_acme-challenge.x.example.test.', 'v')),
      /rejected TSIG key 'k256' \(hmac-sha256\): NOTAUTH\/BADSIG — the secret does not match the server's$/);
    const unknown = new Rfc2136Publisher({ server: server(), key: { ...key256, name: 'nobody' }, zone: 'example.test' });
    await assert.rejects(unknown.add(record('_acme-challenge.x.example.test.', 'v')), /rejected TSIG key 'nobody' \(hmac-sha256\): NOTAUTH\/BADKEY/);
    const outside = new Rfc2136Publisher({ server: server(), key: key256, zone: 'example.test' });
    await assert.rejects(outside.add(record('_acme-challenge.other.invalid.', 'v')), /the record _acme-challenge\.other\.invalid\. is not inside zone example\.test\./);
    await assert.rejects(findZone(server(), '_acme-challenge.nowhere.invalid'), /cannot find the zone of _acme-challenge\.nowhere\.invalid\. at DNS server .*: REFUSED: it serves no zone/);
    assert.deepEqual(await bind.dig('_acme-challenge.x.example.test'), []);
  });

  it("BIND's signed answer verifies; a changed byte or another request's MAC does not", async () => {
    const signed = signMessage(encodeUpdate('example.test', []), key256, Date.now() / 1000);
    const raw = await exchange(server(), signed.message);
    const message = decodeMessage(raw);
    assert.equal(message.rcode, 0);
    assert.equal(verifyAnswer(raw, message, key256, signed.mac, Date.now() / 1000).kind, 'verified');
    const tampered = Buffer.from(raw);
    tampered[13] = tampered[13]! ^ 0x20; // a letter of the zone name changes case
    assert.deepEqual(verifyAnswer(tampered, decodeMessage(tampered), key256, signed.mac, Date.now() / 1000), { kind: 'invalid', why: 'the MAC does not match' });
    assert.equal(verifyAnswer(raw, message, key256, Buffer.alloc(32), Date.now() / 1000).kind, 'invalid');
    assert.match(JSON.stringify(verifyAnswer(raw, message, key256, signed.mac, Date.now() / 1000 + 3600)), /more than 300 s/);
    const unsigned = await exchange(server(), encodeQuery('example.test', 'SOA'));
    assert.equal(verifyAnswer(unsigned, decodeMessage(unsigned), key256, signed.mac, Date.now() / 1000).kind, 'unsigned');
  });
});

describe('propagation check (injected clock and sleep)', () => {
  let bind: Bind;
  let key: TsigKey;
  before(async () => {
    bind = await startBind({ zones: ['prop.test'] });
    const k = bind.keys['akamu-test']!;
    key = { name: k.name, algorithm: k.algorithm, secret: Buffer.from(k.secret, 'base64') };
  });
  after(async () => bind?.stop());

  /** A clock that only moves when the check sleeps. */
  const fakeTime = () => {
    let t = 1_000_000;
    const sleeps: number[] = [];
    return { now: () => t, sleep: async (ms: number) => { sleeps.push(ms); t += ms; }, sleeps };
  };

  it('waits until the value is visible at the server, then returns; polls with a growing pause', async () => {
    const name = '_acme-challenge.late.prop.test.';
    const time = fakeTime();
    const publisher = new Rfc2136Publisher({ server: { host: bind.host, port: bind.port }, key });
    let looks = 0;
    const check = new DnsPropagationCheck({
      servers: [{ host: bind.host, port: bind.port }],
      now: time.now,
      sleep: async (ms) => {
        await time.sleep(ms);
        if (++looks === 3) await publisher.add(record(name, 'late-value')); // published after the third pause
      },
    });
    await check.wait(record(name, 'late-value'), { deadline: time.now() + 60_000 });
    assert.deepEqual(time.sleeps, [500, 1000, 2000]);
  });

  it('at the deadline: one error naming the record, the server and what it saw', async () => {
    const time = fakeTime();
    const check = new DnsPropagationCheck({ servers: [{ host: bind.host, port: bind.port }], timeoutMs: 8_000, now: time.now, sleep: time.sleep });
    await assert.rejects(check.wait(record('_acme-challenge.never.prop.test.', 'v'), { deadline: time.now() + 60_000 }),
      (err: Error) => err instanceof ChallengeError
        && /^the TXT record _acme-challenge\.never\.prop\.test\. "v" is not visible after 8 s at 127\.0\.0\.1:\d+ \(no TXT record yet\)$/.test(err.message));
    assert.equal(time.now(), 1_000_000 + 8_000, 'the timeout, not the later deadline, ended it');
  });

  it('without servers: the zone\'s authoritative servers are found by SOA and NS through the resolvers', async () => {
    const name = '_acme-challenge.auth.prop.test.';
    await new Rfc2136Publisher({ server: { host: bind.host, port: bind.port }, key }).add(record(name, 'auth-value'));
    const warnings: string[] = [];
    const log = { error() {}, warn: (m: string) => warnings.push(m), info() {}, debug() {}, trace() {} };
    const check = new DnsPropagationCheck({ resolvers: [{ host: bind.host, port: bind.port }], authoritativePort: bind.port, log });
    await check.wait(record(name, 'auth-value'));
    assert.deepEqual(warnings, []);
    // no zone to be found: a warning, and no wait
    const none = new DnsPropagationCheck({ resolvers: [{ host: bind.host, port: bind.port }], authoritativePort: bind.port, log });
    await none.wait(record('_acme-challenge.x.unknown.invalid.', 'v'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^cannot find the authoritative servers of _acme-challenge\.x\.unknown\.invalid\. \(cannot find the zone .*REFUSED.*\); not waiting for the record to propagate$/);
    // found, but none answers (nothing listens on their port): a warning, and no wait
    const silent = new DnsPropagationCheck({ resolvers: [{ host: bind.host, port: bind.port }], authoritativePort: await freePort(true), queryTimeoutMs: 100, log });
    await silent.wait(record('_acme-challenge.quiet.prop.test.', 'v'));
    assert.equal(warnings.length, 2);
    assert.match(warnings[1]!, /^none of the authoritative servers of _acme-challenge\.quiet\.prop\.test\. answers \(no answer from DNS server 127\.0\.0\.1:\d+ within 0\.1 s \(UDP, 2 tries\)\); not waiting for the record to propagate$/);
  });

  it('an abort ends the wait at once with the signal\'s reason', async () => {
    const controller = new AbortController();
    const check = new DnsPropagationCheck({
      servers: [{ host: bind.host, port: bind.port }],
      sleep: () => {
        controller.abort(new Error('interrupted'));
        return new Promise(() => {});
      },
    });
    await assert.rejects(check.wait(record('_acme-challenge.abort.prop.test.', 'v'), { signal: controller.signal }), /waiting for DNS propagation: aborted|interrupted/);
  });
});

// The library against a real Pebble 2.10 behind the test kit's fault-injecting proxy: retries,
// deadlines, and POSTs whose outcome is unknown. Sleeps are injected (waits are recorded, not
// slept) wherever the test does not measure the deadline itself; every fault script is seeded.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ISSUANCE_CLASSES, startFaultProxy, startPebble, type Fault, type FaultProxy, type FaultRule, type Pebble, type RequestClass,
} from '../../testkit/src/index.js';
import { AcmeClient } from '../src/acme/client.js';
import { issueCertificate } from '../src/acme/issue.js';
import { Dns01Solver } from '../src/challenges/dns01.js';
import { AcmeProblemError, AkamuError, PollTimeoutError } from '../src/errors.js';
import { PrivateKey } from '../src/keys/index.js';
import type { Logger } from '../src/log.js';
import { HttpTransport } from '../src/transport/http.js';
import { buildCsr } from '../src/x509/csr.js';
import { splitPemCertificates } from '../src/x509/chain.js';
import { ariCertId } from '../src/x509/facts.js';

const UA = 'akamu-test akamu-client/0.1.0';

interface Outcome {
  ok: boolean;
  error?: unknown;
  waits: number[];
  debug: string[];
  warnings: string[];
  ms: number;
  /** The ARI certID of the certificate issued, and its chain. */
  certId?: string;
  chainPem?: string;
}

let names = 0;
const freshName = (tag: string): string => `${tag}-${++names}.faults.example`;

function recordingLogger(debug: string[], warnings: string[]): Logger {
  const log: Logger = {
    error: () => {}, info: () => {}, trace: () => {},
    debug: (m) => void debug.push(m),
    warn: (m) => void warnings.push(m),
  };
  return log;
}

/**
 * One issuance (fresh account, one dns-01 name) through `directoryUrl`. `sleep: 'real'` sleeps for
 * real (deadline tests); otherwise waits are only recorded.
 */
async function issueVia(pb: Pebble, directoryUrl: string, opts: {
  name?: string; pollTimeoutMs?: number; sleep?: 'real'; replaces?: string; maxNonceAttempts?: number; client?: AcmeClient;
} = {}): Promise<Outcome> {
  const waits: number[] = [];
  const debug: string[] = [];
  const warnings: string[] = [];
  const log = recordingLogger(debug, warnings);
  const sleep = opts.sleep === 'real' ? undefined : async (ms: number): Promise<void> => void waits.push(ms);
  const started = Date.now();
  const pollTimeoutMs = opts.pollTimeoutMs ?? 30_000;
  const transport = new HttpTransport({ userAgent: UA, extraCaPem: pb.caPem, log, ...(sleep ? { sleep } : {}) });
  try {
    const client = opts.client ?? await AcmeClient.connect(directoryUrl, {
      transport, log, deadline: started + pollTimeoutMs, ...(sleep ? { sleep } : {}),
      ...(opts.maxNonceAttempts ? { maxNonceAttempts: opts.maxNonceAttempts } : {}),
    });
    if (!opts.client) await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const name = opts.name ?? freshName('n');
    const key = await PrivateKey.generate('ec:P-256');
    const identifiers = [{ type: 'dns' as const, value: name }];
    const result = await issueCertificate(client, {
      identifiers,
      solvers: [new Dns01Solver({ publisher: { add: (r) => pb.setTxt(r.name, r.value), remove: (r) => pb.clearTxt(r.name) } })],
      csr: () => buildCsr({ key, identifiers }),
      pollTimeoutMs,
      log,
      ...(opts.replaces ? { replaces: opts.replaces } : {}),
      ...(sleep ? { sleep } : {}),
    });
    const leaf = new X509Certificate(splitPemCertificates(result.chainPem)[0]!);
    assert.match(leaf.subjectAltName ?? '', new RegExp(name.replace(/\./g, '\\.')));
    assert.ok(leaf.publicKey.equals((await import('node:crypto')).createPublicKey(key.toPem())), 'the certificate is for the key');
    return { ok: true, waits, debug, warnings, ms: Date.now() - started, certId: await ariCertId(result.chainPem), chainPem: result.chainPem };
  } catch (error) {
    return { ok: false, error, waits, debug, warnings, ms: Date.now() - started };
  } finally {
    transport.close();
  }
}

function explain(o: Outcome): string {
  return `${o.error instanceof Error ? o.error.message : String(o.error)}\n${o.debug.slice(-15).join('\n')}`;
}

const status = (s: 429 | 500 | 503, seconds?: number, form: 'delta' | 'date' = 'delta'): Fault =>
  ({ kind: 'status', status: s, ...(seconds !== undefined ? { retryAfter: { seconds, form } } : {}) });

describe('retries that ride out server faults (fault proxy in front of Pebble)', () => {
  let pb: Pebble;
  const proxies: FaultProxy[] = [];
  const proxy = async (rules: FaultRule[], seed = 1): Promise<FaultProxy> => {
    const p = await startFaultProxy(pb, { rules, seed });
    proxies.push(p);
    return p;
  };
  before(async () => {
    pb = await startPebble();
  });
  after(async () => {
    const injected = proxies.flatMap((p) => p.injected());
    reportFigures('all library fault cases', { proxies: proxies.length, faultsInjected: injected.length, byKind: countBy(injected.map((r) => r.fault!)) });
    await Promise.all(proxies.map((p) => p.stop()));
    await pb?.stop();
  });

  const everyClass = (fault: Fault, count: number): FaultRule[] => ISSUANCE_CLASSES.map((on) => ({ on, fault, count }));

  for (const [title, fault, count, wait] of [
    ['3 consecutive 503 with Retry-After: 1 (delta-seconds)', status(503, 1), 3, 1000],
    ['3 consecutive 503 with Retry-After: 1 (HTTP-date)', status(503, 1, 'date'), 3, undefined],
    ['429 with Retry-After: 2', status(429, 2), 1, 2000],
    ['3 consecutive 503 without Retry-After (jittered backoff)', status(503), 3, undefined],
    ['3 consecutive 500 without a problem document', status(500), 3, undefined],
  ] as const) {
    it(`${title} on every request class: the issuance succeeds`, async () => {
      const p = await proxy(everyClass(fault, count));
      const o = await issueVia(pb, p.directoryUrl);
      assert.ok(o.ok, explain(o));
      const hit = new Set(p.injected().map((r) => r.cls));
      assert.deepEqual([...ISSUANCE_CLASSES].filter((c) => !hit.has(c)), [], 'every class got its faults');
      assert.equal(p.injected().length, ISSUANCE_CLASSES.length * count);
      assert.deepEqual(p.errors, []);
      if (wait !== undefined) {
        // the Retry-After of each refused request (the 500s of signed POSTs are recovered, not waited for)
        assert.equal(o.waits.filter((w) => w === wait).length, ISSUANCE_CLASSES.length * count, `waits: ${o.waits.join(', ')}`);
      }
      assert.ok(o.debug.some((l) => /retrying in \d+ ms|re-signing and retrying/.test(l)), 'the retries are logged at debug');
    });
  }

  for (const kind of ['reset-before-body', 'reset-after-body', 'truncate', 'malformed', 'drop-nonce'] as const) {
    it(`${kind} on every request class: the issuance succeeds`, async () => {
      const p = await proxy(everyClass({ kind }, 1), 7);
      const o = await issueVia(pb, p.directoryUrl);
      assert.ok(o.ok, explain(o));
      assert.equal(p.injected().length, ISSUANCE_CLASSES.length);
      assert.deepEqual(p.errors, []);
      if (kind.startsWith('reset')) {
        // a real TCP reset, seen as one by the client, for every class
        assert.equal(o.debug.filter((l) => /connection reset by the server/.test(l)).length, ISSUANCE_CLASSES.length, o.debug.join('\n'));
      }
    });
  }

  it('a lost answer to a POST is not sent again when the re-read shows it took effect', async () => {
    const lost: RequestClass[] = ['newAccount', 'newOrder', 'challenge', 'finalize'];
    const p = await proxy(lost.map((on) => ({ on, fault: { kind: 'reset-after-body' }, count: 1 })));
    const o = await issueVia(pb, p.directoryUrl);
    assert.ok(o.ok, explain(o));
    for (const cls of lost) {
      assert.equal(p.requests.filter((r) => r.cls === cls && !r.read).length,
        cls === 'newAccount' ? 2 : 1, `${cls}: POSTs sent (newAccount: the original and one onlyReturnExisting look-up)`);
    }
    assert.ok(o.debug.some((l) => /had taken effect; going on with the resource as re-read/.test(l)), o.debug.join('\n'));
  });

  it('a lost newOrder answer is found on the last page of a long orders list', async () => {
    const p = await proxy([]);
    const transport = new HttpTransport({ userAgent: UA, extraCaPem: pb.caPem });
    const client = await AcmeClient.connect(p.directoryUrl, { transport, sleep: async () => {} });
    await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    // Pebble lists 3 orders a page, oldest first: 7 earlier orders put the new one on page 3
    for (let i = 0; i < 7; i++) await client.newOrder({ identifiers: [{ type: 'dns', value: freshName('older') }] });
    p.setRules([{ on: 'newOrder', fault: { kind: 'reset-after-body' }, count: 1 }]);
    const name = freshName('paged');
    const order = await client.newOrder({ identifiers: [{ type: 'dns', value: name }] });
    assert.deepEqual(order.identifiers, [{ type: 'dns', value: name }]);
    assert.equal(p.requests.filter((r) => r.cls === 'newOrder').length, 8, 'the lost one was not sent again');
    assert.equal(p.requests.filter((r) => r.cls === 'orders').length, 3, 'all three pages were read');
    transport.close();
  });

  it('a POST that never reached the server is sent again after the re-read', async () => {
    const p = await proxy([{ on: 'finalize', fault: { kind: 'reset-before-body' }, count: 1 }, { on: 'newOrder', fault: { kind: 'reset-before-body' }, count: 1 }]);
    const o = await issueVia(pb, p.directoryUrl);
    assert.ok(o.ok, explain(o));
    assert.equal(p.requests.filter((r) => r.cls === 'finalize' && !r.read).length, 2);
    assert.equal(p.requests.filter((r) => r.cls === 'newOrder' && !r.read).length, 2);
    assert.ok(p.requests.some((r) => r.cls === 'orders'), 'the account\'s orders were looked at before ordering again');
    assert.ok(o.debug.some((l) => /had not taken effect; sending it again/.test(l)));
  });

  it('a chain with a non-CERTIFICATE block is downloaded again once, then refused', async () => {
    const once = await issueVia(pb, (await proxy([{ on: 'certificate', fault: { kind: 'chain-extra-block' }, count: 1 }])).directoryUrl);
    assert.ok(once.ok, explain(once));
    const twice = await issueVia(pb, (await proxy([{ on: 'certificate', fault: { kind: 'chain-extra-block' }, count: 2 }])).directoryUrl);
    assert.ok(twice.error instanceof AkamuError && twice.error.code === 'bad-chain', explain(twice));
    assert.match((twice.error as Error).message, /^certificate chain rejected: block \d is a PRIVATE KEY, not a CERTIFICATE$/);
  });

  it('an oversized answer and a directory without required fields are one clear error each', async () => {
    const big = await issueVia(pb, (await proxy([{ on: 'order', fault: { kind: 'oversize' }, count: 1 }])).directoryUrl);
    assert.match(String((big.error as Error)?.message), /is larger than 16777216 bytes$/);
    const p = await proxy([{ on: 'directory', fault: { kind: 'directory-missing' }, count: 5 }]);
    const dir = await issueVia(pb, p.directoryUrl);
    assert.equal((dir.error as Error)?.message, `${p.directoryUrl} is not an ACME directory (missing newOrder, keyChange)`);
  });

  it('a rate limit that cannot be waited out within the deadline is reported with when it lifts', async () => {
    const p = await proxy([{ on: 'newOrder', fault: status(429, 60), count: 1 }]);
    const before = Date.now();
    const o = await issueVia(pb, p.directoryUrl, { pollTimeoutMs: 10_000 });
    assert.ok(o.error instanceof AcmeProblemError && o.error.is('rateLimited'), explain(o));
    assert.ok(o.error.retryAfter && Math.abs(o.error.retryAfter.getTime() - (before + 60_000)) < 5_000);
    assert.match(o.error.message, /\(retry after \S+Z\)$/);
    assert.deepEqual(o.waits.filter((w) => w >= 60_000), [], 'not waited for');
  });

  it('a stalled answer ends by the deadline with one clear error, on every request class', async () => {
    const results = await Promise.all(ISSUANCE_CLASSES.map(async (cls) => {
      const p = await proxy([{ on: cls, fault: { kind: 'stall' }, count: 1 }]);
      return { cls, o: await issueVia(pb, p.directoryUrl, { pollTimeoutMs: 2_000, sleep: 'real' }) };
    }));
    for (const { cls, o } of results) {
      assert.ok(o.error instanceof PollTimeoutError, `${cls}: ${explain(o)}`);
      assert.match(o.error.message, /^timed out after 2 s waiting for the server's answer to (GET|HEAD|POST) https:\/\/127\.0\.0\.1:\d+\/\S+$/, cls);
      assert.ok(o.ms < 2_000 + 1_500, `${cls}: ended after ${o.ms} ms`);
    }
  });

  it('an abort signal ends the run at once, in a stalled request or a wait', async () => {
    for (const fault of [{ kind: 'stall' } as const, status(503, 30)]) {
      const p = await proxy([{ on: 'newOrder', fault, count: 1 }]);
      const transport = new HttpTransport({ userAgent: UA, extraCaPem: pb.caPem });
      const ac = new AbortController();
      const client = await AcmeClient.connect(p.directoryUrl, { transport, signal: ac.signal });
      await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
      setTimeout(() => ac.abort(), 200);
      const started = Date.now();
      await assert.rejects(client.newOrder({ identifiers: [{ type: 'dns', value: freshName('abort') }] }), (e: unknown) =>
        e instanceof AkamuError && e.code === 'aborted' && /^POST https:\/\/\S+\/order-plz: aborted$/.test(e.message));
      assert.ok(Date.now() - started < 3_000, `${fault.kind}: ${Date.now() - started} ms`);
      transport.close();
    }
  });

  it('contact update, key change, revocation and deactivation ride out a 503 and then a lost answer', async () => {
    const p = await proxy([]);
    const transport = new HttpTransport({ userAgent: UA, extraCaPem: pb.caPem });
    const debug: string[] = [];
    const sleep = async (): Promise<void> => {};
    const client = await AcmeClient.connect(p.directoryUrl, { transport, sleep, log: recordingLogger(debug, []) });
    await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const issued = await issueVia(pb, p.directoryUrl, { client });
    assert.ok(issued.ok, explain(issued));
    // on each class: the first request refused (503), its retry's answer lost after Pebble acted
    const faults = (on: RequestClass): void => p.setRules([
      { on, method: 'POST', fault: status(503, 1), count: 1 },
      { on, method: 'POST', fault: { kind: 'reset-after-body' }, count: 1 },
    ]);
    const changes = (cls: RequestClass): number => p.requests.filter((r) => r.cls === cls && !r.read).length;

    faults('account');
    assert.deepEqual((await client.updateAccount(['mailto:ops@example.com'])).contact, ['mailto:ops@example.com']);
    assert.equal(changes('account'), 2, 'the refused update and its retry; not sent a third time');

    faults('keyChange');
    const newKey = await PrivateKey.generate('ec:P-384');
    await client.changeKey(newKey);
    assert.equal(changes('keyChange'), 2);
    p.setRules([]);
    assert.equal((await client.getAccount()).status, 'valid', 'the new key signs');

    faults('revoke');
    const leaf = splitPemCertificates(issued.chainPem!)[0]!;
    await client.revoke(leaf);
    assert.equal((await pb.certStatus(new X509Certificate(leaf).serialNumber)).Status, 'Revoked');
    assert.equal(changes('revoke'), 3, 'sent again once after the lost answer; alreadyRevoked means done');

    faults('account');
    const before = changes('account');
    assert.equal((await client.deactivateAccount()).status, 'deactivated');
    assert.equal(changes('account') - before, 2);
    assert.deepEqual(p.errors, []);
    assert.equal(debug.filter((l) => /had taken effect; going on with the resource as re-read/.test(l)).length, 4, debug.join('\n'));
    transport.close();
  });

  it("retries once without 'replaces' when the server does not know the replaced certificate", async () => {
    // Pebble answers serverInternal "could not find an order for the given certificate" for a
    // predecessor it has no order for, as it may right after an issuance: the certID of a real
    // certificate of its intermediate, with a serial it never issued
    const first = await issueVia(pb, pb.directoryUrl);
    assert.ok(first.ok, explain(first));
    const realId = first.certId!;
    const unknown = `${realId.split('.')[0]}.${Buffer.from('unknown-serial').toString('base64url')}`;
    const o = await issueVia(pb, pb.directoryUrl, { replaces: unknown });
    assert.ok(o.ok, explain(o));
    assert.equal(o.warnings.length, 1);
    assert.match(o.warnings[0]!, /^the server did not accept 'replaces' \S+ \(could not find an order for the given certificate.*\); ordering without it$/);
  });

  it('a seeded mix of faults on every request (15 %) over 30 issuances: all succeed', async () => {
    const kinds: Fault[] = [
      status(503, 1), status(503, 1, 'date'), status(429, 2), status(500), status(503),
      { kind: 'reset-before-body' }, { kind: 'reset-after-body' }, { kind: 'truncate' }, { kind: 'malformed' }, { kind: 'drop-nonce' },
    ];
    const p = await proxy(kinds.map((fault) => ({ on: '*' as const, fault, probability: 0.015 })), 20240611);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 30; i++) outcomes.push(await issueVia(pb, p.directoryUrl));
    const failed = outcomes.filter((o) => !o.ok);
    const injected = p.injected();
    reportFigures('seeded fault mix', { issuances: outcomes.length, succeeded: outcomes.length - failed.length, faultsInjected: injected.length, requests: p.requests.length, byKind: countBy(injected.map((r) => r.fault!)) });
    assert.deepEqual(failed.map(explain), []);
    assert.ok(injected.length >= 40, `${injected.length} faults injected`);
  });
});

describe('badNonce: Pebble rejecting 50 % of nonces', () => {
  let pb: Pebble;
  before(async () => {
    pb = await startPebble({ nonceReject: 50 });
  });
  after(async () => {
    await pb?.stop();
  });

  it('40 issuances all succeed (re-signed with the nonce from each error)', async () => {
    const debug: string[] = [];
    const log = recordingLogger(debug, []);
    const transport = new HttpTransport({ userAgent: UA, extraCaPem: pb.caPem });
    const sleep = async (): Promise<void> => {};
    const client = await AcmeClient.connect(pb.directoryUrl, { transport, log, sleep });
    await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    let ok = 0;
    const started = Date.now();
    for (let batch = 0; batch < 8; batch++) {
      // five at a time on one account: the nonce pool and the re-signing under concurrency
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => issueVia(pb, pb.directoryUrl, { client })));
      for (const o of outcomes) assert.ok(o.ok, explain(o));
      ok += outcomes.length;
    }
    const rejected = debug.filter((l) => l.startsWith('badNonce from')).length;
    reportFigures('nonce rejection 50 %', { issuances: 40, succeeded: ok, badNonceRetries: rejected, requests: client.requestCount, ms: Date.now() - started });
    assert.equal(ok, 40);
    assert.ok(rejected >= 40, `${rejected} badNonce answers were ridden out`);
    transport.close();
  });
});

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** Figures for RELIABILITY.md, on the test's output (`AKAMU_FIGURES=1` prints them). */
function reportFigures(what: string, figures: Record<string, unknown>): void {
  if (process.env.AKAMU_FIGURES) process.stderr.write(`figures: ${what}: ${JSON.stringify(figures)}\n`);
}

/**
 * Cancelling an issuance with an AbortSignal, against a real Pebble: an abort while a record is
 * being published or while waiting for the CA stops the flow, cleans up as a failure does (records
 * removed, listeners closed) and rejects with the signal's reason; a hook killed by the abort takes
 * its own children with it, and `remove` hooks still run.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AcmeClient } from '../src/acme/client.js';
import { issueCertificate } from '../src/acme/issue.js';
import { Dns01Solver } from '../src/challenges/dns01.js';
import { HookDnsPublisher } from '../src/challenges/hook.js';
import { Http01Solver } from '../src/challenges/http01.js';
import type { DnsPublisher, DnsRecord } from '../src/challenges/types.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { PrivateKey } from '../src/keys/index.js';
import { HttpTransport } from '../src/transport/http.js';
import { buildCsr } from '../src/x509/csr.js';
import { startPebble, tempDir, type Pebble } from '../../testkit/src/index.js';
import { processAlive, waitUntil, writeSlowDnsHook } from '../../testkit/src/processes.js';

function connectRefused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('issueCertificate with an AbortSignal, against Pebble', () => {
  let pebble: Pebble;
  let client: AcmeClient;
  before(async () => {
    pebble = await startPebble({});
    client = await AcmeClient.connect(pebble.directoryUrl, { transport: new HttpTransport({ userAgent: 'akamu-cancel-test', extraCaPem: pebble.caPem }) });
    await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
  });
  after(() => pebble?.stop());

  const csrFor = (names: string[]) => async () => buildCsr({ key: await PrivateKey.generate('ec:P-256'), identifiers: normalizeIdentifiers(names) });

  it('an abort while a record is published: the record is removed, the listener closed, the reason thrown', async () => {
    const controller = new AbortController();
    const reason = new Error('operator pressed Ctrl-C');
    const removed: string[] = [];
    let addStarted!: () => void;
    const started = new Promise<void>((resolve) => { addStarted = resolve; });
    const publisher: DnsPublisher = {
      // a publisher that takes its time, and gives up when the run is aborted
      add: () => new Promise<void>((_, reject) => {
        addStarted();
        controller.signal.addEventListener('abort', () => reject(new Error('publishing cut short')));
      }),
      remove: async (r) => {
        removed.push(r.name);
      },
    };
    const names = ['*.cut.example.com', 'cut.example.com'];
    const run = issueCertificate(client, {
      identifiers: normalizeIdentifiers(names),
      solvers: [new Http01Solver({ port: pebble.httpPort }), new Dns01Solver({ publisher })],
      csr: csrFor(names),
      pollTimeoutMs: 30_000,
      signal: controller.signal,
    });
    await started;
    assert.equal(await connectRefused(pebble.httpPort), 'connected', 'the http-01 listener is up meanwhile');
    controller.abort(reason);
    await assert.rejects(run, (e: unknown) => e === reason);
    assert.deepEqual(removed, ['_acme-challenge.cut.example.com.']);
    assert.equal(await connectRefused(pebble.httpPort), 'ECONNREFUSED', 'the http-01 listener was closed');
  });

  it('an abort while waiting for the CA cuts the sleep short and still cleans up', async () => {
    const controller = new AbortController();
    const reason = new Error('SIGTERM');
    const removed: string[] = [];
    let sleeping!: () => void;
    const inSleep = new Promise<void>((resolve) => { sleeping = resolve; });
    const publisher: DnsPublisher = {
      add: async (r) => pebble.setTxt(r.name, r.value),
      remove: async (r) => {
        removed.push(r.name);
        await pebble.clearTxt(r.name);
      },
    };
    const run = issueCertificate(client, {
      identifiers: normalizeIdentifiers(['wait.example.com']),
      solvers: [new Dns01Solver({ publisher })],
      csr: csrFor(['wait.example.com']),
      pollTimeoutMs: 30_000,
      // a wait that would never end by itself
      sleep: () => {
        sleeping();
        return new Promise<void>(() => {});
      },
      signal: controller.signal,
    });
    await inSleep;
    controller.abort(reason);
    await assert.rejects(run, (e: unknown) => e === reason);
    assert.deepEqual(removed, ['_acme-challenge.wait.example.com.']);
  });

  it('an already aborted signal sends nothing', async () => {
    const reason = new Error('too late');
    const before = pebble.requestCount();
    await assert.rejects(issueCertificate(client, {
      identifiers: normalizeIdentifiers(['never.example.com']),
      solvers: [new Http01Solver({ port: pebble.httpPort })],
      csr: csrFor(['never.example.com']),
      pollTimeoutMs: 30_000,
      signal: AbortSignal.abort(reason),
    }), (e: unknown) => e === reason);
    assert.equal(pebble.requestCount(), before);
  });
});

describe('HookDnsPublisher with an AbortSignal', () => {
  const record: DnsRecord = {
    name: '_acme-challenge.hook.example.', value: 'v', domain: 'hook.example',
    identifier: { type: 'dns', value: 'hook.example' }, challengeType: 'dns-01',
  };

  it('ends a running add with its children; remove still runs after the abort', async () => {
    const hook = writeSlowDnsHook(tempDir());
    const controller = new AbortController();
    const reason = new Error('interrupted');
    const publisher = new HookDnsPublisher(hook.path, { baseEnv: { PATH: process.env.PATH, ...hook.env }, signal: controller.signal });
    const adding = publisher.add(record);
    const { hookPid, childPid } = await hook.added();
    assert.ok(processAlive(hookPid) && processAlive(childPid));
    controller.abort(reason);
    await assert.rejects(adding, (e: unknown) => e === reason);
    assert.equal(processAlive(hookPid), false, 'the hook ended');
    await waitUntil('the hook\'s own child to end', () => !processAlive(childPid));
    await publisher.remove(record);
    assert.equal(hook.removed(), '_acme-challenge.hook.example.\n');
    await assert.rejects(publisher.add(record), (e: unknown) => e === reason, 'no new add after the abort');
  });
});

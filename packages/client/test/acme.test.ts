// AcmeClient and issueCertificate against a real Pebble 2.10 (packages/testkit).
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startPebble, type Pebble } from '../../testkit/src/index.js';
import { AcmeClient, type AcmeClientOptions } from '../src/acme/client.js';
import { authorizationName, AuthorizationFailedError } from '../src/acme/errors.js';
import { issueCertificate } from '../src/acme/issue.js';
import { PollTimeoutError } from '../src/errors.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { Http01Solver } from '../src/challenges/http01.js';
import type { ChallengeContext, Solver } from '../src/challenges/types.js';
import { AcmeProblemError, TransportError, UsageError } from '../src/errors.js';
import { b64u } from '../src/jose/base64url.js';
import { PrivateKey } from '../src/keys/index.js';
import { HttpTransport } from '../src/transport/http.js';
import { type HttpRequest, type HttpResponse, type Transport } from '../src/transport/types.js';
import { buildCsr } from '../src/x509/csr.js';
import { splitPemCertificates } from '../src/x509/chain.js';

const UA = 'akamu-test akamu-client/0.1.0';

function connect(pb: Pebble, opts: Partial<AcmeClientOptions> = {}): Promise<AcmeClient> {
  const transport = new HttpTransport({ userAgent: UA, extraCaPem: pb.caPem });
  return AcmeClient.connect(pb.directoryUrl, { transport, ...opts });
}

async function withHttpServer<T>(handler: http.RequestListener, fn: (url: string) => Promise<T>): Promise<T> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/dir`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function problemType(e: unknown): string {
  assert.ok(e instanceof AcmeProblemError, `expected AcmeProblemError, got ${String(e)}`);
  return e.type;
}

/** A solver that records its calls; `serve` decides what the http-01 listener on Pebble's port answers. */
class TestSolver implements Solver {
  readonly calls: string[] = [];
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly type: string,
    private readonly port: number,
    private readonly mode: 'wrong' | 'hang' | 'none',
  ) {}
  async start(): Promise<void> {
    this.calls.push('start');
    if (this.mode === 'none') return;
    const server =
      this.mode === 'wrong'
        ? http.createServer((_req, res) => res.end('not-the-key-authorization'))
        : net.createServer((s) => s.resume());
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise((resolve) => this.server!.close(resolve));
  }
  async prepare(ctx: ChallengeContext): Promise<void> {
    this.calls.push(`prepare ${ctx.identifier.value}`);
  }
  async cleanup(ctx: ChallengeContext): Promise<void> {
    this.calls.push(`cleanup ${ctx.identifier.value}`);
  }
}

describe('AcmeClient against Pebble', () => {
  let pb: Pebble;
  before(async () => {
    pb = await startPebble();
  });
  after(async () => {
    await pb?.stop();
  });

  it('reads and checks the directory', async () => {
    const c = await connect(pb);
    for (const f of ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange'] as const) {
      assert.match(c.directory[f], /^https:\/\/127\.0\.0\.1:\d+\//);
    }
    assert.equal(c.directoryUrl, pb.directoryUrl);
    assert.ok(c.directory.meta?.profiles?.default, 'Pebble lists profiles');
    assert.equal(c.requestCount, 1);
  });

  it('refuses what is not an ACME directory', async () => {
    const transport = new HttpTransport({ userAgent: UA });
    await withHttpServer((_q, s) => s.end('<html>hello</html>'), async (url) => {
      await assert.rejects(AcmeClient.connect(url, { transport }), {
        name: 'TransportError',
        message: `${url} is not an ACME directory (response is not JSON)`,
      });
    });
    await withHttpServer((_q, s) => s.end(JSON.stringify({ newNonce: 'https://x/n', newOrder: 'https://x/o' })), async (url) => {
      await assert.rejects(AcmeClient.connect(url, { transport }), {
        message: `${url} is not an ACME directory (missing newAccount, revokeCert, keyChange)`,
      });
    });
    await withHttpServer((_q, s) => { s.statusCode = 404; s.end('nope'); }, async (url) => {
      await assert.rejects(AcmeClient.connect(url, { transport }), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.message, `GET ${url}: HTTP 404`);
        assert.equal(e.status, 404);
        return true;
      });
    });
    transport.close();
  });

  it('creates an account (201), finds it again with the same key (200), updates and reads it', async () => {
    const c = await connect(pb);
    const key = await PrivateKey.generate('ec:P-256');
    const first = await c.newAccount(key, { termsOfServiceAgreed: true, contact: ['mailto:a@example.com'] });
    assert.equal(first.created, true);
    assert.match(first.url, /\/my-account\//);
    assert.equal(first.account.status, 'valid');
    assert.equal(c.accountUrl, first.url);

    const c2 = await connect(pb);
    const again = await c2.newAccount(key, { termsOfServiceAgreed: true });
    assert.equal(again.created, false);
    assert.equal(again.url, first.url);
    const existing = await c2.newAccount(key, { onlyReturnExisting: true });
    assert.equal(existing.url, first.url);

    const updated = await c.updateAccount(['mailto:b@example.com', 'mailto:c@example.com']);
    assert.deepEqual(updated.contact, ['mailto:b@example.com', 'mailto:c@example.com']);
    const read = await c.getAccount();
    assert.equal(read.status, 'valid');
    assert.deepEqual(read.contact, ['mailto:b@example.com', 'mailto:c@example.com']);
  });

  it('onlyReturnExisting with an unknown key → accountDoesNotExist', async () => {
    const c = await connect(pb);
    const key = await PrivateKey.generate('ec:P-256');
    await assert.rejects(c.newAccount(key, { onlyReturnExisting: true }), (e: unknown) => {
      assert.equal(problemType(e), 'urn:ietf:params:acme:error:accountDoesNotExist');
      assert.match((e as Error).message, /^ACME error urn:ietf:params:acme:error:accountDoesNotExist: /);
      return true;
    });
  });

  it('works with RSA and P-521 account keys too (Pebble has no EdDSA)', async () => {
    for (const t of ['rsa:2048', 'ec:P-521'] as const) {
      const c = await connect(pb);
      const key = await PrivateKey.generate(t);
      const r = await c.newAccount(key, { termsOfServiceAgreed: true });
      assert.equal(r.created, true, t);
      assert.equal((await c.getAccount()).status, 'valid');
    }
  });

  it('changes the account key: the old key is refused, the new one works', async () => {
    const c = await connect(pb);
    const oldKey = await PrivateKey.generate('ec:P-256');
    const newKey = await PrivateKey.generate('ec:P-384');
    const { url } = await c.newAccount(oldKey, { termsOfServiceAgreed: true });
    await c.changeKey(newKey);
    assert.equal(c.accountKey, newKey);
    assert.equal((await c.getAccount()).status, 'valid', 'the client signs with the new key');

    const viaNew = await connect(pb);
    assert.equal((await viaNew.newAccount(newKey, { onlyReturnExisting: true })).url, url);

    const viaOld = await connect(pb);
    await assert.rejects(viaOld.newAccount(oldKey, { onlyReturnExisting: true }), (e: unknown) => {
      assert.equal(problemType(e), 'urn:ietf:params:acme:error:accountDoesNotExist');
      return true;
    });
    viaOld.login(oldKey, url);
    await assert.rejects(viaOld.getAccount(), (e: unknown) => {
      assert.ok(e instanceof AcmeProblemError);
      return true;
    });
  });

  it('deactivates an account; later requests are refused', async () => {
    const c = await connect(pb);
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const acct = await c.deactivateAccount();
    assert.equal(acct.status, 'deactivated');
    await assert.rejects(c.newOrder({ identifiers: [{ type: 'dns', value: 'after.example.com' }] }), (e: unknown) => {
      assert.equal(problemType(e), 'urn:ietf:params:acme:error:unauthorized');
      return true;
    });
  });

  it('issues a certificate with http-01 in ≤ 2N + 8 requests, then revokes it with the account key', async () => {
    const c = await connect(pb);
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const names = ['one.example.com', 'two.example.com'];
    const certKey = await PrivateKey.generate('ec:P-256');
    const solver = new Http01Solver({ port: pb.httpPort, host: '127.0.0.1' });
    const seen: string[] = [];
    let csrCalls = 0;
    const before = c.requestCount;
    const { order, chainPem } = await issueCertificate(c, {
      identifiers: names.map((value) => ({ type: 'dns', value })),
      solvers: [solver],
      csr: async () => {
        csrCalls++;
        return buildCsr({ key: certKey, identifiers: normalizeIdentifiers(names) });
      },
      pollTimeoutMs: 30_000,
      events: { onAuthorization: (a) => seen.push(authorizationName(a)) },
    });
    const used = c.requestCount - before;
    assert.equal(order.status, 'valid');
    assert.equal(csrCalls, 1);
    assert.deepEqual(seen.sort(), names);
    assert.ok(used <= 2 * names.length + 6, `${used} requests after newAccount`);
    assert.equal(solver.port, undefined, 'the http-01 listener is stopped');

    const certs = splitPemCertificates(chainPem);
    assert.ok(certs.length >= 2, 'leaf + intermediate');
    const leaf = new X509Certificate(certs[0]!);
    assert.match(leaf.subjectAltName ?? '', /DNS:one\.example\.com/);
    assert.match(leaf.subjectAltName ?? '', /DNS:two\.example\.com/);
    assert.ok(leaf.checkPrivateKey(createPrivateKey(certKey.toPem())));

    // The authorizations are valid now: pollAuthorization returns at once.
    const authz = await c.pollAuthorization(order.authorizations[0]!, Date.now() + 5_000);
    assert.equal(authz.status, 'valid');

    assert.equal((await pb.certStatus(leaf.serialNumber)).Status, 'Valid');
    await c.revoke(certs[0]!, { reason: 4 });
    assert.equal((await pb.certStatus(leaf.serialNumber)).Status, 'Revoked');
    await assert.rejects(c.revoke(certs[0]!), (e: unknown) => {
      assert.equal(problemType(e), 'urn:ietf:params:acme:error:alreadyRevoked');
      return true;
    });
  });

  it('revokes with the certificate key (jwk) and no account', async () => {
    const c = await connect(pb);
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const certKey = await PrivateKey.generate('rsa:2048');
    const names = ['self-revoke.example.com'];
    const { chainPem } = await issueCertificate(c, {
      identifiers: [{ type: 'dns', value: names[0]! }],
      solvers: [new Http01Solver({ port: pb.httpPort, host: '127.0.0.1' })],
      csr: () => buildCsr({ key: certKey, identifiers: normalizeIdentifiers(names) }),
      pollTimeoutMs: 30_000,
    });
    const der = splitPemCertificates(chainPem)[0]!;
    const serial = new X509Certificate(der).serialNumber;
    const anonymous = await connect(pb); // no account at all
    await anonymous.revoke(der, { certKey, reason: 1 });
    assert.equal((await pb.certStatus(serial)).Status, 'Revoked');
  });

  it('reports a failed validation with the challenge error, and cleans up', async () => {
    const c = await connect(pb);
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const solver = new TestSolver('http-01', pb.httpPort, 'wrong');
    let csrCalled = false;
    await assert.rejects(
      issueCertificate(c, {
        identifiers: [{ type: 'dns', value: 'wrong.example.com' }],
        solvers: [solver],
        csr: async () => {
          csrCalled = true;
          return Buffer.alloc(0);
        },
        pollTimeoutMs: 30_000,
      }),
      (e: unknown) => {
        assert.ok(e instanceof AuthorizationFailedError, String(e));
        assert.equal(e.identifier, 'wrong.example.com');
        assert.match(e.message, /^authorization for wrong\.example\.com failed: ACME error urn:ietf:params:acme:error:\w+: .+/);
        return true;
      },
    );
    assert.equal(csrCalled, false);
    assert.deepEqual(solver.calls, ['start', 'prepare wrong.example.com', 'cleanup wrong.example.com', 'stop']);
  });

  it('says which challenge types the server offers when the solver type is not among them', async () => {
    const c = await connect(pb);
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const solver = new TestSolver('carrier-pigeon-01', pb.httpPort, 'none');
    await assert.rejects(
      issueCertificate(c, {
        identifiers: [{ type: 'dns', value: 'pigeon.example.com' }],
        solvers: [solver],
        csr: async () => Buffer.alloc(0),
        pollTimeoutMs: 5_000,
      }),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, /^the server offers no carrier-pigeon-01 challenge for pigeon\.example\.com \(offered: .*http-01.*\)$/);
        assert.match(e.message, /dns-01/);
        return true;
      },
    );
    assert.deepEqual(solver.calls, [], 'nothing started before the challenge was known');
  });

  it('times out waiting for validation and names the authorization', async () => {
    const c = await connect(pb);
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const solver = new TestSolver('http-01', pb.httpPort, 'hang');
    const started = Date.now();
    await assert.rejects(
      issueCertificate(c, {
        identifiers: [{ type: 'dns', value: 'slow.example.com' }],
        solvers: [solver],
        csr: async () => Buffer.alloc(0),
        pollTimeoutMs: 2_000,
      }),
      (e: unknown) => {
        assert.ok(e instanceof PollTimeoutError, String(e));
        assert.equal(e.message, 'timed out after 2 s waiting for authorization slow.example.com');
        return true;
      },
    );
    assert.ok(Date.now() - started < 6_000);
    assert.deepEqual(solver.calls.slice(-2), ['cleanup slow.example.com', 'stop']);
  });

  it('downloads the chain as PEM with checkPemChain, and the order can be read back', async () => {
    const c = await connect(pb);
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const certKey = await PrivateKey.generate('ec:P-384');
    const { order } = await issueCertificate(c, {
      identifiers: [{ type: 'dns', value: 'p384.example.com' }],
      solvers: [new Http01Solver({ port: pb.httpPort, host: '127.0.0.1' })],
      csr: () => buildCsr({ key: certKey, identifiers: normalizeIdentifiers(['p384.example.com']) }),
      pollTimeoutMs: 30_000,
      profile: 'shortlived',
    });
    const again = await c.getOrder(order.url);
    assert.equal(again.status, 'valid');
    assert.equal(again.url, order.url);
    const pem = await c.downloadCertificate(again.certificate!);
    assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
  });
});

/** Real Pebble behind a fault injector: answers chosen requests itself, forwards the rest. */
class FaultTransport implements Transport {
  readonly inner: HttpTransport;
  readonly seen: string[] = [];
  constructor(
    pb: Pebble,
    private readonly inject: (req: HttpRequest) => HttpResponse | undefined,
  ) {
    this.inner = new HttpTransport({ userAgent: UA, extraCaPem: pb.caPem });
  }
  async request(req: HttpRequest): Promise<HttpResponse> {
    const fake = this.inject(req);
    this.seen.push(`${req.method} ${new URL(req.url).pathname.split('/')[1]}${fake ? ` -> ${fake.status}` : ''}`);
    return fake ?? this.inner.request(req);
  }
}

function isPostAsGet(req: HttpRequest): boolean {
  return req.method === 'POST' && JSON.parse(String(req.body)).payload === '';
}

describe('waiting on the server: Retry-After, 503 and rate limits', () => {
  let pb: Pebble;
  before(async () => {
    pb = await startPebble({ retryAfter: { authz: 3, order: 4 } });
  });
  after(async () => {
    await pb?.stop();
  });

  it('honours Retry-After on an order that is processing', async () => {
    const waits: number[] = [];
    const c = await connect(pb, { sleep: async (ms) => void waits.push(ms) });
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const certKey = await PrivateKey.generate('ec:P-256');
    await issueCertificate(c, {
      identifiers: [{ type: 'dns', value: 'processing.example.com' }],
      solvers: [new Http01Solver({ port: pb.httpPort, host: '127.0.0.1' })],
      csr: () => buildCsr({ key: certKey, identifiers: normalizeIdentifiers(['processing.example.com']) }),
      pollTimeoutMs: 30_000,
    });
    // Pebble's Retry-After is 4 s (as delta-seconds or an HTTP-date, whole seconds): far above the
    // 20–50 ms backoff that would be used without it.
    assert.ok(waits.some((w) => w >= 2_900 && w <= 4_000), `waits: ${waits.join(', ')}`);
  });

  it('re-signs and retries a POST-as-GET answered 503 with a fresh nonce', async () => {
    let injected = 0;
    const t = new FaultTransport(pb, (req) => {
      if (injected === 0 && isPostAsGet(req) && req.url.includes('/authZ/')) {
        injected++;
        return { status: 503, headers: { 'retry-after': '2' }, body: Buffer.from('busy') };
      }
      return undefined;
    });
    const waits: number[] = [];
    const c = await AcmeClient.connect(pb.directoryUrl, { transport: t, sleep: async (ms) => void waits.push(ms) });
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const order = await c.newOrder({ identifiers: [{ type: 'dns', value: 'busy.example.com' }] });
    const authz = await c.getAuthorization(order.authorizations[0]!);
    assert.equal(authz.status, 'pending');
    assert.equal(injected, 1);
    assert.deepEqual(waits, [2000]);
    assert.deepEqual(t.seen.slice(-3), ['POST authZ -> 503', 'HEAD nonce-plz', 'POST authZ']);
    t.inner.close();
  });

  it('does not retry a non-idempotent POST; a rate limit says when it lifts', async () => {
    const t = new FaultTransport(pb, (req) =>
      req.url.endsWith('/order-plz')
        ? {
            status: 429,
            headers: { 'retry-after': '3600', 'content-type': 'application/problem+json', 'replay-nonce': 'abcDEF_-123' },
            body: Buffer.from(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders', status: 429 })),
          }
        : undefined,
    );
    const c = await AcmeClient.connect(pb.directoryUrl, { transport: t });
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const before = Date.now();
    await assert.rejects(c.newOrder({ identifiers: [{ type: 'dns', value: 'limited.example.com' }] }), (e: unknown) => {
      assert.ok(e instanceof AcmeProblemError);
      assert.ok(e.is('rateLimited'));
      const m = /^ACME error urn:ietf:params:acme:error:rateLimited: too many new orders \(retry after (\S+)\)$/.exec(e.message);
      assert.ok(m, e.message);
      const lifts = Date.parse(m[1]!);
      assert.ok(Math.abs(lifts - (before + 3_600_000)) < 5_000);
      return true;
    });
    assert.equal(t.seen.filter((s) => s.startsWith('POST order-plz')).length, 1);
    t.inner.close();
  });
});

describe('badNonce resilience (Pebble rejecting 50 % of nonces)', () => {
  let pb: Pebble;
  before(async () => {
    pb = await startPebble({ nonceReject: 50 });
  });
  after(async () => {
    await pb?.stop();
  });

  it('20 signed requests all succeed when re-signing with the error nonce', async () => {
    const c = await connect(pb, { maxNonceAttempts: 30 });
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
    const before = c.requestCount;
    for (let i = 0; i < 20; i++) assert.equal((await c.getAccount()).status, 'valid');
    const posts = c.requestCount - before;
    assert.ok(posts > 20, `badNonce retries happened (${posts} POSTs for 20 requests)`);
    assert.ok(posts < 20 * 4, `${posts} POSTs`);
  });

  it('gives up after maxNonceAttempts (here 5) and reports badNonce', async () => {
    const c = await connect(pb, { maxNonceAttempts: 5 });
    await c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true }).catch(async () =>
      c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true }),
    );
    let ok = 0;
    for (let i = 0; i < 20; i++) {
      const before = c.requestCount;
      try {
        await c.getAccount();
        ok++;
        assert.ok(c.requestCount - before <= 5);
      } catch (e) {
        assert.equal(problemType(e), 'urn:ietf:params:acme:error:badNonce');
        assert.equal(c.requestCount - before, 5, 'exactly 5 attempts');
      }
    }
    assert.ok(ok >= 14, `${ok} of 20 succeeded`);
  });
});

describe('External Account Binding (Pebble requiring it)', () => {
  const hmac = Buffer.from('zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W', 'base64url');
  let pb: Pebble;
  before(async () => {
    pb = await startPebble({ eabKeys: { 'kid-1': b64u(hmac) } });
  });
  after(async () => {
    await pb?.stop();
  });

  it('announces it in the directory', async () => {
    const c = await connect(pb);
    assert.equal(c.directory.meta?.externalAccountRequired, true);
  });

  it('refuses an account without EAB', async () => {
    const c = await connect(pb);
    await assert.rejects(c.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true }), (e: unknown) => {
      assert.equal(problemType(e), 'urn:ietf:params:acme:error:externalAccountRequired');
      return true;
    });
  });

  it('refuses a wrong HMAC key and an unknown kid', async () => {
    const c = await connect(pb);
    const key = await PrivateKey.generate('ec:P-256');
    await assert.rejects(
      c.newAccount(key, { termsOfServiceAgreed: true, eab: { kid: 'kid-1', hmacKey: Buffer.alloc(32, 7), alg: 'HS256' } }),
      AcmeProblemError,
    );
    await assert.rejects(
      c.newAccount(key, { termsOfServiceAgreed: true, eab: { kid: 'kid-404', hmacKey: hmac, alg: 'HS256' } }),
      AcmeProblemError,
    );
  });

  it('creates the account with the right key', async () => {
    const c = await connect(pb);
    const r = await c.newAccount(await PrivateKey.generate('ec:P-256'), {
      termsOfServiceAgreed: true,
      eab: { kid: 'kid-1', hmacKey: hmac, alg: 'HS256' },
    });
    assert.equal(r.created, true);
    assert.equal(r.account.status, 'valid');
    assert.ok(r.account.externalAccountBinding, 'the verified binding is echoed');
  });
});

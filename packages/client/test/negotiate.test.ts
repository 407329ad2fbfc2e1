/**
 * negotiateRequest (HTTP Negotiate / SPNEGO from a keytab) against a real MIT KDC on loopback and
 * the test kit's acceptor (the real binding on the server side), over TCP and over a Unix socket.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { acceptNegotiate, kerberosSkip, startKdc, tempDir, type Kdc } from '@akamu/testkit';
import { AkamuError } from '../src/errors.js';
import { setKerberosLoader } from '../src/kerberos/binding.js';
import { negotiateRequest, negotiateToken, serviceForUrl } from '../src/kerberos/negotiate.js';
import { HttpTransport } from '../src/transport/http.js';
import type { HttpResponse } from '../src/transport/types.js';
import { captureLogger } from './helpers/transport.js';

const skip = kerberosSkip();

describe('negotiateRequest (SPNEGO against a real KDC)', { skip }, () => {
  let kdc: Kdc;
  let clientKeytab: string;
  const dir = tempDir('akamu-negotiate-');
  const transport = new HttpTransport({ userAgent: 'akamu-test' });
  const servers: http.Server[] = [];
  const seen: { principal?: string; authorization?: string }[] = [];

  /** A server: the acceptor in front of a JSON answer naming the principal, or `handler` alone. */
  async function serve(listen: number | string, handler?: http.RequestListener): Promise<string> {
    const server = http.createServer(handler ?? (async (req, res) => {
      const principal = await acceptNegotiate(req, res, { keytab: kdc.serviceKeytab });
      seen.push({ principal, authorization: req.headers.authorization });
      if (principal === undefined) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ principal }));
    }));
    servers.push(server);
    await new Promise<void>((resolve) => (typeof listen === 'string' ? server.listen(listen, resolve) : server.listen(listen, '127.0.0.1', resolve)));
    if (typeof listen === 'string') return `http+unix://${encodeURIComponent(listen)}/acme/eab`;
    const { port } = server.address() as { port: number };
    return `http://127.0.0.1:${port}/acme/eab`;
  }

  before(async () => {
    kdc = await startKdc({ principals: ['acmeclient', 'ghost', 'stale'] });
    process.env.KRB5_CONFIG = kdc.krb5Config;
    clientKeytab = await kdc.keytab('acmeclient');
  });
  after(async () => {
    for (const s of servers) s.close();
    await kdc?.stop();
  });

  it('authenticates, verifies the server\'s token and logs the principal, never a token', async () => {
    const url = await serve(0);
    const { log, lines } = captureLogger();
    const res = await negotiateRequest(transport, { method: 'GET', url }, { keytab: clientKeytab, logger: log });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { principal: 'acmeclient@ACME.TEST' });
    const sent = seen.at(-1)!.authorization!;
    assert.match(sent, /^Negotiate [A-Za-z0-9+/]+=*$/);
    const tokens = [sent.slice('Negotiate '.length), negotiateToken(res)!];
    assert.ok(tokens[1]!.length > 20, 'the server sent its mutual-authentication token');
    assert.ok(lines.some((l) => l.includes('authenticated to HTTP@127.0.0.1 as acmeclient@ACME.TEST')), lines.join('\n'));
    for (const t of tokens) assert.ok(!lines.join('\n').includes(t.slice(0, 40)), 'no token in the log');
  });

  it('uses HTTP@<local hostname> for an http+unix URL', async () => {
    const url = await serve(join(dir, 'eab.sock'));
    assert.equal(serviceForUrl(url), `HTTP@${hostname()}`);
    const res = await negotiateRequest(transport, { method: 'GET', url }, { keytab: clientKeytab });
    assert.deepEqual(JSON.parse(res.body.toString()), { principal: 'acmeclient@ACME.TEST' });
  });

  it('a missing or foreign keytab fails before anything is sent', async () => {
    const url = await serve(0);
    const before = seen.length;
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: join(dir, 'nope.keytab') }),
      (e: AkamuError) => e.code === 'kerberos' && /^cannot read the keytab .*nope\.keytab: no such file$/.test(e.message));
    const notKeytab = join(dir, 'text.keytab');
    writeFileSync(notKeytab, 'hello');
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: notKeytab }), /text\.keytab is not a Kerberos keytab$/);
    const fifo = join(dir, 'fifo.keytab');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: fifo }), /^KerberosError: cannot read the keytab .*fifo\.keytab: not a regular file$/);
    assert.equal(seen.length, before);
  });

  it('an unknown principal and stale keys each give one clear line', async () => {
    const url = await serve(0);
    const ghost = await kdc.keytab('ghost');
    await kdc.removePrincipal('ghost');
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: ghost }), (e: Error) => {
      assert.equal(e.message, `Kerberos authentication to HTTP@127.0.0.1 failed: the KDC does not know the principal ghost@ACME.TEST of the keytab ${ghost} (wrong keytab, or the principal was removed)`);
      return true;
    });
    const stale = await kdc.keytab('stale');
    await kdc.rekey('stale');
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: stale }),
      /^KerberosError: Kerberos authentication to HTTP@127\.0\.0\.1 failed: the KDC rejected the keys in the keytab .*: they are outdated or not this principal's \(wrong keytab\)$/);
  });

  it('a service principal the KDC does not know is named', async () => {
    const url = await serve(0);
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: clientKeytab, servicePrincipal: 'HTTP@nowhere.acme.test' }),
      /failed: the KDC has no service principal for HTTP@nowhere\.acme\.test \(HTTP\/nowhere\.acme\.test@ACME\.TEST not found in its database\)$/);
  });

  it('refusal by the server, and answers without a valid mutual-authentication token, fail', async () => {
    const refusing = await serve(0, (req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate', 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:unauthorized', detail: 'principal not allowed' }));
    });
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url: refusing }, { keytab: clientKeytab }),
      /refused the Kerberos authentication of the keytab's principal \(HTTP 401\): principal not allowed$/);
    const silent = await serve(0, (req, res) => res.end('{}'));
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url: silent }, { keytab: clientKeytab }),
      /answered without proving its identity \(no Negotiate token: mutual authentication failed\)$/);
    const forged = await serve(0, (req, res) => {
      res.writeHead(200, { 'www-authenticate': `Negotiate ${Buffer.from('not a GSS token at all').toString('base64')}` });
      res.end('{}');
    });
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url: forged }, { keytab: clientKeytab }),
      (e: AkamuError) => e.code === 'kerberos' && /: the server's Kerberos token does not verify \(mutual authentication failed: .+\)$/.test(e.message));
  });

  it('reads Negotiate challenges among others', () => {
    const res = (v: string | string[]): HttpResponse => ({ status: 401, headers: { 'www-authenticate': v }, body: Buffer.alloc(0) });
    assert.equal(negotiateToken(res('Basic realm="x", Negotiate abc+/=')), 'abc+/=');
    assert.equal(negotiateToken(res(['Basic realm="x"', 'negotiate'])), '');
    assert.equal(negotiateToken(res('Basic realm="x"')), undefined);
  });

  it('without the binding: kerberos-unavailable with the install hint, nothing sent', async () => {
    const url = await serve(0);
    const before = seen.length;
    setKerberosLoader(() => Promise.reject(Object.assign(new Error("Cannot find package 'kerberos' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' })));
    try {
      await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: clientKeytab }), (e: AkamuError) => {
        assert.equal(e.code, 'kerberos-unavailable');
        assert.deepEqual(e.hint, { code: 'kerberos-binding' });
        assert.equal(e.message, 'Kerberos (GSSAPI) support is not available: the optional package `kerberos` is not installed');
        return true;
      });
    } finally {
      setKerberosLoader(undefined);
    }
    assert.equal(seen.length, before);
    // and it loads again afterwards
    await negotiateRequest(transport, { method: 'GET', url }, { keytab: clientKeytab });
  });

  it('an unreachable KDC is said so (runs last: stops the KDC)', async () => {
    const url = await serve(0);
    await kdc.stop();
    await assert.rejects(negotiateRequest(transport, { method: 'GET', url }, { keytab: clientKeytab }),
      /failed: cannot reach a KDC for realm ACME\.TEST \(is the KDC running, and does krb5\.conf name it\?\)$/);
  });
});

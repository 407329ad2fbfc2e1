import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request, type Agent } from 'node:http';
import * as http from 'node:http';
import { connect as netConnect, createServer as netCreateServer, Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Authorization, Challenge, Identifier } from '../src/acme/types.js';
import type { Solver } from '../src/challenges/types.js';
import { Dns01Solver, dns01RecordName } from '../src/challenges/dns01.js';
import { HookDnsPublisher } from '../src/challenges/hook.js';
import { Http01Solver } from '../src/challenges/http01.js';
import { listen, reverseDnsName } from '../src/challenges/common.js';
import { ManualDnsPublisher } from '../src/challenges/manual.js';
import { peekClientHello } from '../src/challenges/clientHello.js';
import { TlsAlpn01Solver } from '../src/challenges/tlsAlpn01.js';
import { type ChallengeContext, type DnsPublisher, type DnsRecord } from '../src/challenges/types.js';
import { AcmeClient } from '../src/acme/client.js';
import { issueCertificate } from '../src/acme/issue.js';
import { ChallengeError, UsageError } from '../src/errors.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { PrivateKey } from '../src/keys/index.js';
import { HttpTransport } from '../src/transport/http.js';
import { buildCsr } from '../src/x509/csr.js';
import { startPebble, type Pebble } from '../../testkit/src/index.js';
import { dns01TxtValue } from '../src/jose/challenge.js';
import type { Logger } from '../src/log.js';
import { acmeIdentifierExtensionDer } from '../src/x509/tlsAlpn.js';
import { fakeDirectory } from './helpers/fake-directory.js';

const THUMB = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

function ctxFor(type: string, identifier: Identifier, token: string): ChallengeContext {
  const challenge: Challenge = { type, url: `https://ca.test/chall/${token}`, status: 'pending', token };
  const authorization: Authorization = {
    url: `https://ca.test/authz/${token}`,
    status: 'pending',
    identifier,
    challenges: [challenge],
  };
  return {
    authorization,
    challenge,
    identifier,
    keyAuthorization: `${token}.${THUMB}`,
    accountUrl: 'https://ca.test/acct/1',
    thumbprint: THUMB,
    directory: fakeDirectory(),
  };
}

interface Captured {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}
function captureLogger(): Logger & { lines: Captured[] } {
  const lines: Captured[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, fields });
    };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
}

function httpCall(
  port: number,
  path: string,
  method = 'GET',
  agent: Agent | false = false,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent, headers: { host: 'example.com' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function connectRefused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

async function occupiedPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = netCreateServer();
  await new Promise<void>((r) => srv.listen(0, r));
  const addr = srv.address();
  assert.ok(addr && typeof addr === 'object');
  return { port: addr.port, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

describe('Http01Solver', () => {
  const log = captureLogger();
  const solver = new Http01Solver({ port: 0, log });
  const ctx = ctxFor('http-01', { type: 'dns', value: 'example.com' }, 'tok_A-1');
  let port = 0;

  before(async () => {
    await solver.start();
    port = solver.port ?? 0;
    assert.ok(port > 0);
    await solver.prepare(ctx);
  });
  after(() => solver.stop());

  it('serves the key authorization for a known token', async () => {
    const r = await httpCall(port, '/.well-known/acme-challenge/tok_A-1');
    assert.equal(r.status, 200);
    assert.equal(r.body, `tok_A-1.${THUMB}`);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const debug = log.lines.find((l) => l.msg === 'http-01 validation request' && l.fields?.token === 'tok_A-1');
    assert.ok(debug, 'validation request logged at debug');
    assert.equal(debug.level, 'debug');
    assert.ok(String(debug.fields?.remote).includes('127.0.0.1'));
  });

  it('answers HEAD with 200 and no body', async () => {
    const r = await httpCall(port, '/.well-known/acme-challenge/tok_A-1', 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.equal(r.headers['content-length'], String(`tok_A-1.${THUMB}`.length));
  });

  it('ignores a query string', async () => {
    const r = await httpCall(port, '/.well-known/acme-challenge/tok_A-1?x=1');
    assert.equal(r.status, 200);
    assert.equal(r.body, `tok_A-1.${THUMB}`);
  });

  it('refuses other methods on a known token', async () => {
    const r = await httpCall(port, '/.well-known/acme-challenge/tok_A-1', 'POST');
    assert.equal(r.status, 405);
  });

  it('gives 404 for unknown tokens and other paths', async () => {
    assert.equal((await httpCall(port, '/.well-known/acme-challenge/unknown')).status, 404);
    assert.equal((await httpCall(port, '/.well-known/acme-challenge/')).status, 404);
    assert.equal((await httpCall(port, '/.well-known/acme-challenge/tok_A-1/x')).status, 404);
    assert.equal((await httpCall(port, '/')).status, 404);
    assert.equal((await httpCall(port, '/tok_A-1')).status, 404);
    const r = await httpCall(port, '/.well-known/acme-challenge/unknown');
    assert.equal(r.body, '');
  });

  it('gives 404 after cleanup', async () => {
    const other = ctxFor('http-01', { type: 'dns', value: 'b.example.com' }, 'tok_B');
    await solver.prepare(other);
    assert.equal((await httpCall(port, '/.well-known/acme-challenge/tok_B')).status, 200);
    await solver.cleanup(other);
    assert.equal((await httpCall(port, '/.well-known/acme-challenge/tok_B')).status, 404);
    // the other token is unaffected
    assert.equal((await httpCall(port, '/.well-known/acme-challenge/tok_A-1')).status, 200);
  });

  it('refuses wildcard identifiers, listing all of them', () => {
    assert.throws(
      () =>
        solver.check([
          { type: 'dns', value: '*.a' },
          { type: 'dns', value: 'example.com' },
          { type: 'dns', value: '*.b' },
        ]),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === 'http-01 cannot validate wildcard identifiers: *.a, *.b' && e.hint?.code === 'wildcard-needs-dns',
    );
    solver.check([{ type: 'dns', value: 'example.com' }, { type: 'ip', value: '192.0.2.1' }]);
  });
});

describe('Http01Solver lifecycle', () => {
  it('stop() closes the port promptly, also with an open keep-alive connection', async () => {
    const solver = new Http01Solver({ port: 0, host: '127.0.0.1' });
    const ctx = ctxFor('http-01', { type: 'dns', value: 'example.com' }, 'tokK');
    await solver.prepare(ctx); // prepare starts the listener when start() was not called
    const port = solver.port ?? 0;
    const agent = new http.Agent({ keepAlive: true });
    try {
      const r = await httpCall(port, '/.well-known/acme-challenge/tokK', 'GET', agent);
      assert.equal(r.status, 200);
      const t0 = Date.now();
      await solver.stop();
      assert.ok(Date.now() - t0 < 1000, `stop took ${Date.now() - t0} ms`);
      assert.equal(solver.port, undefined);
      assert.equal(await connectRefused(port), 'ECONNREFUSED');
      await solver.stop(); // idempotent
    } finally {
      agent.destroy();
    }
  });

  it('a bind conflict is a ChallengeError naming the port', async () => {
    const busy = await occupiedPort();
    try {
      const solver = new Http01Solver({ port: busy.port });
      await assert.rejects(solver.start(), (e: unknown) => {
        assert.ok(e instanceof ChallengeError);
        assert.equal(e.message, `Failed to bind port ${busy.port}: Address already in use`);
        assert.equal(e.hint?.code, 'port-in-use');
        return true;
      });
      await solver.stop();
    } finally {
      await busy.close();
    }
  });

  it('EACCES gets the privileged-port hint', async () => {
    class Refusing extends NetServer {
      override listen(): this {
        const err = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
        process.nextTick(() => this.emit('error', err));
        return this;
      }
    }
    await assert.rejects(
      listen(new Refusing(), { type: 'http-01', standardPort: 80, port: 80 }),
      (e: unknown) =>
        e instanceof ChallengeError &&
        e.message === 'Failed to bind port 80: Permission denied' &&
        e.hint?.code === 'bind-permission' && e.hint.port === 80 && e.hint.standardPort === 80 && e.hint.challenge === 'http-01',
    );
  });
});

interface TlsResult {
  alpn: string | false | null;
  cert?: X509Certificate;
  closedByServer: boolean;
}

function tlsProbe(port: number, servername: string | undefined, alpn: string[] | undefined): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const sock: TLSSocket = tlsConnect({
      host: '127.0.0.1',
      port,
      ...(servername !== undefined ? { servername } : {}),
      ...(alpn ? { ALPNProtocols: alpn } : {}),
      rejectUnauthorized: false,
    });
    let result: TlsResult | undefined;
    sock.on('secureConnect', () => {
      const peer = sock.getPeerX509Certificate();
      result = { alpn: sock.alpnProtocol, cert: peer, closedByServer: false };
    });
    sock.on('error', (e) => {
      if (result) result.closedByServer = true;
      else reject(e);
    });
    sock.on('close', () => {
      if (result) {
        result.closedByServer = true;
        resolve(result);
      } else reject(new Error('closed before handshake'));
    });
    sock.on('data', () => undefined);
    setTimeout(() => {
      sock.destroy();
      if (result) resolve(result);
      else reject(new Error('timeout'));
    }, 3000).unref();
  });
}

describe('TlsAlpn01Solver', () => {
  const log = captureLogger();
  const solver = new TlsAlpn01Solver({ port: 0, host: '127.0.0.1', log });
  const dnsCtx = ctxFor('tls-alpn-01', { type: 'dns', value: 'Example.com' }, 'tokTls1');
  const ipCtx = ctxFor('tls-alpn-01', { type: 'ip', value: '192.0.2.1' }, 'tokTls2');
  const ip6Ctx = ctxFor('tls-alpn-01', { type: 'ip', value: '2001:db8::1' }, 'tokTls3');
  let port = 0;

  before(async () => {
    await solver.start();
    port = solver.port ?? 0;
    await Promise.all([solver.prepare(dnsCtx), solver.prepare(ipCtx), solver.prepare(ip6Ctx)]);
  });
  after(() => solver.stop());

  it('negotiates acme-tls/1 and serves the RFC 8737 certificate for the SNI name', async () => {
    const r = await tlsProbe(port, 'example.COM', ['acme-tls/1']);
    assert.equal(r.alpn, 'acme-tls/1');
    assert.ok(r.cert);
    assert.equal(r.cert.subjectAltName, 'DNS:example.com');
    const ext = await acmeIdentifierExtensionDer(dnsCtx.keyAuthorization);
    assert.equal(ext.length, 51);
    assert.ok(r.cert.raw.includes(ext), 'certificate carries the critical acmeIdentifier extension');
    assert.ok(r.closedByServer, 'server closes the connection after the handshake');
  });

  it('offered among other protocols, acme-tls/1 is still chosen', async () => {
    const r = await tlsProbe(port, 'example.com', ['http/1.1', 'acme-tls/1']);
    assert.equal(r.alpn, 'acme-tls/1');
  });

  it('matches IP identifiers by their reverse-DNS SNI name (with or without trailing dot)', async () => {
    const ext = await acmeIdentifierExtensionDer(ipCtx.keyAuthorization);
    for (const sni of ['1.2.0.192.in-addr.arpa', '1.2.0.192.in-addr.arpa.']) {
      const r = await tlsProbe(port, sni, ['acme-tls/1']);
      assert.equal(r.alpn, 'acme-tls/1');
      assert.equal(r.cert?.subjectAltName, 'IP Address:192.0.2.1');
      assert.ok(r.cert?.raw.includes(ext));
    }
    const r6 = await tlsProbe(port, reverseDnsName('2001:db8::1'), ['acme-tls/1']);
    assert.equal(r6.cert?.subjectAltName, 'IP Address:2001:DB8:0:0:0:0:0:1');
  });

  it('fails the handshake without acme-tls/1 (other protocols, or no ALPN at all)', async () => {
    await assert.rejects(tlsProbe(port, 'example.com', ['http/1.1']), /no application protocol/);
    await assert.rejects(tlsProbe(port, 'example.com', undefined), /no application protocol/);
    const refusals = log.lines.filter((l) => l.msg === 'tls-alpn-01: refusing handshake without acme-tls/1');
    assert.ok(refusals.length >= 2);
  });

  it('fails the handshake for an unknown SNI name or no SNI', async () => {
    await assert.rejects(tlsProbe(port, 'other.example', ['acme-tls/1']), /unrecognized name/);
    await assert.rejects(tlsProbe(port, undefined, ['acme-tls/1']), /unrecognized name/);
  });

  it('drops connections that do not start with a TLS ClientHello', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
    });
    assert.equal(reply, '');
  });

  it('cleanup removes the name', async () => {
    const c = ctxFor('tls-alpn-01', { type: 'dns', value: 'gone.example' }, 'tokGone');
    await solver.prepare(c);
    assert.equal((await tlsProbe(port, 'gone.example', ['acme-tls/1'])).alpn, 'acme-tls/1');
    await solver.cleanup(c);
    await assert.rejects(tlsProbe(port, 'gone.example', ['acme-tls/1']));
  });

  it('refuses wildcards and reports bind conflicts', async () => {
    assert.throws(
      () => solver.check([{ type: 'dns', value: '*.example.com' }]),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === 'tls-alpn-01 cannot validate wildcard identifiers: *.example.com' && e.hint?.code === 'wildcard-needs-dns',
    );
    const other = new TlsAlpn01Solver({ port, host: '127.0.0.1' });
    await assert.rejects(
      other.start(),
      (e: unknown) => e instanceof ChallengeError && e.message.startsWith(`Failed to bind port ${port}: `),
    );
  });

  it('stop() closes the port', async () => {
    const s = new TlsAlpn01Solver({ port: 0, host: '127.0.0.1' });
    await s.start();
    const p = s.port ?? 0;
    await s.stop();
    assert.equal(await connectRefused(p), 'ECONNREFUSED');
  });
});

async function captureClientHello(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const srv = netCreateServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          sock.destroy();
          srv.close();
          resolve(buf.subarray(0, 5 + buf.readUInt16BE(3)));
        }
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (!addr || typeof addr !== 'object') return reject(new Error('no address'));
      const c = tlsConnect({ host: '127.0.0.1', port: addr.port, rejectUnauthorized: false, ...opts });
      c.on('error', () => undefined);
    });
  });
}

describe('peekClientHello', () => {
  it('finds ALPN and SNI, waits for more bytes, reassembles fragmented records', async () => {
    const hello = await captureClientHello({ servername: 'Example.com', ALPNProtocols: ['h2', 'acme-tls/1'] });
    assert.deepEqual(peekClientHello(hello), { kind: 'hello', alpn: ['h2', 'acme-tls/1'], serverName: 'Example.com' });
    for (const n of [0, 3, 5, 40, hello.length - 1]) assert.deepEqual(peekClientHello(hello.subarray(0, n)), { kind: 'incomplete' });
    // the same handshake message split over two records
    const body = hello.subarray(5);
    const cut = 50;
    const rec = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
    const split = Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]);
    assert.equal(peekClientHello(split.subarray(0, 5 + cut + 3)).kind, 'incomplete');
    assert.deepEqual(peekClientHello(split), { kind: 'hello', alpn: ['h2', 'acme-tls/1'], serverName: 'Example.com' });

    const bare = await captureClientHello({});
    assert.deepEqual(peekClientHello(bare), { kind: 'hello', alpn: undefined, serverName: undefined });
    assert.equal(peekClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'invalid');
  });
});

describe('reverseDnsName', () => {
  it('follows RFC 8738 §6', () => {
    assert.equal(reverseDnsName('192.0.2.1'), '1.2.0.192.in-addr.arpa');
    assert.equal(
      reverseDnsName('2001:db8::1'),
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    );
  });
});

describe('Dns01Solver', () => {
  it('publishes _acme-challenge.<base>. with the dns-01 TXT value and removes it in cleanup', async () => {
    const added: DnsRecord[] = [];
    const removed: DnsRecord[] = [];
    const publisher: DnsPublisher = {
      add: async (r) => void added.push(r),
      remove: async (r) => void removed.push(r),
    };
    const solver = new Dns01Solver({ publisher });
    const ctx = ctxFor('dns-01', { type: 'dns', value: '*.example.com' }, 'tokDns');
    await solver.prepare(ctx);
    assert.equal(added.length, 1);
    assert.deepEqual(added[0], {
      name: '_acme-challenge.example.com.',
      value: dns01TxtValue(ctx.keyAuthorization),
      domain: 'example.com',
      identifier: { type: 'dns', value: '*.example.com' },
      token: 'tokDns',
      keyAuthorization: ctx.keyAuthorization,
      challengeType: 'dns-01',
    });
    assert.match(added[0]!.value, /^[A-Za-z0-9_-]{43}$/);
    await solver.cleanup(ctx);
    assert.deepEqual(removed, added);
    assert.equal(dns01RecordName('example.org'), '_acme-challenge.example.org.');
  });

  it('cleanup never throws; a failing remove is logged at warn', async () => {
    const log = captureLogger();
    const solver = new Dns01Solver({
      publisher: {
        add: async () => undefined,
        remove: async () => {
          throw new ChallengeError('dns hook remove exploded');
        },
      },
      log,
    });
    await solver.cleanup(ctxFor('dns-01', { type: 'dns', value: 'example.com' }, 't'));
    const warn = log.lines.find((l) => l.level === 'warn');
    assert.ok(warn);
    assert.match(warn.msg, /_acme-challenge\.example\.com\..*dns hook remove exploded/);
    // a publisher without remove is fine too
    await new Dns01Solver({ publisher: { add: async () => undefined } }).cleanup(
      ctxFor('dns-01', { type: 'dns', value: 'example.com' }, 't'),
    );
  });

  it('add failures propagate from prepare', async () => {
    const solver = new Dns01Solver({
      publisher: {
        add: async () => {
          throw new ChallengeError('nope');
        },
      },
    });
    await assert.rejects(solver.prepare(ctxFor('dns-01', { type: 'dns', value: 'a.test' }, 't')), /nope/);
  });

  it('refuses IP identifiers (RFC 8738)', () => {
    const solver = new Dns01Solver({ publisher: { add: async () => undefined } });
    assert.throws(
      () => solver.check([{ type: 'dns', value: 'a.test' }, { type: 'ip', value: '192.0.2.1' }]),
      (e: unknown) => e instanceof UsageError && /dns-01 cannot validate IP address identifiers: 192\.0\.2\.1/.test(e.message),
    );
    solver.check([{ type: 'dns', value: '*.a.test' }]);
  });
});

describe('HookDnsPublisher', () => {
  let dir = '';
  let dumpHook = '';
  const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOOK_OUT: '', AKAMU_TOKEN: 'inherited-stale' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'akamu-hook-'));
    baseEnv.HOOK_OUT = dir;
    await mkdir(join(dir, 'with space'));
    dumpHook = join(dir, 'with space', 'dump hook.sh');
    await writeFile(
      dumpHook,
      [
        '#!/bin/sh',
        'cat >/dev/null', // stdin must be /dev/null (would block otherwise)
        'out="$HOOK_OUT/$1-$AKAMU_TOKEN"',
        '{ echo "argc=$#"; for a in "$@"; do echo "arg=$a"; done; } > "$out.argv"',
        'env > "$out.env"',
        'echo "hook stdout"',
        'exit 0',
        '',
      ].join('\n'),
    );
    await chmod(dumpHook, 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const record = (token: string): DnsRecord => ({
    name: '_acme-challenge.example.com.',
    value: 'TXTVALUE_' + token,
    domain: 'example.com',
    identifier: { type: 'dns', value: '*.example.com' },
    token,
    keyAuthorization: `${token}.${THUMB}`,
    challengeType: 'dns-01',
  });

  function parseEnv(text: string): Map<string, string> {
    const m = new Map<string, string>();
    for (const line of text.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m;
  }

  it('runs `<hook> add` / `<hook> remove` without a shell, values only in the environment', async () => {
    const hook = new HookDnsPublisher(dumpHook, { baseEnv });
    await hook.add(record('tk1'));
    await hook.remove(record('tk1'));
    for (const op of ['add', 'remove']) {
      const argv = await readFile(join(dir, `${op}-tk1.argv`), 'utf8');
      assert.equal(argv, `argc=1\narg=${op}\n`);
      assert.ok(!argv.includes('TXTVALUE') && !argv.includes(THUMB));
      const env = parseEnv(await readFile(join(dir, `${op}-tk1.env`), 'utf8'));
      assert.equal(env.get('AKAMU_DOMAIN'), 'example.com');
      assert.equal(env.get('AKAMU_TOKEN'), 'tk1');
      assert.equal(env.get('AKAMU_TXT'), 'TXTVALUE_tk1');
      assert.equal(env.get('AKAMU_KEY_AUTH'), `tk1.${THUMB}`);
      assert.equal(env.get('AKAMU_RECORD_NAME'), '_acme-challenge.example.com.');
      assert.equal(env.get('AKAMU_CHALLENGE'), 'dns-01');
      assert.equal(env.get('HOOK_OUT'), dir, 'base environment is passed on');
    }
  });

  it('runs concurrent adds in parallel, each with its own environment', async () => {
    const hook = new HookDnsPublisher(dumpHook, { baseEnv });
    await Promise.all(['c1', 'c2', 'c3'].map((t) => hook.add(record(t))));
    for (const t of ['c1', 'c2', 'c3']) {
      const env = parseEnv(await readFile(join(dir, `add-${t}.env`), 'utf8'));
      assert.equal(env.get('AKAMU_TXT'), `TXTVALUE_${t}`);
    }
  });

  it('a failing hook reports exit status and stderr', async () => {
    const failing = join(dir, 'fail.sh');
    await writeFile(failing, '#!/bin/sh\necho "some stdout"\necho "zone example.com refused update" >&2\nexit 3\n');
    await chmod(failing, 0o755);
    await assert.rejects(
      new HookDnsPublisher(failing, { baseEnv }).add(record('f')),
      (e: unknown) =>
        e instanceof ChallengeError &&
        e.message === `dns hook '${failing}' add exited with status 3: zone example.com refused update`,
    );
  });

  it('long stderr is cut to its tail', async () => {
    const noisy = join(dir, 'noisy.sh');
    await writeFile(noisy, '#!/bin/sh\ni=0\nwhile [ $i -lt 200 ]; do echo "line $i" >&2; i=$((i+1)); done\nexit 1\n');
    await chmod(noisy, 0o755);
    await assert.rejects(new HookDnsPublisher(noisy, { baseEnv }).remove(record('n')), (e: unknown) => {
      assert.ok(e instanceof ChallengeError);
      assert.ok(e.message.startsWith(`dns hook '${noisy}' remove exited with status 1: …`));
      assert.ok(e.message.endsWith('line 199'));
      assert.ok(e.message.length < 700);
      return true;
    });
  });

  it('a missing or non-executable hook cannot be run', async () => {
    const missing = join(dir, 'nope.sh');
    await assert.rejects(
      new HookDnsPublisher(missing, { baseEnv }).add(record('m')),
      (e: unknown) => e instanceof ChallengeError && e.message.startsWith(`dns hook '${missing}' could not be run: ENOENT`),
    );
    const notExec = join(dir, 'plain.sh');
    await writeFile(notExec, '#!/bin/sh\nexit 0\n');
    await chmod(notExec, 0o644);
    // root may execute files without x bits only if some x bit is set; 0644 → EACCES even for root
    await assert.rejects(
      new HookDnsPublisher(notExec, { baseEnv }).add(record('m')),
      (e: unknown) => e instanceof ChallengeError && e.message.startsWith(`dns hook '${notExec}' could not be run: EACCES`),
    );
  });

  it('the command string is not split or interpreted by a shell', async () => {
    const sneaky = `${dumpHook} ; touch ${join(dir, 'pwned')}`;
    await assert.rejects(new HookDnsPublisher(sneaky, { baseEnv }).add(record('s')), /could not be run: ENOENT/);
    await assert.rejects(readFile(join(dir, 'pwned')), /ENOENT/);
  });

  it('a hook killed by a signal says so', async () => {
    const suicide = join(dir, 'kill.sh');
    await writeFile(suicide, '#!/bin/sh\nkill -9 $$\n');
    await chmod(suicide, 0o755);
    await assert.rejects(
      new HookDnsPublisher(suicide, { baseEnv }).add(record('k')),
      (e: unknown) => e instanceof ChallengeError && e.message === `dns hook '${suicide}' add was killed by SIGKILL`,
    );
  });

  it('a hook exceeding the timeout is killed with a clear error', async () => {
    const slow = join(dir, 'slow.sh');
    await writeFile(slow, '#!/bin/sh\nexec sleep 30\n');
    await chmod(slow, 0o755);
    const t0 = Date.now();
    await assert.rejects(
      new HookDnsPublisher(slow, { baseEnv, timeoutMs: 300 }).add(record('slow')),
      (e: unknown) =>
        e instanceof ChallengeError && e.message === `dns hook '${slow}' add timed out after 300 ms and was killed by SIGTERM`,
    );
    assert.ok(Date.now() - t0 < 3000);
  });

  it('serial: true runs hooks one at a time', async () => {
    const lock = join(dir, 'lock.sh');
    await writeFile(
      lock,
      [
        '#!/bin/sh',
        'mkdir "$HOOK_OUT/lockdir" 2>/dev/null || { echo "concurrent run" >&2; exit 9; }',
        'sleep 0.2',
        'rmdir "$HOOK_OUT/lockdir"',
        '',
      ].join('\n'),
    );
    await chmod(lock, 0o755);
    const hook = new HookDnsPublisher(lock, { baseEnv, serial: true });
    await Promise.all(['s1', 's2', 's3'].map((t) => hook.add(record(t))));
  });
});

describe('ManualDnsPublisher', () => {
  it('serialises concurrent prompts, in call order', async () => {
    const events: string[] = [];
    let active = 0;
    let maxActive = 0;
    const ask = async (r: DnsRecord): Promise<void> => {
      active++;
      maxActive = Math.max(maxActive, active);
      events.push(`start ${r.domain}`);
      await new Promise((res) => setTimeout(res, 20));
      events.push(`end ${r.domain}`);
      active--;
    };
    const pub = new ManualDnsPublisher(ask);
    assert.equal((pub as DnsPublisher).remove, undefined);
    const solver = new Dns01Solver({ publisher: pub });
    await Promise.all(
      ['a.test', 'b.test', 'c.test'].map((d) => solver.prepare(ctxFor('dns-01', { type: 'dns', value: d }, `t-${d}`))),
    );
    assert.equal(maxActive, 1);
    assert.deepEqual(events, ['start a.test', 'end a.test', 'start b.test', 'end b.test', 'start c.test', 'end c.test']);
  });

  it('a rejected prompt fails only its own add', async () => {
    const seen: string[] = [];
    const pub = new ManualDnsPublisher(async (r) => {
      seen.push(r.domain);
      if (r.domain === 'a.test') throw new Error('stdin closed (EOF)');
    });
    const base = (d: string): DnsRecord => ({
      name: `_acme-challenge.${d}.`,
      value: 'v',
      domain: d,
      identifier: { type: 'dns', value: d },
      challengeType: 'dns-01',
    });
    const [a, b] = await Promise.allSettled([pub.add(base('a.test')), pub.add(base('b.test'))]);
    assert.equal(a.status, 'rejected');
    assert.equal(b.status, 'fulfilled');
    assert.deepEqual(seen, ['a.test', 'b.test']);
  });
});

/** A fresh Pebble and a client with a new account, for one describe block. */
async function pebbleWithAccount(userAgent: string): Promise<{ pebble: Pebble; client: AcmeClient }> {
  const pebble = await startPebble({});
  const client = await AcmeClient.connect(pebble.directoryUrl, { transport: new HttpTransport({ userAgent, extraCaPem: pebble.caPem }) });
  await client.newAccount(await PrivateKey.generate('ec:P-256'), { termsOfServiceAgreed: true });
  return { pebble, client };
}

describe('solvers against a real Pebble validation authority', () => {
  let pebble: Pebble;
  let client: AcmeClient;
  before(async () => {
    ({ pebble, client } = await pebbleWithAccount('akamu-challenges-test'));
  });
  after(() => pebble?.stop());

  async function issue(solver: Solver, names: string[]): Promise<string> {
    const certKey = await PrivateKey.generate('ec:P-256');
    const identifiers = names.map((value) => ({ type: /^[\d.]+$|:/.test(value) ? 'ip' : 'dns', value }));
    const r = await issueCertificate(client, { identifiers, solvers: [solver], csr: () => buildCsr({ key: certKey, identifiers: normalizeIdentifiers(names) }), pollTimeoutMs: 30_000 });
    assert.equal(r.order.status, 'valid');
    return r.chainPem;
  }

  it('http-01 for a DNS name and an IP address', async () => {
    const log = captureLogger();
    const solver = new Http01Solver({ port: pebble.httpPort, log });
    await issue(solver, ['h.example.com', '127.0.0.1']);
    assert.ok(log.lines.some((l) => l.msg === 'http-01 validation request' && l.fields?.known === true));
    assert.equal(await connectRefused(pebble.httpPort), 'ECONNREFUSED', 'stopped after issuance');
  });

  it('tls-alpn-01 for two DNS names and an IP address (reverse-DNS SNI)', async () => {
    const log = captureLogger();
    const solver = new TlsAlpn01Solver({ port: pebble.tlsPort, log });
    const chain = await issue(solver, ['t1.example.com', 't2.example.com', '127.0.0.1']);
    const leaf = new X509Certificate(chain);
    assert.match(leaf.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    const snis = new Set(log.lines.filter((l) => l.msg === 'tls-alpn-01 handshake completed').map((l) => l.fields?.servername));
    assert.ok(snis.has('1.0.0.127.in-addr.arpa'));
    assert.ok(snis.has('t1.example.com') && snis.has('t2.example.com'));
  });

  it('dns-01 for a wildcard and its base name (two TXT values on one name)', async () => {
    const added: DnsRecord[] = [];
    const removed: string[] = [];
    const publisher: DnsPublisher = {
      add: async (r) => {
        added.push(r);
        await pebble.setTxt(r.name, r.value); // challtestsrv adds a value to the name's TXT set
      },
      remove: async (r) => {
        removed.push(r.name);
        await pebble.clearTxt(r.name);
      },
    };
    await issue(new Dns01Solver({ publisher }), ['*.w.example.com', 'w.example.com']);
    assert.deepEqual(added.map((r) => r.name), ['_acme-challenge.w.example.com.', '_acme-challenge.w.example.com.']);
    assert.notEqual(added[0]!.value, added[1]!.value);
    assert.deepEqual(removed, ['_acme-challenge.w.example.com.', '_acme-challenge.w.example.com.']);
  });
});

describe('a solver per authorization, against a real Pebble', () => {
  let pebble: Pebble;
  let client: AcmeClient;
  before(async () => {
    ({ pebble, client } = await pebbleWithAccount('akamu-mixed-test'));
  });
  after(() => pebble?.stop());

  function recordingDns(): { solver: Dns01Solver; added: DnsRecord[] } {
    const added: DnsRecord[] = [];
    const publisher: DnsPublisher = {
      add: async (r) => {
        added.push(r);
        await pebble.setTxt(r.name, r.value);
      },
      remove: async (r) => pebble.clearTxt(r.name),
    };
    return { solver: new Dns01Solver({ publisher }), added };
  }

  it('one order: dns-01 for the wildcard, http-01 for the apex', async () => {
    const log = captureLogger();
    const http = new Http01Solver({ port: pebble.httpPort, log });
    const dns = recordingDns();
    const triggered: string[] = [];
    const identifiers = normalizeIdentifiers(['*.mix.example.com', 'mix.example.com']);
    const certKey = await PrivateKey.generate('ec:P-256');
    const r = await issueCertificate(client, {
      identifiers,
      solvers: [http, dns.solver],
      csr: () => buildCsr({ key: certKey, identifiers }),
      pollTimeoutMs: 30_000,
      events: { onChallengeTriggered: (ctx) => triggered.push(`${ctx.identifier.value}:${ctx.challenge.type}`) },
    });
    assert.equal(r.order.status, 'valid');
    assert.deepEqual(triggered.sort(), ['*.mix.example.com:dns-01', 'mix.example.com:http-01']);
    assert.deepEqual(dns.added.map((a) => a.name), ['_acme-challenge.mix.example.com.'], 'only the wildcard went to DNS');
    assert.ok(log.lines.some((l) => l.msg === 'http-01 validation request' && l.fields?.known === true), 'the apex was served over http-01');
    const leaf = new X509Certificate(r.chainPem);
    assert.match(leaf.subjectAltName ?? '', /DNS:\*\.mix\.example\.com/);
    assert.match(leaf.subjectAltName ?? '', /DNS:mix\.example\.com/);
    assert.equal(await connectRefused(pebble.httpPort), 'ECONNREFUSED', 'the http-01 listener was stopped');
  });

  it('the order of the list is the preference: dns-01 first takes every name', async () => {
    const dns = recordingDns();
    const http = new Http01Solver({ port: pebble.httpPort });
    const identifiers = normalizeIdentifiers(['*.pref.example.com', 'pref.example.com']);
    const certKey = await PrivateKey.generate('ec:P-256');
    await issueCertificate(client, { identifiers, solvers: [dns.solver, http], csr: () => buildCsr({ key: certKey, identifiers }), pollTimeoutMs: 30_000 });
    assert.equal(dns.added.length, 2);
  });

  it('refuses before ordering when no solver accepts an identifier, naming only those', async () => {
    const before = pebble.requestCount();
    await assert.rejects(
      issueCertificate(client, {
        identifiers: normalizeIdentifiers(['*.a.example.com', 'a.example.com']),
        solvers: [new Http01Solver({ port: pebble.httpPort }), new TlsAlpn01Solver({ port: pebble.tlsPort })],
        csr: () => Promise.reject(new Error('not reached')),
        pollTimeoutMs: 5_000,
      }),
      (e: unknown) => e instanceof UsageError && e.message === 'http-01 cannot validate wildcard identifiers: *.a.example.com',
    );
    assert.equal(pebble.requestCount(), before, 'nothing was sent to the CA');
  });
});

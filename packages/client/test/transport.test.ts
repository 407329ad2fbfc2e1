import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openssl } from '../../testkit/src/index.js';
import { TransportError } from '../src/errors.js';
import { captureLogger, recordingSleep } from './helpers/transport.js';
import { HttpTransport } from '../src/transport/http.js';
import { parseRetryAfter } from '../src/transport/retryAfter.js';

const UA = 'akamu-test/1.0 akamu-client/0.1.0 node/' + process.versions.node;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function httpServer(handler: Handler): Promise<{ url: string; server: http.Server; hits: () => number; connections: () => number }> {
  let n = 0;
  let conns = 0;
  const server = http.createServer((req, res) => handler(req, res, ++n));
  server.on('connection', () => conns++);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/`, server, hits: () => n, connections: () => conns };
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as http.Server).closeAllConnections?.();
    server.close(() => resolve());
  });
}

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(' 0 '), 0);
    assert.equal(parseRetryAfter(['12', '1']), 12000);
  });
  it('reads an HTTP-date relative to now', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0, 'a past date means now');
  });
  it('ignores garbage', () => {
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter(''), undefined);
    assert.equal(parseRetryAfter('-5'), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter('1.5'), undefined);
  });
});

describe('HttpTransport over http', () => {
  it('sends User-Agent on every request and reuses one keep-alive connection', async () => {
    const uas: (string | undefined)[] = [];
    const s = await httpServer((req, res) => {
      uas.push(req.headers['user-agent']);
      // Node's server omits Content-Length on HEAD, which forbids reusing the connection.
      if (req.method === 'HEAD') res.setHeader('content-length', '0');
      res.end(req.method === 'HEAD' ? undefined : 'ok');
    });
    const t = new HttpTransport({ userAgent: UA });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await t.request({ method: i === 1 ? 'HEAD' : 'GET', url: s.url });
        assert.equal(r.status, 200);
      }
      const p = await t.request({ method: 'POST', url: s.url, body: '{}', headers: { 'Content-Type': 'application/jose+json' } });
      assert.equal(p.body.toString(), 'ok');
      assert.deepEqual(uas, [UA, UA, UA, UA]);
      assert.equal(s.connections(), 1, 'one connection for all requests');
      assert.equal(t.requestsSent, 4);
    } finally {
      t.close();
      await close(s.server);
    }
  });

  it('retries a GET on 503 with Retry-After, then returns the 200', async () => {
    const s = await httpServer((_req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'Retry-After': '2' });
        res.end('busy');
      } else res.end('fine');
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      const r = await t.request({ method: 'GET', url: s.url });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'fine');
      assert.equal(r.attempts, 2);
      assert.deepEqual(waits, [2000]);
    } finally {
      t.close();
      await close(s.server);
    }
  });

  it('retries a GET on 429 with an HTTP-date Retry-After', async () => {
    const s = await httpServer((_req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'Retry-After': new Date(Date.now() + 5000).toUTCString() });
        res.end();
      } else res.end('fine');
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      const r = await t.request({ method: 'GET', url: s.url });
      assert.equal(r.status, 200);
      assert.equal(waits.length, 1);
      assert.ok(waits[0]! > 3000 && waits[0]! <= 5000, `waited ${waits[0]} ms`);
    } finally {
      t.close();
      await close(s.server);
    }
  });

  it('uses jittered exponential backoff without Retry-After and gives up after 7 tries', async () => {
    const s = await httpServer((_req, res) => {
      res.writeHead(502);
      res.end();
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      const r = await t.request({ method: 'GET', url: s.url });
      assert.equal(r.status, 502);
      assert.equal(r.attempts, 7);
      assert.equal(s.hits(), 7);
      assert.equal(waits.length, 6);
      // 250 ms doubling, ±50 %, each step at most 8 s
      [250, 500, 1000, 2000, 4000, 8000].forEach((step, i) => {
        assert.ok(waits[i]! >= step / 2 && waits[i]! <= step * 1.5, `wait ${i + 1}: ${waits[i]} ms`);
      });
    } finally {
      t.close();
      await close(s.server);
    }
  });

  // Answered at once, without a retry: one hit, no sleep.
  const noRetry: { title: string; method: 'GET' | 'POST'; body?: string; status: number; retryAfter: string }[] = [
    { title: 'does not wait for a Retry-After beyond the cap: the response is returned', method: 'GET', status: 429, retryAfter: '3600' },
    { title: 'never retries a POST on 503', method: 'POST', body: 'x', status: 503, retryAfter: '1' },
  ];
  for (const c of noRetry) {
    it(c.title, async () => {
      const s = await httpServer((_req, res) => {
        res.writeHead(c.status, { 'Retry-After': c.retryAfter });
        res.end();
      });
      const { sleep, waits } = recordingSleep();
      const t = new HttpTransport({ userAgent: UA, sleep });
      try {
        const r = await t.request({ method: c.method, url: s.url, body: c.body });
        assert.equal(r.status, c.status);
        assert.deepEqual(waits, []);
        assert.equal(s.hits(), 1);
      } finally {
        t.close();
        await close(s.server);
      }
    });
  }

  it('retries a GET whose connection is reset', async () => {
    const s = await httpServer((req, res, n) => {
      if (n === 1) req.socket.destroy();
      else res.end('after reset');
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      const r = await t.request({ method: 'GET', url: s.url });
      assert.equal(r.body.toString(), 'after reset');
      assert.equal(waits.length, 1);
    } finally {
      t.close();
      await close(s.server);
    }
  });

  it('reports a reset POST on a fresh connection as one line, without retrying', async () => {
    const s = await httpServer((req) => req.socket.destroy());
    const t = new HttpTransport({ userAgent: UA, sleep: async () => {} });
    try {
      await assert.rejects(t.request({ method: 'POST', url: s.url, body: 'x' }), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.message, `request to ${s.url} failed: connection reset by the server`);
        return true;
      });
      assert.equal(s.hits(), 1);
    } finally {
      t.close();
      await close(s.server);
    }
  });

  it('times out a request that gets no answer', async () => {
    const s = await httpServer(() => {
      /* never answers */
    });
    const t = new HttpTransport({ userAgent: UA, requestTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(t.request({ method: 'POST', url: s.url, body: 'x' }), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.message, `request to ${s.url} timed out after 300 ms`);
        return true;
      });
      assert.ok(Date.now() - started < 2000);
    } finally {
      t.close();
      await close(s.server);
    }
  });

  it('says "connection refused" in one line', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await close(probe);
    const t = new HttpTransport({ userAgent: UA, sleep: async () => {} });
    const url = `http://127.0.0.1:${port}/dir`;
    await assert.rejects(t.request({ method: 'GET', url }), (e: unknown) => {
      assert.ok(e instanceof TransportError);
      assert.equal(e.message, `cannot connect to ${url}: connection refused`);
      assert.equal(e.url, url);
      return true;
    });
    t.close();
  });
});

describe('HttpTransport over https', () => {
  let dir: string;
  let caPem: string;
  let otherCaPem: string;
  let server: https.Server;
  let url: string;
  let silent: net.Server;
  let silentPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'akamu-transport-'));
    const p = (f: string) => join(dir, f);
    for (const name of ['ca', 'other']) {
      await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p(`${name}.key`),
        '-out', p(`${name}.pem`), '-days', '2', '-subj', `/CN=akamu test ${name} CA`]);
    }
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('server.key'),
      '-out', p('server.csr'), '-subj', '/CN=localhost']);
    await writeFile(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await openssl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf')]);
    caPem = await readFile(p('ca.pem'), 'utf8');
    otherCaPem = await readFile(p('other.pem'), 'utf8');
    server = https.createServer({ key: await readFile(p('server.key')), cert: await readFile(p('server.pem')) }, (req, res) => {
      res.end(String(req.headers['user-agent']));
    });
    url = `https://127.0.0.1:${await listen(server)}/dir`;
    silent = net.createServer((sock) => {
      sock.resume(); // accepts TCP, never speaks TLS
    });
    silentPort = await listen(silent);
  });

  after(async () => {
    server.closeAllConnections();
    await close(server);
    await close(silent);
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts extraCaPem in addition to the default roots and logs the peer certificate at debug', async () => {
    const { log, lines } = captureLogger();
    const t = new HttpTransport({ userAgent: UA, extraCaPem: caPem, log });
    try {
      const r1 = await t.request({ method: 'GET', url });
      const r2 = await t.request({ method: 'GET', url });
      assert.equal(r1.body.toString(), UA);
      assert.equal(r2.status, 200);
      assert.match(r1.peer?.subject ?? '', /CN=localhost/);
      assert.match(r1.peer?.issuer ?? '', /akamu test ca CA/);
      assert.match(r1.peer?.protocol ?? '', /TLSv1\.[23]/);
      const tlsLines = lines.filter((l) => l.startsWith('debug http: TLS connection to'));
      assert.equal(tlsLines.length, 1, 'one TLS connection, logged once');
      assert.match(tlsLines[0]!, /subject CN=localhost; issuer CN=akamu test ca CA; valid .* SHA-256 [0-9A-F:]+/);
      assert.ok(lines.some((l) => /^debug http: GET https:\/\/127\.0\.0\.1:\d+\/dir -> 200 \(\d+ ms\)$/.test(l)), lines.join('\n'));
    } finally {
      t.close();
    }
  });

  it('refuses an extra CA that is not a PEM certificate', () => {
    assert.throws(() => new HttpTransport({ userAgent: UA, extraCaPem: 'hello' }), {
      name: 'UsageError',
      message: /^the extra CA is not a PEM certificate/,
    });
  });

  it('refuses a server whose CA is not trusted, with a hint', async () => {
    for (const extra of [undefined, otherCaPem]) {
      const t = new HttpTransport({ userAgent: UA, ...(extra ? { extraCaPem: extra } : {}) });
      await assert.rejects(t.request({ method: 'GET', url }), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(
          e.message,
          `cannot connect to ${url}: TLS: unable to verify the first certificate`,
        );
        assert.deepEqual(e.hint, { code: 'untrusted-server-certificate' });
        return true;
      });
      t.close();
    }
  });

  it('times out a TLS handshake that never completes (connect timeout)', async () => {
    const t = new HttpTransport({ userAgent: UA, connectTimeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(t.request({ method: 'GET', url: `https://127.0.0.1:${silentPort}/dir` }), (e: unknown) => {
      assert.ok(e instanceof TransportError);
      assert.equal(e.message, `connect to 127.0.0.1:${silentPort} timed out`);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
    t.close();
  });
});

// HttpTransport: the caller's budget (what is left of its deadline), the abort signal, and whether a
// failed request may have reached the server. Local http servers; waits are injected where the test
// does not measure the deadline itself.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { AkamuError } from '../src/errors.js';
import { HttpAttemptError } from '../src/transport/errors.js';
import { HttpTransport } from '../src/transport/http.js';
import { recordingSleep } from './helpers/transport.js';

const UA = 'akamu-test/1.0';

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => handler(req, res, ++n));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/x`,
    hits: () => n,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('HttpTransport: budget, abort, reached-the-server', () => {
  it('a request that gets no answer ends when its budget does, not after the request timeout', async () => {
    const s = await serve(() => { /* never answers */ });
    const t = new HttpTransport({ userAgent: UA });
    const started = Date.now();
    try {
      await assert.rejects(t.request({ method: 'GET', url: s.url, budgetMs: 300 }), (e: unknown) => {
        assert.ok(e instanceof HttpAttemptError);
        assert.equal(e.deadlineExceeded, true);
        assert.equal(e.message, `no answer from ${s.url} before the deadline`);
        return true;
      });
      assert.ok(Date.now() - started < 2_000, `${Date.now() - started} ms`);
    } finally {
      t.close();
      await s.close();
    }
  });

  it('waits out a Retry-After that ends before the deadline, and not one that does not', async () => {
    const s = await serve((_q, res, n) => {
      if (n === 1) res.writeHead(503, { 'retry-after': '1' }).end();
      else if (n === 2) res.writeHead(429, { 'retry-after': '5' }).end();
      else res.end('ok');
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      const r = await t.request({ method: 'GET', url: s.url, budgetMs: 3_000 });
      assert.equal(r.status, 429, 'the 5 s Retry-After does not fit in 3 s: the answer is returned');
      assert.deepEqual(waits, [1000]);
      assert.equal(s.hits(), 2);
    } finally {
      t.close();
      await s.close();
    }
  });

  it('without a budget, a Retry-After of up to 30 s is waited for', async () => {
    const s = await serve((_q, res, n) => (n === 1 ? res.writeHead(503, { 'retry-after': '20' }).end() : res.end('ok')));
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      assert.equal((await t.request({ method: 'GET', url: s.url })).status, 200);
      assert.deepEqual(waits, [20_000]);
    } finally {
      t.close();
      await s.close();
    }
  });

  it('an abort ends a request, and a wait between attempts, at once', async () => {
    const s = await serve((_q, res, n) => {
      if (n === 2) res.writeHead(503, { 'retry-after': '30' }).end();
      // n === 1 and n > 2: no answer
    });
    const t = new HttpTransport({ userAgent: UA });
    try {
      for (const abortAfter of [100, 300]) {
        const ac = new AbortController();
        setTimeout(() => ac.abort(new Error('stop')), abortAfter);
        const started = Date.now();
        // first while the request waits for an answer, then while it waits out a Retry-After
        await assert.rejects(t.request({ method: 'GET', url: s.url, signal: ac.signal }), (e: unknown) => {
          assert.ok(e instanceof AkamuError);
          assert.equal(e.code, 'aborted');
          assert.equal(e.message, `GET ${s.url}: aborted`);
          return true;
        });
        assert.ok(Date.now() - started < 2_000);
      }
      // the second request was waiting out the 30 s Retry-After when it was aborted
      assert.equal(s.hits(), 2);
    } finally {
      t.close();
      await s.close();
    }
  });

  it('says whether a failed POST may have reached the server', async () => {
    const reset = await serve((req) => req.on('end', () => req.socket.destroy()).resume());
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const refusedUrl = `http://127.0.0.1:${(probe.address() as net.AddressInfo).port}/x`;
    await new Promise((resolve) => probe.close(resolve));
    const t = new HttpTransport({ userAgent: UA });
    try {
      await assert.rejects(t.request({ method: 'POST', url: reset.url, body: '{}' }), (e: unknown) =>
        e instanceof HttpAttemptError && e.reachedServer && e.transient);
      assert.equal(reset.hits(), 1, 'a POST is sent once');
      await assert.rejects(t.request({ method: 'POST', url: refusedUrl, body: '{}' }), (e: unknown) =>
        e instanceof HttpAttemptError && !e.reachedServer && e.message === `cannot connect to ${refusedUrl}: connection refused`);
    } finally {
      t.close();
      await reset.close();
    }
  });

  it('an answer cut off mid-body is retried for a GET', async () => {
    const s = await serve((_q, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end('{"whole":true}');
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      const r = await t.request({ method: 'GET', url: s.url });
      assert.equal(r.body.toString(), '{"whole":true}');
      assert.equal(r.attempts, 2);
      assert.equal(waits.length, 1);
    } finally {
      t.close();
      await s.close();
    }
  });
});

/** HttpTransport over http+unix:// URLs, against real node:http servers listening on Unix sockets. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { TransportError, UsageError } from '../src/errors.js';
import { captureLogger, recordingSleep } from './helpers/transport.js';
import { HttpTransport } from '../src/transport/http.js';
import { unixSocketPath } from '../src/transport/unix.js';

const UA = 'akamu-test/1.0';
const dir = mkdtempSync(join(tmpdir(), 'akamu-unix-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let sockets = 0;
const freshPath = (name = 'acme'): string => join(dir, `${name}-${++sockets}.sock`);
const unixUrl = (socketPath: string, rest = '/dir'): string => `http+unix://${encodeURIComponent(socketPath)}${rest}`;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

interface SocketServer {
  socketPath: string;
  url: (rest?: string) => string;
  hits: () => number;
  connections: () => number;
  close: () => Promise<void>;
}

async function socketServer(handler: Handler, socketPath = freshPath()): Promise<SocketServer> {
  let n = 0;
  let conns = 0;
  const server = http.createServer((req, res) => handler(req, res, ++n));
  server.on('connection', () => conns++);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    url: (rest) => unixUrl(socketPath, rest),
    hits: () => n,
    connections: () => conns,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The one-line TransportError a GET of `url` fails with (no retry waits). */
async function failure(url: string): Promise<TransportError> {
  const t = new HttpTransport({ userAgent: UA, sleep: async () => {} });
  try {
    await t.request({ method: 'GET', url });
  } catch (err) {
    assert.ok(err instanceof TransportError, `TransportError expected, got ${String(err)}`);
    assert.equal(err.url, url);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err;
  } finally {
    t.close();
  }
  assert.fail(`GET ${url} succeeded`);
}

/** A node child running `script`; resolves once it prints `ready` (killed after 20 s whatever happens). */
async function child(script: string): Promise<{ proc: ChildProcess; output: () => string; exited: Promise<void> }> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  // 'close' comes after the output is read; 'error' when the child cannot even start
  const exited = new Promise<void>((resolve) => {
    proc.once('close', () => resolve());
    proc.once('error', (err) => resolve(void (out += `spawn error: ${err.message}`)));
  }).finally(() => clearTimeout(guard));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', () => out.includes('ready') && resolve());
    void exited.then(() => (out.includes('ready') ? resolve() : reject(new Error(`child exited early: ${out}`))));
  });
  return { proc, output: () => out, exited };
}

describe('HttpTransport over http+unix://', () => {
  it('sends the request to the socket: path and query as the target, Host: localhost, User-Agent; answers come back whole', async () => {
    const seen: { method?: string; url?: string; host?: string; ua?: string; body: string }[] = [];
    const s = await socketServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, host: req.headers.host, ua: req.headers['user-agent'], body });
        res.writeHead(201, { 'content-type': 'application/json', location: unixUrl(s.socketPath, '/acct/1'), 'replay-nonce': 'n1' });
        res.end(JSON.stringify({ echoed: body }));
      });
    });
    const { log, lines } = captureLogger();
    const t = new HttpTransport({ userAgent: UA, log });
    try {
      const g = await t.request({ method: 'GET', url: s.url('/acme/dir?x=1&y=%2F') });
      assert.equal(g.status, 201);
      assert.equal(g.headers.location, unixUrl(s.socketPath, '/acct/1'));
      assert.equal(g.headers['replay-nonce'], 'n1');
      const p = await t.request({ method: 'POST', url: s.url('/new-acct'), body: '{"a":1}', headers: { 'Content-Type': 'application/jose+json' } });
      assert.deepEqual(JSON.parse(p.body.toString()), { echoed: '{"a":1}' });
      assert.equal(p.peer, undefined, 'no TLS');
      assert.deepEqual(seen, [
        { method: 'GET', url: '/acme/dir?x=1&y=%2F', host: 'localhost', ua: UA, body: '' },
        { method: 'POST', url: '/new-acct', host: 'localhost', ua: UA, body: '{"a":1}' },
      ]);
      assert.equal(lines.filter((l) => l.endsWith(`connected to Unix socket ${s.socketPath}`)).length, 1, lines.join('\n'));
    } finally {
      t.close();
      await s.close();
    }
  });

  it('keeps one connection alive per socket and reuses it', async () => {
    const answer: Handler = (req, res) => {
      if (req.method === 'HEAD') res.setHeader('content-length', '0');
      res.end(req.method === 'HEAD' ? undefined : 'ok');
    };
    const a = await socketServer(answer, freshPath('a'));
    const b = await socketServer(answer, freshPath('b'));
    const t = new HttpTransport({ userAgent: UA });
    try {
      await t.request({ method: 'GET', url: a.url() });
      await t.request({ method: 'HEAD', url: a.url('/nonce') });
      await t.request({ method: 'POST', url: a.url('/order'), body: '{}' });
      await t.request({ method: 'GET', url: b.url() });
      await t.request({ method: 'POST', url: a.url('/order'), body: '{}' });
      await t.request({ method: 'GET', url: b.url('/other') });
      assert.deepEqual([a.hits(), b.hits()], [4, 2]);
      assert.deepEqual([a.connections(), b.connections()], [1, 1], 'one connection per socket for all its requests');
      assert.equal(t.requestsSent, 6);
    } finally {
      t.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('retries a GET on 503 with Retry-After, and a GET whose connection is reset, as over TCP', async () => {
    const s = await socketServer((req, res, n) => {
      if (n === 1) res.writeHead(503, { 'retry-after': '2' }).end('busy');
      else if (n === 2) req.socket.destroy();
      else res.end('fine');
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      const r = await t.request({ method: 'GET', url: s.url() });
      assert.equal(r.body.toString(), 'fine');
      assert.equal(r.attempts, 3);
      assert.equal(waits.length, 2);
      assert.equal(waits[0], 2000);
    } finally {
      t.close();
      await s.close();
    }
  });

  it('never retries a POST on 503, and reports a reset POST in one line', async () => {
    const s = await socketServer((req, res, n) => {
      if (n === 1) res.writeHead(503, { 'retry-after': '1' }).end();
      else req.socket.destroy();
    });
    const { sleep, waits } = recordingSleep();
    const t = new HttpTransport({ userAgent: UA, sleep });
    try {
      assert.equal((await t.request({ method: 'POST', url: s.url('/p'), body: 'x' })).status, 503);
      const url = s.url('/p');
      await assert.rejects(t.request({ method: 'POST', url, body: 'x' }), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.message, `request to ${url} failed: connection reset by the server`);
        return true;
      });
      assert.deepEqual(waits, []);
    } finally {
      t.close();
      await s.close();
    }
  });

  it('times out a request that gets no answer', async () => {
    const s = await socketServer(() => {
      /* never answers */
    });
    const t = new HttpTransport({ userAgent: UA, requestTimeoutMs: 300 });
    try {
      const url = s.url('/slow');
      await assert.rejects(t.request({ method: 'POST', url, body: 'x' }), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.message, `request to ${url} timed out after 300 ms`);
        return true;
      });
    } finally {
      t.close();
      await s.close();
    }
  });
});

describe('http+unix:// socket errors name the socket, one line each', () => {
  it('missing socket', async () => {
    const p = join(dir, 'missing.sock');
    assert.equal((await failure(unixUrl(p))).message, `cannot connect to Unix socket ${p}: no such file or directory`);
  });

  it('a regular file and a directory are not sockets', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a socket');
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    assert.equal((await failure(unixUrl(file))).message, `cannot connect to Unix socket ${file}: not a socket`);
    assert.equal((await failure(unixUrl(sub))).message, `cannot connect to Unix socket ${sub}: not a socket`);
    assert.equal((await failure(unixUrl(join(file, 'x.sock')))).message, `cannot connect to Unix socket ${join(file, 'x.sock')}: a component of the path is not a directory`);
  });

  it('a socket nobody listens on refuses the connection', async () => {
    const p = freshPath('stale');
    // a killed server leaves its socket file behind
    const c = await child(`import net from 'node:net'; net.createServer().listen(${JSON.stringify(p)}, () => { console.log('ready'); process.kill(process.pid, 'SIGKILL'); });`);
    await c.exited;
    assert.equal((await failure(unixUrl(p))).message, `cannot connect to Unix socket ${p}: connection refused (nothing is listening on it)`);
  });

  it('permission denied', async () => {
    const s = await socketServer((_req, res) => res.end('ok'));
    try {
      const url = s.url();
      if (process.getuid?.() !== 0) {
        chmodSync(s.socketPath, 0);
        assert.equal((await failure(url)).message, `cannot connect to Unix socket ${s.socketPath}: permission denied`);
        return;
      }
      // root passes every permission check: a child loads the built library, then becomes nobody and asks
      chmodSync(dir, 0o755);
      chmodSync(s.socketPath, 0o600);
      const lib = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'transport', 'http.js')).href;
      const c = await child(
        `const { HttpTransport } = await import(${JSON.stringify(lib)}); process.setgroups([]); process.setgid(65534); process.setuid(65534); console.log('ready');
         await new HttpTransport({ userAgent: 'x', sleep: async () => {} }).request({ method: 'GET', url: ${JSON.stringify(url)} }).then(() => console.log('OK'), (e) => console.log('ERR ' + e.message));`,
      );
      await c.exited;
      assert.match(c.output(), new RegExp(`ERR cannot connect to Unix socket ${s.socketPath}: permission denied\\n`));
      assert.equal(s.hits(), 0);
    } finally {
      chmodSync(dir, 0o700);
      await s.close();
    }
  });

  it('a full listen queue is worth retrying a GET, then says so', async () => {
    const p = freshPath('busy');
    // a server that listens with the shortest queue, then stops accepting
    const c = await child(`import net from 'node:net'; net.createServer().listen({ path: ${JSON.stringify(p)}, backlog: 1 }, () => { console.log('ready'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000); });`);
    const fillers: net.Socket[] = [];
    try {
      // fill the queue: connects that succeed at once are queued, the next one is refused with EAGAIN
      for (let i = 0; i < 5; i++) {
        const sock = net.connect(p);
        sock.on('error', () => {});
        fillers.push(sock);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { sleep, waits } = recordingSleep();
      const t = new HttpTransport({ userAgent: UA, sleep, requestTimeoutMs: 3000 });
      const url = unixUrl(p);
      await assert.rejects(t.request({ method: 'GET', url }), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.message, `cannot connect to Unix socket ${p}: the server is not accepting connections (its listen queue is full)`);
        return true;
      });
      assert.equal(waits.length, 6, 'retried like a reset (6 more tries, the default)');
      t.close();
    } finally {
      for (const s of fillers) s.destroy();
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  });
});

describe('http+unix:// URLs', () => {
  it('decode the host to the socket path', () => {
    assert.equal(unixSocketPath('http+unix://%2Frun%2Fakamu%2Fakamu.sock/acme/directory'), '/run/akamu/akamu.sock');
    assert.equal(unixSocketPath('HTTP+UNIX://%2ftmp%2FMy%20Socket.sock'), '/tmp/My Socket.sock');
    assert.equal(unixSocketPath(new URL('http+unix://%2Fs/x?y')), '/s');
  });

  const bad: [string, RegExp][] = [
    ['http+unix:///run/akamu.sock/directory', /the socket path goes in the host part, each \/ written as %2F/],
    ['http+unix://run%2Fakamu.sock/directory', /the socket path 'run\/akamu\.sock' is not absolute/],
    ['http+unix://%2Frun%2Fa.sock:8080/dir', /takes no port/],
    ['http+unix://%2Fa%zz/dir', /bad percent-encoding/],
    ['http+unix://%2Fa%00b/dir', /NUL byte/],
    [`http+unix://${encodeURIComponent('/tmp/' + 'x'.repeat(110))}/dir`, /the socket path is 115 bytes long; Unix sockets take at most 10[37]/],
  ];
  for (const [url, why] of bad) {
    it(`refuse ${url.slice(0, 50)} before connecting`, async () => {
      assert.throws(() => unixSocketPath(url), (e: unknown) => e instanceof UsageError && e.message.startsWith(`'${url}' is not a valid http+unix:// URL: `) && why.test(e.message));
      const err = await failure(url);
      assert.match(err.message, why);
    });
  }
});

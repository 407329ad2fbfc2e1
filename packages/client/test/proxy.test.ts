/** Proxies from the environment (transport/proxy.ts): which requests go through which proxy, and its failures. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyConfig } from '../src/transport/proxy.js';
import { HttpTransport } from '../src/transport/http.js';
import { startConnectProxy, type ConnectProxy } from '../../testkit/src/index.js';

const route = (env: Record<string, string>, url: string): string | undefined => ProxyConfig.fromEnv(env)?.routeFor(new URL(url))?.shown;

describe('proxy selection', () => {
  it('https_proxy for https targets, http_proxy for http ones; lower case first; none without variables', () => {
    assert.equal(ProxyConfig.fromEnv({}), undefined);
    assert.equal(ProxyConfig.fromEnv({ HTTPS_PROXY: '  ' }), undefined, 'an empty value is unset');
    const env = { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'plain.example:8080' };
    assert.equal(route(env, 'https://acme.example/dir'), 'http://lower:3128');
    assert.equal(route(env, 'http://acme.example/dir'), 'http://plain.example:8080', 'a bare host:port is an http:// proxy');
    assert.equal(route({ HTTPS_PROXY: 'http://p' }, 'http://acme.example/'), undefined, 'no http_proxy: http goes direct');
    assert.equal(route({ HTTPS_PROXY: 'http://p' }, 'https://acme.example/'), 'http://p:1080', "curl's default port");
    assert.equal(route({ HTTPS_PROXY: 'http://p', HTTP_PROXY: 'http://p' }, 'http+unix://%2Frun%2Fa.sock/dir'), undefined, 'never for http+unix');
  });

  it('NO_PROXY as curl reads it: *, suffixes on label boundaries, leading dots, ports, IPs and CIDR blocks', () => {
    const p = (noProxy: string, url: string): boolean => route({ HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy }, url) !== undefined;
    assert.equal(p('*', 'https://a.example/'), false);
    assert.equal(p('example.com', 'https://example.com/'), false);
    assert.equal(p('example.com', 'https://acme.example.com/'), false);
    assert.equal(p('.example.com', 'https://acme.example.com/'), false);
    assert.equal(p('*.example.com', 'https://acme.example.com/'), false);
    assert.equal(p('example.com', 'https://badexample.com/'), true, 'a suffix only on a label boundary');
    assert.equal(p('Example.COM.', 'https://ACME.example.com./'), false, 'case and trailing dots do not matter');
    assert.equal(p('a.test, b.test c.test', 'https://c.test/'), false, 'commas and spaces separate');
    assert.equal(p('acme.test:8443', 'https://acme.test:8443/'), false);
    assert.equal(p('acme.test:8443', 'https://acme.test/'), true, 'a port entry matches only that port');
    assert.equal(p('127.0.0.1', 'https://127.0.0.1:14000/dir'), false);
    assert.equal(p('127.0.0.1', 'https://127.0.0.2/'), true);
    assert.equal(p('10.0.0.0/8', 'https://10.20.30.40/'), false);
    assert.equal(p('10.0.0.0/8', 'https://11.0.0.1/'), true);
    assert.equal(p('::1', 'https://[::1]:14000/'), false);
    assert.equal(p('[::1]:443', 'https://[::1]/'), false);
    assert.equal(p('fd00::/8', 'https://[fd12:3456::1]/'), false);
    assert.equal(p('fd00::/8', 'https://[fe80::1]/'), true);
    assert.equal(p('0.0.1', 'https://10.0.0.1/'), true, 'a name entry never suffix-matches an IP address');
    assert.equal(p('', 'https://a.example/'), true);
  });

  it('refuses unusable proxy URLs without showing their credentials', () => {
    assert.throws(() => ProxyConfig.fromEnv({ HTTPS_PROXY: 'https://user:s3cret@p:443' }),
      (e: Error) => /^HTTPS_PROXY 'https:\/\/\*\*\*@p:443' is not a usable proxy: only http:\/\/ proxies are supported, not https:\/\/$/.test(e.message));
    assert.throws(() => ProxyConfig.fromEnv({ http_proxy: 'socks5://p:1080' }), /http_proxy .* only http:\/\/ proxies are supported, not socks5:\/\//);
    const cfg = ProxyConfig.fromEnv({ HTTPS_PROXY: 'http://us%3Aer:p%40ss@proxy.test:3128' })!;
    const r = cfg.routeFor(new URL('https://acme.test/'))!;
    assert.equal(r.shown, 'http://proxy.test:3128');
    assert.equal(r.authorization, `Basic ${Buffer.from('us:er:p@ss').toString('base64')}`, 'percent-decoded user and password');
  });
});

describe('HttpTransport through a proxy', () => {
  let proxy: ConnectProxy;
  let authProxy: ConnectProxy;
  let origin: http.Server;
  let originUrl: string;
  before(async () => {
    proxy = await startConnectProxy();
    authProxy = await startConnectProxy({ credentials: { user: 'u', password: 'pw-secret' } });
    origin = http.createServer((req, res) => res.end(`hello ${req.url}`));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', () => resolve()));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all([proxy.stop(), authProxy.stop(), new Promise((r) => origin.close(r))]);
  });

  it('plain http goes to the proxy in absolute form, with the credentials of the proxy URL', async () => {
    const t = new HttpTransport({ userAgent: 'test', proxyEnv: { HTTP_PROXY: authProxy.url.replace('//', '//u:pw-secret@') } });
    const res = await t.request({ method: 'GET', url: `${originUrl}/x?y=1` });
    t.close();
    assert.equal(res.body.toString(), 'hello /x?y=1');
    assert.equal(authProxy.forwarded(), 1);
    assert.equal(authProxy.tunnels(), 0);
  });

  it('wrong credentials: one line naming the proxy, never the password', async () => {
    const t = new HttpTransport({ userAgent: 'test', proxyEnv: { HTTPS_PROXY: authProxy.url.replace('//', '//u:wrong-pw@') }, maxRetries: 0 });
    await assert.rejects(t.request({ method: 'GET', url: 'https://127.0.0.1:1/dir' }), (e: Error) => {
      assert.match(e.message, /^proxy http:\/\/127\.0\.0\.1:\d+ refused the request for https:\/\/127\.0\.0\.1:1: HTTP 407 Proxy Authentication Required \(the credentials in the proxy URL were refused\)$/);
      assert.doesNotMatch(e.message, /wrong-pw/);
      return true;
    });
    t.close();
  });

  it('a proxy that is down: one clear error, not retried as a server failure', async () => {
    const down = await startConnectProxy();
    await down.stop();
    const t = new HttpTransport({ userAgent: 'test', proxyEnv: { HTTPS_PROXY: down.url, HTTP_PROXY: down.url } });
    await assert.rejects(t.request({ method: 'GET', url: 'https://127.0.0.1:1/dir' }),
      (e: Error) => e.message === `cannot connect to proxy ${down.url} (for https://127.0.0.1:1): connection refused`);
    await assert.rejects(t.request({ method: 'GET', url: `${originUrl}/` }),
      (e: Error) => e.message === `cannot connect to proxy ${down.url} (for ${originUrl}): connection refused`);
    assert.equal(t.requestsSent, 2, 'one attempt each');
    t.close();
  });
});

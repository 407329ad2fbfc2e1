/** HTTPS_PROXY / NO_PROXY end to end: the built CLI issues from Pebble through a CONNECT proxy that counts its tunnels. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startConnectProxy, type ConnectProxy } from '../../testkit/src/index.js';
import { setupWithAccount, runCli, assertFailure, assertSuccess, verifyChain, type AccountEnv } from './helpers.js';

describe('issue through an HTTP proxy', () => {
  let env: AccountEnv;
  let proxy: ConnectProxy;
  before(async () => {
    env = await setupWithAccount();
    proxy = await startConnectProxy({ credentials: { user: 'akamu', password: 'proxy-pw-7' } });
  });
  after(async () => {
    await proxy.stop();
    await env.pebble.stop();
  });

  const issue = (name: string, proxyEnv: Record<string, string>, extra: string[] = []) =>
    runCli(['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), '-d', name,
      '--out', join(env.dir, name, 'fullchain.pem'), ...extra], { env: proxyEnv });
  const withCredentials = (): string => proxy.url.replace('//', '//akamu:proxy-pw-7@');

  it('HTTPS_PROXY: every request to the CA goes through CONNECT tunnels; the password is never logged', async () => {
    const before = proxy.tunnels();
    const requestsBefore = env.pebble.requestCount();
    const r = await issue('px.example.com', { HTTPS_PROXY: withCredentials() }, ['-vv']);
    assertSuccess(r);
    const tunnels = proxy.tunnels() - before;
    assert.ok(tunnels > 0, 'tunnels were opened');
    assert.ok(tunnels < env.pebble.requestCount() - requestsBefore, `keep-alive inside the tunnels: ${tunnels} tunnels`);
    assert.ok(proxy.targets.every((t) => t === new URL(env.pebble.directoryUrl).host), `tunnels to Pebble only: ${proxy.targets.join(', ')}`);
    assert.equal(proxy.refused(), 0);
    await verifyChain(env, join(env.dir, 'px.example.com', 'fullchain.pem'), join(env.dir, 'px.example.com', 'fullchain.pem.key.pem'));
    assert.match(r.stderr, new RegExp(`CONNECT ${new URL(env.pebble.directoryUrl).host} through proxy ${proxy.url}`));
    assert.doesNotMatch(r.stderr, /proxy-pw-7/);
    assert.doesNotMatch(r.stderr, new RegExp(Buffer.from('akamu:proxy-pw-7').toString('base64')));
  });

  it('NO_PROXY naming the CA: no tunnel at all', async () => {
    const before = proxy.tunnels();
    assertSuccess(await issue('nopx.example.com', { https_proxy: withCredentials(), no_proxy: 'localhost, 127.0.0.1' }));
    assert.equal(proxy.tunnels(), before);
  });

  it('a proxy that is down: one error line naming it (no password), nothing ordered', async () => {
    const down = await startConnectProxy();
    await down.stop();
    const before = env.pebble.requestCount();
    const r = await issue('down.example.com', { HTTPS_PROXY: down.url.replace('//', '//u:hidden-pw@') });
    assertFailure(r, 1, new RegExp(`^error: cannot connect to proxy ${down.url} \\(for https://127\\.0\\.0\\.1:\\d+\\): connection refused$`));
    assert.doesNotMatch(r.stderr, /hidden-pw/);
    assert.equal(env.pebble.requestCount(), before);
  });

  it('an unusable proxy URL is a usage error', async () => {
    const r = await issue('bad.example.com', { HTTPS_PROXY: 'socks5://u:pw@127.0.0.1:1080' });
    assertFailure(r, 2, /^error: HTTPS_PROXY 'socks5:\/\/\*\*\*@127\.0\.0\.1:1080' is not a usable proxy: only http:\/\/ proxies are supported, not socks5:\/\/$/);
  });
});

/**
 * certbot webroot lineages made by Debian's real certbot against Pebble (a static server serving
 * the webroots on Pebble's http-01 port, one site per name), imported into webroot / webroot_map
 * renewal fields and renewed by akamu through the same webroots, changing nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { certbotTree, certonlyArgs, runCertbot, serveWebroot, startPebble, tempDir, type CertbotTree, type Pebble } from '../../testkit/src/index.js';
import { runCli, assertSuccess } from './helpers.js';
import { mapWebroot } from '../src/certbot/challenge-map.js';

describe('import certbot: webroot lineages', () => {
  let pebble: Pebble;
  let tree: CertbotTree;
  let sites: Record<string, string>;
  const work = tempDir('akamu-import-webroot-');
  /** Serves each name's webroot on Pebble's http-01 port while `run` runs. */
  const serving = async <T>(run: () => Promise<T>): Promise<T> => {
    const web = await serveWebroot((host) => sites[host], pebble.httpPort);
    try {
      return await run();
    } finally {
      await web.close();
    }
  };

  before(async () => {
    pebble = await startPebble();
    tree = certbotTree(pebble);
    const shared = join(work, 'www', 'shared');
    const a = join(work, 'www', 'a');
    const b = join(work, 'www', 'b');
    for (const d of [shared, a, b]) mkdirSync(d, { recursive: true });
    sites = { 'one.example.com': shared, 'www.one.example.com': shared, 'a.example.com': a, 'b.example.com': b };
    await serving(async () => {
      await runCertbot(tree, certonlyArgs(tree, { auth: { kind: 'webroot', webroot: shared }, domains: ['one.example.com', 'www.one.example.com'] }));
      // -w applies to the -d values after it: a webroot per name ([[webroot_map]] with two directories)
      await runCertbot(tree, ['certonly', '--server', pebble.directoryUrl, '--agree-tos', '-m', 'x@example.com', '--cert-name', 'multi',
        '--webroot', '-w', a, '-d', 'a.example.com', '-w', b, '-d', 'b.example.com']);
    });
  });
  after(async () => pebble.stop());

  it('maps one webroot to `webroot` and several to `webroot_map`, then renews both with akamu', async () => {
    const certDir = join(work, 'certs');
    const r = await runCli(['import', 'certbot', '--certbot-dir', tree.configDir, '--account-key', join(work, 'acct.pem'), '--cert-dir', certDir]);
    assertSuccess(r);
    assert.doesNotMatch(r.stderr, /own server|webroot/i, `no fallback note: ${r.stderr}`);

    const one = parse(readFileSync(join(certDir, 'one.example.com.pem.renewal.toml'), 'utf8'));
    assert.equal(one.challenge_type, 'http-01');
    assert.equal(one.webroot, sites['one.example.com']);
    assert.equal(one.webroot_map, undefined);

    const multiText = readFileSync(join(certDir, 'multi.pem.renewal.toml'), 'utf8');
    const multi = parse(multiText);
    assert.deepEqual({ ...(multi.webroot_map as object) }, { 'a.example.com': sites['a.example.com'], 'b.example.com': sites['b.example.com'] });
    assert.match(multiText, /^\[webroot_map\]\n"a\.example\.com" = "\S+"\n"b\.example\.com" = "\S+"$/m, 'a TOML table keyed by name');

    for (const name of ['one.example.com', 'multi']) {
      const chain = join(certDir, `${name}.pem`);
      const before = readFileSync(chain, 'utf8');
      const renewed = await serving(() => runCli(['renew', '--renewal-config', `${chain}.renewal.toml`, '--server-ca', pebble.caPemPath, '--force']));
      assertSuccess(renewed);
      assert.notEqual(readFileSync(chain, 'utf8'), before, `${name}: a new chain`);
    }
    for (const dir of Object.values(sites)) assert.deepEqual(readdirSync(dir), [], `${dir}: no token or directory left behind`);
  });
});

describe('certbot webroot settings → webroot / webroot_map', () => {
  const conf = (webrootMap: Record<string, string>, webrootPath: string[] = []) => ({ webrootMap, webrootPath });
  it('one directory → webroot; several → webroot_map (+ webroot_path for names it misses); none → built-in server with a note', () => {
    assert.deepEqual(mapWebroot('standalone', conf({ 'a.example': '/w' }), ['a.example']), { notes: [] });
    assert.deepEqual(mapWebroot('webroot', conf({ 'a.example': '/w', 'B.example': '/w' }, ['/w']), ['a.example', 'b.example']), { webroot: '/w', notes: [] });
    assert.deepEqual(mapWebroot('webroot', conf({}, ['/w']), ['a.example']), { webroot: '/w', notes: [] });
    assert.deepEqual(mapWebroot('webroot', conf({ 'a.example': '/a', 'b.example': '/b' }, ['/a', '/b']), ['a.example', 'b.example']),
      { webrootMap: { 'a.example': '/a', 'b.example': '/b' }, notes: [] });
    assert.deepEqual(mapWebroot('webroot', conf({ 'a.example': '/a', 'b.example': '/b' }, ['/c']), ['a.example', 'b.example', 'c.example']),
      { webrootMap: { 'a.example': '/a', 'b.example': '/b' }, webroot: '/c', notes: [] });
    assert.match(mapWebroot('webroot', conf({ 'a.example': '/a', 'b.example': '/b' }), ['a.example', 'b.example', 'c.example']).notes.join(),
      /no webroot for c\.example in certbot's webroot_map/);
    assert.match(mapWebroot('webroot', conf({}), ['a.example']).notes.join(), /names no webroot; akamu answers http-01 with its own server/);
    assert.match(mapWebroot('webroot', conf({}, ['/a', '/b']), ['a.example']).notes.join(), /several webroots without a webroot_map; using \/a/);
  });
});

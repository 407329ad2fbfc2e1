/**
 * A real certbot installation for the import tests, built by Debian's certbot 2.1 against two
 * Pebbles sharing one config dir:
 *   Pebble A, account A (contact x@example.com):
 *     std.example.com   standalone, ECDSA, renewed once (live/ → archive/*2.pem)
 *     wild.example      manual DNS, `*.wild.example` + `wild.example`, RSA 3072
 *     web.example.com   webroot (`[[webroot_map]]`)
 *     nginx.example.com, cf.example.com, sni.example.com: copies of std.example.com whose conf is
 *       edited the way certbot writes it for the nginx, dns-cloudflare and (old) tls-sni-01 plugins
 *   Pebble B, account B (no contact):
 *     other.example.com standalone
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  certbotCertonly, certbotRenew, certbotTree, certbotVersion, startPebble, tempDir, withPebble,
  type CertbotTree, type Pebble,
} from '../../testkit/src/index.js';

export interface FixtureAccount {
  id: string;
  dir: string;
  /** `<host:port>/dir`, the folder below accounts/. */
  server: string;
  url: string;
}

export interface CertbotFixture {
  pebbleA: Pebble;
  pebbleB: Pebble;
  tree: CertbotTree;
  /** certbot's config dir (the /etc/letsencrypt equivalent). */
  dir: string;
  accountA: FixtureAccount;
  accountB: FixtureAccount;
  certbotVersion: string;
  stop(): Promise<void>;
}

function accountsOf(configDir: string, pebble: Pebble): FixtureAccount[] {
  const url = new URL(pebble.directoryUrl);
  const server = `${url.host}${url.pathname}`;
  const base = join(configDir, 'accounts', ...server.split('/'));
  return readdirSync(base).sort().map((id) => {
    const dir = join(base, id);
    const regr = JSON.parse(readFileSync(join(dir, 'regr.json'), 'utf8')) as { uri: string };
    return { id, dir, server, url: regr.uri };
  });
}

/**
 * Copy lineage `from` to `to` (archive files, live/ symlinks, renewal conf with every path renamed)
 * and let `edit` rewrite the conf's lines.
 */
export function copyLineage(configDir: string, from: string, to: string, edit: (lines: string[]) => string[]): void {
  cpSync(join(configDir, 'archive', from), join(configDir, 'archive', to), { recursive: true });
  mkdirSync(join(configDir, 'live', to));
  for (const f of readdirSync(join(configDir, 'live', from))) {
    const src = join(configDir, 'live', from, f);
    if (!f.endsWith('.pem')) {
      cpSync(src, join(configDir, 'live', to, f));
      continue;
    }
    symlinkSync(readlinkSync(src).split(`/${from}/`).join(`/${to}/`), join(configDir, 'live', to, f));
  }
  const conf = readFileSync(join(configDir, 'renewal', `${from}.conf`), 'utf8')
    .split(`/${from}/`).join(`/${to}/`)
    .replace(`/archive/${from}\n`, `/archive/${to}\n`);
  writeFileSync(join(configDir, 'renewal', `${to}.conf`), edit(conf.split('\n')).join('\n'));
}

/** Replace `key = …` in a conf (dropping the line when value is undefined). */
export function setConfKey(lines: string[], key: string, value: string | undefined): string[] {
  const re = new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`);
  const out: string[] = [];
  let done = false;
  for (const l of lines) {
    if (re.test(l)) {
      done = true;
      if (value !== undefined) out.push(`${key} = ${value}`);
      continue;
    }
    out.push(l);
  }
  if (!done && value !== undefined) {
    const i = out.indexOf('[renewalparams]');
    out.splice(i + 1, 0, `${key} = ${value}`);
  }
  return out;
}

export async function buildCertbotFixture(): Promise<CertbotFixture> {
  const version = await certbotVersion(); // fails loudly when certbot is missing
  const pebbleA = await startPebble();
  const pebbleB = await startPebble();
  try {
    const tree = certbotTree(pebbleA);
    const dir = tree.configDir;

    await certbotCertonly(tree, { auth: { kind: 'standalone' }, keyType: 'ecdsa', domains: ['std.example.com', 'www.std.example.com'] });
    await certbotRenew(tree, 'std.example.com');
    await certbotCertonly(tree, { auth: { kind: 'manual-dns' }, keyType: 'rsa', rsaKeySize: 3072, domains: ['*.wild.example', 'wild.example'] });
    const webroot = join(tempDir('akamu-webroot-'), 'html');
    mkdirSync(webroot, { recursive: true });
    await certbotCertonly(tree, { auth: { kind: 'webroot', webroot }, domains: ['web.example.com', 'www.web.example.com'] });

    copyLineage(dir, 'std.example.com', 'nginx.example.com', (l) =>
      setConfKey(setConfKey(setConfKey(l, 'authenticator', 'nginx'), 'installer', 'nginx'), 'http01_port', undefined));
    copyLineage(dir, 'std.example.com', 'cf.example.com', (l) =>
      setConfKey(setConfKey(setConfKey(l, 'authenticator', 'dns-cloudflare'), 'dns_cloudflare_credentials', '/root/.secrets/cloudflare.ini'),
        'http01_port', undefined));
    copyLineage(dir, 'std.example.com', 'sni.example.com', (l) => setConfKey(l, 'authenticator', 'tls-sni-01'));

    const treeB = withPebble(tree, pebbleB);
    await certbotCertonly(treeB, { auth: { kind: 'standalone' }, email: false, domains: ['other.example.com'] });

    const [accountA] = accountsOf(dir, pebbleA);
    const [accountB] = accountsOf(dir, pebbleB);
    if (!accountA || !accountB) throw new Error('certbot did not create both accounts');
    return {
      pebbleA, pebbleB, tree, dir, accountA, accountB, certbotVersion: version,
      stop: async () => { await Promise.all([pebbleA.stop(), pebbleB.stop()]); },
    };
  } catch (e) {
    await Promise.all([pebbleA.stop(), pebbleB.stop()]);
    throw e;
  }
}

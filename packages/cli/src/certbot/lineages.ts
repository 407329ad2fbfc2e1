/**
 * certbot lineages: `renewal/<name>.conf` (ConfigObj) plus the files it names — `live/<name>/*.pem`,
 * which are symlinks into `archive/<name>/*N.pem`. Lineage names drop `*.` (a certificate for
 * `*.example.com` and `example.com` lives in `live/example.com/`); the `_wildcard.<domain>` naming
 * is accepted too. Domains come from the certificate, the key type from the actual key.
 */
import { lstat, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { PrivateKey, certificateFacts, type Identifier } from 'akamu-client';
import { CHAIN_FILE_LIMIT, SMALL_FILE_LIMIT, describeFsError, readInputText } from '../files/read-input.js';
import { configList, configString, parseConfigObj, type ConfigSection } from './configobj.js';

export interface CertbotRenewalConf {
  /** Lineage name: the conf file stem. */
  name: string;
  confPath: string;
  server?: string;
  authenticator?: string;
  /** `pref_challs` (certbot's normalised `--preferred-challenges`). */
  prefChalls: string[];
  http01Port?: number;
  /** `[[webroot_map]]`: domain → webroot path. */
  webrootMap: Record<string, string>;
  /** `webroot_path` (certbot's `-w` values, a list). */
  webrootPath: string[];
  /** certbot account id (`account = …`). */
  account?: string;
  /** Where the lineage's files are named by the conf, or the `live/<name>/` defaults. */
  fullchainLink: string;
  privkeyLink: string;
  /** `<certbot-dir>/live/<name>/`: used when the conf's paths are gone (a tree copied or moved elsewhere). */
  liveDir: string;
}

export interface CertbotLineageFiles {
  /** Real paths after following live/ symlinks into archive/. */
  fullchainPath: string;
  privkeyPath: string;
  fullchainPem: string;
  key: PrivateKey;
  /** Identifiers from the certificate's subjectAltName, in certificate order. */
  identifiers: Identifier[];
  notAfter: Date;
}

export interface CertbotLineage extends CertbotRenewalConf {
  /** Present when the certificate and key could be read. */
  files?: CertbotLineageFiles;
  /** Why the files could not be used (already reported as a warning). */
  problem?: string;
}

export interface LineageDiscovery {
  lineages: CertbotLineage[];
  warnings: string[];
}

/** `_wildcard.example.com` → `*.example.com`; other names unchanged. */
export function decodeLineageName(name: string): string {
  return name.startsWith('_wildcard.') ? `*.${name.slice('_wildcard.'.length)}` : name;
}

export async function discoverLineages(certbotDir: string): Promise<LineageDiscovery> {
  const renewalDir = join(certbotDir, 'renewal');
  const out: LineageDiscovery = { lineages: [], warnings: [] };
  let names: string[];
  try {
    names = (await readdir(renewalDir, { withFileTypes: true }))
      .filter((e) => !e.isDirectory() && e.name.endsWith('.conf') && e.name.length > '.conf'.length)
      .map((e) => e.name)
      .sort();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') out.warnings.push(`Warning: cannot read certbot renewal dir ${renewalDir}: ${describeFsError(e)}`);
    return out;
  }
  for (const file of names) {
    const confPath = join(renewalDir, file);
    let conf: CertbotRenewalConf;
    try {
      conf = readRenewalConf(certbotDir, confPath, await readInputText(confPath, SMALL_FILE_LIMIT));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = typeof e.code === 'string' ? describeFsError(e) : e.message;
      out.warnings.push(`Warning: skipping renewal config ${confPath}: ${why}`);
      continue;
    }
    const lineage: CertbotLineage = { ...conf };
    try {
      lineage.files = await readLineageFiles(conf);
    } catch (err) {
      lineage.problem = (err as Error).message;
      out.warnings.push(`Warning: skipping certificate ${conf.name} (${confPath}): ${lineage.problem}`);
    }
    out.lineages.push(lineage);
  }
  return out;
}

/** Parse one renewal conf (throws with the line number when it is not ConfigObj). */
export function readRenewalConf(certbotDir: string, confPath: string, text: string): CertbotRenewalConf {
  const root = parseConfigObj(text);
  const params: ConfigSection | undefined = root.sections.get('renewalparams');
  const name = basename(confPath).slice(0, -'.conf'.length);
  const liveDir = join(certbotDir, 'live', name);
  const named = (key: string): string | undefined => {
    const v = configString(root, key);
    if (!v) return undefined;
    return isAbsolute(v) ? v : resolve(certbotDir, v);
  };
  // the folder the conf's own paths live in (any of them), else live/<name>/
  const confDir = ['fullchain', 'privkey', 'cert', 'chain'].map(named).find((v) => v !== undefined);
  const pathOf = (key: string, file: string): string => named(key) ?? join(confDir ? dirname(confDir) : liveDir, file);
  const webrootMap: Record<string, string> = {};
  const mapSection = params?.sections.get('webroot_map') ?? root.sections.get('webroot_map');
  for (const [domain, dir] of mapSection?.values ?? []) {
    webrootMap[domain] = Array.isArray(dir) ? dir.join(',') : dir;
  }
  const portText = configString(params, 'http01_port');
  let http01Port: number | undefined;
  if (portText !== undefined && portText !== '' && portText.toLowerCase() !== 'none') {
    const n = Number(portText);
    if (!/^\d+$/.test(portText) || n > 65535) throw new Error(`http01_port '${portText}' is not a port number`);
    http01Port = n;
  }
  const conf: CertbotRenewalConf = {
    name,
    confPath,
    prefChalls: configList(params, 'pref_challs'),
    webrootMap,
    webrootPath: configList(params, 'webroot_path').filter((p) => p.trim() !== ''),
    fullchainLink: pathOf('fullchain', 'fullchain.pem'),
    privkeyLink: pathOf('privkey', 'privkey.pem'),
    liveDir,
  };
  const set = <K extends keyof CertbotRenewalConf>(k: K, v: CertbotRenewalConf[K] | undefined) => {
    if (v !== undefined && v !== '') conf[k] = v;
  };
  set('server', configString(params, 'server'));
  set('authenticator', configString(params, 'authenticator'));
  set('account', configString(params, 'account'));
  set('http01Port', http01Port);
  return conf;
}

async function readLineageFiles(conf: CertbotRenewalConf): Promise<CertbotLineageFiles> {
  const fullchainPath = await follow(await locate(conf.fullchainLink, join(conf.liveDir, 'fullchain.pem')), 'certificate chain');
  const privkeyPath = await follow(await locate(conf.privkeyLink, join(conf.liveDir, 'privkey.pem')), 'private key');
  const fullchainPem = await readText(fullchainPath, 'certificate chain', CHAIN_FILE_LIMIT);
  const privkeyPem = await readText(privkeyPath, 'private key', SMALL_FILE_LIMIT);
  let key: PrivateKey;
  try {
    key = PrivateKey.fromPem(privkeyPem);
  } catch (err) {
    throw new Error(`private key ${privkeyPath} is not usable: ${(err as Error).message}`);
  }
  let facts;
  try {
    facts = await certificateFacts(fullchainPem);
  } catch (err) {
    throw new Error(`certificate ${fullchainPath} is not usable: ${(err as Error).message}`);
  }
  if (!facts.spkiDer.equals(key.publicKeyDer())) {
    throw new Error(`private key ${privkeyPath} does not belong to the certificate ${fullchainPath}`);
  }
  const identifiers: Identifier[] = [
    ...facts.dnsNames.map((value) => ({ type: 'dns', value: value.toLowerCase() })),
    ...facts.ipAddresses.map((value) => ({ type: 'ip', value })),
  ];
  if (identifiers.length === 0) {
    // a certificate without subjectAltName: fall back to the lineage name
    identifiers.push({ type: 'dns', value: decodeLineageName(conf.name) });
  }
  return { fullchainPath, privkeyPath, fullchainPem, key, identifiers, notAfter: facts.notAfter };
}

/** The conf's path when it exists (as a file or a link), else the lineage's own live/ file when that exists. */
async function locate(fromConf: string, inTree: string): Promise<string> {
  if (fromConf === inTree) return fromConf;
  const present = (p: string) => lstat(p).then(() => true, () => false);
  if (await present(fromConf)) return fromConf;
  return (await present(inTree)) ? inTree : fromConf;
}

/** Follow symlinks (live/ → archive/); a dangling link is reported as such. */
async function follow(path: string, what: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      const link = await lstat(path).catch(() => undefined);
      if (link?.isSymbolicLink()) throw new Error(`${what} ${path} is a broken symlink`);
    }
    throw new Error(`cannot read ${what} ${path}: ${describeFsError(e)}`);
  }
}

async function readText(path: string, what: string, limit: number): Promise<string> {
  try {
    return await readInputText(path, limit);
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
}

/** Does the lineage carry any of these domains (compared case-insensitively, wildcards literally)? */
export function lineageMatchesDomains(lineage: CertbotLineage, domains: string[]): boolean {
  if (domains.length === 0) return true;
  const wanted = new Set(domains.map((d) => d.trim().toLowerCase().replace(/\.$/, '')));
  const names = new Set<string>([lineage.name.toLowerCase(), decodeLineageName(lineage.name).toLowerCase()]);
  for (const id of lineage.files?.identifiers ?? []) names.add(id.value.toLowerCase());
  for (const n of names) if (wanted.has(n)) return true;
  return false;
}

// A private BIND 9 `named` for the RFC 2136 and propagation tests: primary zones that accept
// TSIG-signed updates, on a free loopback port, run in the foreground and stopped by PID.

import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort, installExitHooks, killAndWait, spawnLogged, type Spawned } from './pebble.js';

const run = promisify(execFile);

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512';

export interface BindZone {
  /** Zone name without trailing dot, e.g. `example.test`. */
  name: string;
  /** Keys allowed to update it (default: every key of the server); [] for none. */
  updateKeys?: string[];
  /** Extra zone-file lines (relative names are below the zone), e.g. `www 60 IN TXT "x"`. */
  records?: string[];
}

export interface BindOptions {
  /** Zones (a name stands for a zone that every key may update). Default: `example.test`. */
  zones?: (string | BindZone)[];
  /** TSIG keys, generated with BIND's own `tsig-keygen`. Default: one hmac-sha256 key `akamu-test`. */
  tsigKeys?: { name: string; algorithm?: TsigAlgorithm }[];
}

export interface BindKey {
  name: string;
  algorithm: TsigAlgorithm;
  /** base64 */
  secret: string;
  /** The key in BIND's key-file format, as tsig-keygen wrote it (mode 0600). */
  file: string;
}

export interface Bind {
  host: '127.0.0.1';
  /** UDP and TCP. */
  port: number;
  /** `127.0.0.1:<port>`, for `--dns-rfc2136`, `--dns-resolver` or Pebble's `-dnsserver`. */
  address: string;
  keys: Record<string, BindKey>;
  dir: string;
  logText(): string;
  /** `dig +short` at this server: the answers' texts (TXT values unquoted and joined). */
  dig(name: string, type?: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Every zone gets SOA, NS `ns1` (A 127.0.0.1) and `* A 127.0.0.1`, so Pebble's VA finds every name. */
function zoneFile(zone: string, extra: string[]): string {
  return [
    '$TTL 60',
    `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 60 60 600 60`,
    `@ IN NS ns1.${zone}.`,
    'ns1 IN A 127.0.0.1',
    '* IN A 127.0.0.1',
    ...extra,
    '',
  ].join('\n');
}

function parseKeyFile(text: string, name: string, algorithm: TsigAlgorithm, file: string): BindKey {
  const secret = /secret\s+"([^"]+)"/.exec(text)?.[1];
  if (!secret) throw new Error(`tsig-keygen wrote no secret for ${name}:\n${text}`);
  return { name, algorithm, secret, file };
}

async function startOnce(dir: string, zones: BindZone[], keys: BindKey[]): Promise<Bind> {
  const port = await freePort(true);
  const conf = path.join(dir, 'named.conf');
  const pidFile = path.join(dir, 'named.pid');
  const allKeys = keys.map((k) => k.name);
  writeFileSync(conf, [
    ...keys.map((k) => `include "${k.file}";`),
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${pidFile}";`,
    `  session-keyfile "${path.join(dir, 'session.key')}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    '};',
    'controls { };',
    ...zones.map((z) => {
      const updaters = z.updateKeys ?? allKeys;
      const allow = updaters.length > 0 ? updaters.map((k) => `key "${k}";`).join(' ') : 'none;';
      return `zone "${z.name}" { type primary; file "${path.join(dir, `db.${z.name}`)}"; allow-update { ${allow} }; };`;
    }),
    '',
  ].join('\n'));
  const logPath = path.join(dir, 'named.log');
  writeFileSync(logPath, '');
  const named: Spawned = spawnLogged('named', ['-g', '-c', conf], { ...process.env }, logPath, dir);
  const log = (): string => readFileSync(logPath, 'utf8');
  const deadline = Date.now() + 20_000;
  while (!/^\S+ \S+ running$/m.test(log())) {
    if (named.exitInfo() !== undefined || /address in use/i.test(log())) {
      await killAndWait(named);
      const text = log();
      if (/address in use/i.test(text)) throw new PortRace();
      throw new Error(`named exited during start-up (${named.exitInfo()}):\n${text}`);
    }
    if (Date.now() > deadline) {
      await killAndWait(named);
      throw new Error(`named did not start within 20 s:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    keys: Object.fromEntries(keys.map((k) => [k.name, k])),
    dir,
    logText: log,
    dig: async (name, type = 'TXT') => {
      const { stdout } = await run('dig', ['+short', '+tries=1', '+time=2', '-p', String(port), '@127.0.0.1', name, type]);
      return stdout.split('\n').filter(Boolean).map((l) => (type === 'TXT' ? [...l.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join('') : l));
    },
    stop: () => {
      stopped ??= (async () => {
        await killAndWait(named);
        if (!process.env.AKAMU_KEEP_TEMP) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

class PortRace extends Error {}

/** Starts a private `named`; call stop() when done (it is also killed when this process exits). */
export async function startBind(opts: BindOptions = {}): Promise<Bind> {
  installExitHooks();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'akamu-bind-'));
  try {
    const zones = (opts.zones ?? ['example.test']).map((z) => (typeof z === 'string' ? { name: z } : z));
    for (const z of zones) writeFileSync(path.join(dir, `db.${z.name}`), zoneFile(z.name, z.records ?? []));
    const keys: BindKey[] = [];
    for (const k of opts.tsigKeys ?? [{ name: 'akamu-test' }]) {
      const algorithm = k.algorithm ?? 'hmac-sha256';
      const { stdout } = await run('tsig-keygen', ['-a', algorithm, k.name]);
      const file = path.join(dir, `${k.name}.key`);
      writeFileSync(file, stdout, { mode: 0o600 });
      chmodSync(file, 0o600);
      keys.push(parseKeyFile(stdout, k.name, algorithm, file));
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(dir, zones, keys);
      } catch (e) {
        if (!(e instanceof PortRace) || attempt >= 5) throw e;
      }
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Picking the challenge solvers: the `--challenge` one, and onion-csr-01 first with `--onion-key`;
 * and checking their local needs (the DNS hook program) before ordering. The tkauth-01 solver is
 * made by tkauth.ts (its flags) and handed in.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import {
  Http01Solver, TlsAlpn01Solver, Dns01Solver, DnsAccount01Solver, DnsPersist01Solver, OnionCsr01Solver, HookDnsPublisher, ManualDnsPublisher,
  Rfc2136Publisher, DnsPropagationCheck, UsageError, AkamuError,
  type Solver, type DnsRecord, type DnsPublisher, type Identifier, type Logger, type TkAuth01Solver,
} from 'akamu-client';
import { CertbotHookDnsPublisher, CertbotHookHttp01Solver, CertbotHooks } from './certbot/hook-runtime.js';
import type { DnsPlan } from './dns-settings.js';
import type { OnionKey } from './files/onion-key.js';
import type { Runtime } from './runtime.js';
import { WebrootSolver } from './webroot.js';

export const CHALLENGE_TYPES = ['http-01', 'dns-01', 'dns-persist-01', 'dns-account-01', 'tls-alpn-01', 'onion-csr-01', 'tkauth-01'] as const;

export interface SolverOptions {
  challenge: string;
  dnsHook?: string;
  httpPort: number;
  tlsPort: number;
  /** `--onion-key`, already read. */
  onionKey?: OnionKey;
  /** The RFC 2136 updater and the propagation check (dns-settings.ts); none: hook or prompt, no check. */
  dns?: DnsPlan;
  /** `--webroot` / `webroot`: http-01 tokens go there instead of the built-in server. */
  webroot?: string;
  /** `webroot_map` (an imported certbot lineage's): per-name webroots. */
  webrootMap?: Record<string, string>;
  /** The tkauth-01 solver (tkauth.ts), for `--challenge tkauth-01`. */
  tkauth?: TkAuth01Solver;
  /** An imported certbot lineage's manual hooks (`certbot_auth_hook`, `certbot_cleanup_hook`): run through /bin/sh as certbot did. */
  certbotAuthHook?: string;
  certbotCleanupHook?: string;
}

export function checkChallengeType(type: string): void {
  if (!(CHALLENGE_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`unsupported challenge type '${type}'; supported: ${CHALLENGE_TYPES.join(', ')}`);
  }
}

const isOnionName = (id: Identifier): boolean => id.type === 'dns' && id.value.endsWith('.onion');

/**
 * The solvers of an issuance, in order of preference, checked against its identifiers before
 * anything is ordered. With `--onion-key`, onion-csr-01 comes first and takes the .onion names
 * (every one must be of the key's onion service); the `--challenge` solver takes the rest, so an
 * order can mix a .onion name with DNS names. `--challenge onion-csr-01` alone takes only .onion names.
 */
export function makeSolvers(opts: SolverOptions, identifiers: readonly Identifier[], rt: Runtime): Solver[] {
  checkChallengeType(opts.challenge);
  if (opts.dnsHook && !opts.challenge.startsWith('dns-')) rt.log.warn(`--dns-hook is only used with DNS challenges; ignored for ${opts.challenge}`);
  if (usesWebroot(opts) && opts.challenge !== 'http-01') rt.log.warn(`--webroot is only used with http-01; ignored for ${opts.challenge}`);
  const onlyOnion = opts.challenge === 'onion-csr-01';
  if (!opts.onionKey) {
    if (onlyOnion) throw new UsageError('--onion-key is required for onion-csr-01 challenges');
    const solver = makeSolver(opts, identifiers, rt);
    solver.check?.([...identifiers]);
    return [solver];
  }
  const onion = new OnionCsr01Solver({ key: opts.onionKey.key, log: rt.log.child?.('akamu_client') ?? rt.log });
  const foreign = onion.foreignNames(identifiers);
  if (foreign.length > 0) {
    throw new UsageError(`--onion-key ${opts.onionKey.path} is the key of ${onion.address}; it cannot validate ${foreign.join(', ')}`);
  }
  const rest = identifiers.filter((id) => !isOnionName(id));
  if (onlyOnion) {
    if (rest.length > 0) {
      throw new UsageError(`onion-csr-01 can only validate .onion names, not ${rest.map((i) => i.value).join(', ')}; `
        + 'for those, keep --onion-key and use --challenge http-01, dns-01, dns-persist-01, dns-account-01 or tls-alpn-01');
    }
    return [onion];
  }
  const solver = makeSolver(opts, rest, rt);
  if (rest.length === identifiers.length) rt.log.warn('--onion-key is only used for .onion names; none was asked for');
  if (rest.length > 0) solver.check?.(rest);
  return [onion, solver];
}

/** A webroot (or a webroot map) is configured. */
function usesWebroot(opts: Pick<SolverOptions, 'webroot' | 'webrootMap'>): boolean {
  return opts.webroot !== undefined || (opts.webrootMap !== undefined && Object.keys(opts.webrootMap).length > 0);
}

/** The `--challenge` solver (not onion-csr-01: see makeSolvers) for these identifiers. */
function makeSolver(opts: SolverOptions, identifiers: readonly Identifier[], rt: Runtime): Solver {
  const log = rt.log.child?.('akamu_client') ?? rt.log;
  const certbot = opts.certbotAuthHook !== undefined
    ? new CertbotHooks({ auth: opts.certbotAuthHook, cleanup: opts.certbotCleanupHook, log, signal: rt.signal })
    : undefined;
  switch (opts.challenge) {
    case 'http-01':
      if (usesWebroot(opts)) return new WebrootSolver({ webroot: opts.webroot, map: opts.webrootMap, log });
      if (certbot) return new CertbotHookHttp01Solver(certbot, log);
      return new Http01Solver({ port: opts.httpPort, log });
    case 'tls-alpn-01':
      return new TlsAlpn01Solver({ port: opts.tlsPort, log });
    case 'tkauth-01':
      if (!opts.tkauth) throw new UsageError('--tkauth-url is required for tkauth-01 challenges');
      return opts.tkauth;
    default: {
      const type = opts.challenge;
      const publisher = dnsPublisher(opts, identifiers, log, rt, certbot);
      const propagation = opts.dns?.propagation
        ? new DnsPropagationCheck({ servers: opts.dns.checkServers, timeoutMs: opts.dns.propagation.timeoutMs, log })
        : undefined;
      const options = { publisher, log, ...(propagation ? { propagation } : {}) };
      if (type === 'dns-persist-01') return new DnsPersist01Solver(options);
      return type === 'dns-account-01' ? new DnsAccount01Solver(options) : new Dns01Solver(options);
    }
  }
}

/**
 * Who publishes the records: the RFC 2136 updater (its key and the zones of these names checked
 * by the solver's start(), before ordering), the `--dns-hook` program, or the manual prompt.
 */
function dnsPublisher(opts: SolverOptions, identifiers: readonly Identifier[], log: Logger, rt: Runtime, certbot?: CertbotHooks): DnsPublisher {
  const rfc2136 = opts.dns?.rfc2136;
  if (rfc2136) {
    const prefix = opts.challenge === 'dns-persist-01' ? '_validation-persist' : '_acme-challenge';
    const probeNames = [...new Set(identifiers.map((id) => `${prefix}.${id.value.replace(/^\*\./, '')}.`))];
    return new Rfc2136Publisher({ server: rfc2136.server, key: rfc2136.key, zone: rfc2136.zone, probeNames, log });
  }
  if (opts.dnsHook) return new HookDnsPublisher(opts.dnsHook, { log, signal: rt.signal });
  if (certbot) return new CertbotHookDnsPublisher(certbot);
  return new ManualDnsPublisher((r: DnsRecord) => manualDnsPrompt(r, rt));
}

/**
 * The `--dns-hook` program exists and may be executed, found as the hook runner finds it (a path,
 * or a name looked up in PATH; no shell): checked before anything is ordered.
 */
export async function checkDnsHook(command: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return checkHookProgram(command, '--dns-hook', env);
}

/** A hook program (`flag` names it in the error) exists and may be executed, found as runCommand finds it. */
export async function checkHookProgram(command: string, flag: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const fail = (why: string): never => {
    // `--deploy-hook 'systemctl reload nginx'`: say why a command line is not found
    const note = /\s/.test(command) && !why.startsWith('not executable')
      ? ' (the hook is one program, run without a shell and without arguments: put a command line in a script)' : '';
    throw new UsageError(`${flag} ${command}: ${why}${note}`);
  };
  if (command === '') fail('empty command');
  const isPath = command.includes('/');
  const candidates = isPath ? [command] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const path of candidates) {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) {
      if (isPath) fail(st ? 'not a regular file' : 'no such file');
      continue;
    }
    const executable = await access(path, constants.X_OK).then(() => true, () => false);
    if (executable) return;
    if (isPath) fail('not executable (chmod +x it)');
  }
  fail('not found in PATH');
}

/** `DNS-01`, `DNS-persist-01`, `DNS-account-01`: how the prompt names the challenge. */
const promptName = (type: string): string => `DNS-${type.slice('dns-'.length)}`;

/** The reference's manual prompt, line for line. */
async function manualDnsPrompt(r: DnsRecord, rt: Runtime): Promise<void> {
  const lines = [
    `${promptName(r.challengeType)} challenge for ${r.identifier.value}:`,
    `Name: ${r.name}`,
    'Type: TXT',
    `Value: ${r.value}`,
    'Press Enter after the TXT record has propagated (Ctrl-C to abort)...',
  ];
  try {
    await rt.prompt(lines.join('\n'));
  } catch (err) {
    throw new AkamuError(`${(err as Error).message} — aborting ${r.challengeType} challenge`, 'aborted');
  }
}

/**
 * Picking the challenge solvers: the `--challenge` one, and onion-csr-01 first with `--onion-key`;
 * and checking their local needs (the DNS hook program) before ordering.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import {
  Http01Solver, TlsAlpn01Solver, Dns01Solver, DnsPersist01Solver, OnionCsr01Solver, HookDnsPublisher, ManualDnsPublisher, UsageError, AkamuError,
  type Solver, type DnsRecord, type Identifier,
} from 'akamu-client';
import type { OnionKey } from './files/onion-key.js';
import type { Runtime } from './runtime.js';
import { WebrootSolver } from './webroot.js';

export const CHALLENGE_TYPES = ['http-01', 'dns-01', 'dns-persist-01', 'tls-alpn-01', 'onion-csr-01', 'tkauth-01'] as const;
const SUPPORTED_NOW = new Set(['http-01', 'dns-01', 'dns-persist-01', 'tls-alpn-01', 'onion-csr-01']);

export interface SolverOptions {
  challenge: string;
  dnsHook?: string;
  httpPort: number;
  tlsPort: number;
  /** `--onion-key`, already read. */
  onionKey?: OnionKey;
  /** `--webroot` / `webroot`: http-01 tokens go there instead of the built-in server. */
  webroot?: string;
  /** `webroot_map` (an imported certbot lineage's): per-name webroots. */
  webrootMap?: Record<string, string>;
}

export function checkChallengeType(type: string): void {
  if (!(CHALLENGE_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`unsupported challenge type '${type}'; supported: ${CHALLENGE_TYPES.join(', ')}`);
  }
  if (!SUPPORTED_NOW.has(type)) throw new UsageError(`--challenge ${type} is not supported yet; use http-01, dns-01, dns-persist-01, tls-alpn-01 or onion-csr-01`);
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
    const solver = makeSolver(opts, rt);
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
        + 'for those, keep --onion-key and use --challenge http-01, dns-01, dns-persist-01 or tls-alpn-01');
    }
    return [onion];
  }
  const solver = makeSolver(opts, rt);
  if (rest.length === identifiers.length) rt.log.warn('--onion-key is only used for .onion names; none was asked for');
  if (rest.length > 0) solver.check?.(rest);
  return [onion, solver];
}

/** A webroot (or a webroot map) is configured. */
function usesWebroot(opts: Pick<SolverOptions, 'webroot' | 'webrootMap'>): boolean {
  return opts.webroot !== undefined || (opts.webrootMap !== undefined && Object.keys(opts.webrootMap).length > 0);
}

/** The `--challenge` solver (not onion-csr-01: see makeSolvers). */
function makeSolver(opts: SolverOptions, rt: Runtime): Solver {
  const log = rt.log.child?.('akamu_client') ?? rt.log;
  switch (opts.challenge) {
    case 'http-01':
      if (usesWebroot(opts)) return new WebrootSolver({ webroot: opts.webroot, map: opts.webrootMap, log });
      return new Http01Solver({ port: opts.httpPort, log });
    case 'tls-alpn-01':
      return new TlsAlpn01Solver({ port: opts.tlsPort, log });
    default: {
      const persist = opts.challenge === 'dns-persist-01';
      const publisher = opts.dnsHook
        ? new HookDnsPublisher(opts.dnsHook, { log, signal: rt.signal })
        : new ManualDnsPublisher((r: DnsRecord) => manualDnsPrompt(r, persist, rt));
      return persist ? new DnsPersist01Solver({ publisher, log }) : new Dns01Solver({ publisher, log });
    }
  }
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

/** The reference's manual prompt, line for line. */
async function manualDnsPrompt(r: DnsRecord, persist: boolean, rt: Runtime): Promise<void> {
  const lines = [
    `${persist ? 'DNS-persist-01' : 'DNS-01'} challenge for ${r.identifier.value}:`,
    `Name: ${r.name}`,
    'Type: TXT',
    `Value: ${r.value}`,
    'Press Enter after the TXT record has propagated (Ctrl-C to abort)...',
  ];
  try {
    await rt.prompt(lines.join('\n'));
  } catch (err) {
    throw new AkamuError(`${(err as Error).message} — aborting ${persist ? 'dns-persist-01' : 'dns-01'} challenge`, 'aborted');
  }
}

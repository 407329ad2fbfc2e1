/**
 * The optional GSSAPI binding: the npm `kerberos` package (built against the system's MIT krb5),
 * imported on first use only, so akamu installs and runs without it. Without it a Kerberos feature
 * fails with a KerberosError (code `kerberos-unavailable`, hint `kerberos-binding`).
 *
 * MIT krb5 takes the initiator's keytab from the environment (KRB5_CLIENT_KTNAME) and the
 * acceptor's from KRB5_KTNAME; the binding has no credential-store call. {@link withKrb5Env} sets
 * such variables for one GSSAPI call and restores them afterwards, one call at a time.
 */
import { KerberosError } from './errors.js';

/** What akamu uses of the `kerberos` package's client side (declared here: the package is optional). */
export interface GssClientContext {
  /** Base64 token for the server, from the server's base64 token ('' for the first step). */
  step(challenge: string): Promise<string>;
  readonly contextComplete: boolean;
  /** The initiator's principal once the context is complete. */
  readonly username: string;
}

/** The server side, for test peers (the test kit). */
export interface GssServerContext {
  step(challenge: string): Promise<string>;
  readonly contextComplete: boolean;
  /** The authenticated client principal once the context is complete. */
  readonly username: string;
  readonly response: string;
}

export interface KerberosBinding {
  initializeClient(service: string, options: { mechOID?: number; flags?: number; principal?: string }): Promise<GssClientContext>;
  initializeServer(service: string): Promise<GssServerContext>;
  GSS_C_MUTUAL_FLAG: number;
  GSS_C_SEQUENCE_FLAG: number;
  GSS_MECH_OID_SPNEGO: number;
}

/** The module name, in a variable: the package is optional, so neither tsc nor a bundler may insist on it. */
const MODULE = 'kerberos';

type Loader = () => Promise<unknown>;
const defaultLoader: Loader = () => import(MODULE);
let loader: Loader = defaultLoader;
let loaded: Promise<KerberosBinding> | undefined;

/** Replaces how the binding is imported (tests: a loader that fails as a missing package does); undefined restores it. */
export function setKerberosLoader(l: Loader | undefined): void {
  loader = l ?? defaultLoader;
  loaded = undefined;
}

function unavailable(err: unknown): KerberosError {
  const e = err as NodeJS.ErrnoException;
  const missing = (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(`'${MODULE}'`);
  const why = missing
    ? 'the optional package `kerberos` is not installed'
    : `the optional package \`kerberos\` cannot be loaded (${String(e?.message ?? err).split('\n')[0]})`;
  return new KerberosError(`Kerberos (GSSAPI) support is not available: ${why}`, 'kerberos-unavailable', { cause: err, hint: { code: 'kerberos-binding' } });
}

/** The binding, imported once; rejects with a `kerberos-unavailable` KerberosError when it is missing. */
export function loadKerberos(): Promise<KerberosBinding> {
  loaded ??= loader().then(
    (mod) => {
      const m = ((mod as { default?: unknown }).default ?? mod) as Partial<KerberosBinding>;
      if (typeof m.initializeClient !== 'function' || typeof m.initializeServer !== 'function') {
        throw unavailable(new Error('it has no initializeClient/initializeServer'));
      }
      return m as KerberosBinding;
    },
    (err: unknown) => {
      throw unavailable(err);
    },
  );
  const p = loaded;
  // a failed import is tried again next time (the package may have been installed meanwhile)
  p.catch(() => { if (loaded === p) loaded = undefined; });
  return p;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with `vars` set in the process environment (undefined: removed), then restores the
 * previous values. Calls are serialised, so two keytabs are never in force at once.
 */
export function withKrb5Env<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
    const set = (k: string, v: string | undefined): void => {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    };
    for (const [k, v] of Object.entries(vars)) set(k, v);
    try {
      return await fn();
    } finally {
      for (const [k, v] of saved) set(k, v);
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => {});
  return result;
}

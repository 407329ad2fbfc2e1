/**
 * What commands return and report, as data: a renderer turns it into output (render/text.ts prints
 * today's lines; a JSON renderer can print the same objects). Paths are as the operator gave them
 * unless said otherwise; times are Dates.
 *
 * A command returns one CommandResult at the end. Milestones after which slow or fallible work
 * follows are reported as they happen, as CommandEvents (a key written before the account is
 * registered, the renewal decision before the issuance, each imported certificate…), so the
 * operator sees them even when a later step fails; the result carries the same facts again.
 *
 * `--json` prints a result as it is (render/json.ts): name fields for a JSON reader too, and do not
 * name a top-level field `version`, `events`, `notes` or `error` (the document has those).
 */
import type { Identifier } from 'akamu-client';

/** A key that was generated and written in this run. */
export interface GeneratedKey {
  path: string;
  keyType: string;
}

export interface AccountInfo {
  url: string;
  status: string;
  contacts: string[];
}

export interface AccountRegisterResult {
  command: 'account register';
  account: AccountInfo;
  /** False when the server already had an account for this key. */
  created: boolean;
  /** The account existed and `--contact` named other contacts than it has (they were not changed). */
  contactsDiffer: boolean;
  requestedContacts: string[];
  accountKeyPath: string;
  /** Where the account URL was saved. */
  accountUrlPath: string;
  generatedKey?: GeneratedKey;
}

export interface AccountShowResult {
  command: 'account show';
  account: AccountInfo;
}

export interface AccountUpdateResult {
  command: 'account update';
  account: AccountInfo;
}

export interface AccountDeregisterResult {
  command: 'account deregister';
  account: AccountInfo;
  accountUrlPath: string;
  /** The sidecar could not be removed (it was there): why. */
  sidecarError?: string;
}

export interface AccountKeyChangeResult {
  command: 'account key-change';
  accountUrl: string;
  /** Now holds the new key. */
  accountKeyPath: string;
  newKeyPath: string;
  keyType: string;
  generatedKey?: GeneratedKey;
}

export interface IssueResult {
  command: 'issue';
  identifiers: Identifier[];
  account: {
    url: string;
    /** Registered by this run (no account URL sidecar existed). */
    registered: boolean;
    generatedKey?: GeneratedKey;
  };
  certificate: {
    path: string;
    url?: string;
    /** The profile the server says it used. */
    profile?: string;
    /** The leaf's serial number: lower-case hex without leading zero bytes. */
    serial: string;
    notAfter: Date;
  };
  certificateKey: GeneratedKey & { generated: boolean };
  renewalConfigPath: string;
  /** `--eab-key` was given: the HMAC key is not kept in the renewal config. */
  eabKeyNotStored: boolean;
  /**
   * `--preferred-chain`: the issuer CN asked for, whether a chain with that top issuer was found
   * (else the default chain was written) and the top issuer CNs of the chains offered, default first.
   */
  preferredChain?: { requested: string; matched: boolean; offered: string[] };
  /** How the deploy hook ran, when there is one. */
  deployHook?: HookReport;
  /** The work is done but a later step failed (the deploy hook): printed as the error line, exit 1. */
  failure?: string;
}

/**
 * Whether a certificate is due for renewal and why; the shape the library's renewal decision will
 * have. `at` is when it is (or was) due: the ARI window point, the expiry rule's time, or now.
 */
import type { RenewalDecision } from 'akamu-client';

/** The library's renewal decision, as data: due, why, when, the ARI window. */
export type { RenewalDecision } from 'akamu-client';

export interface RenewResult {
  command: 'renew';
  /** The certificate checked, when there was one to check. */
  checked?: { path: string; notAfter: Date; decision: RenewalDecision };
  /** The new certificate; absent when renewal was not due. */
  issued?: IssueResult;
  /** As IssueResult's: the certificate was renewed but its deploy hook failed (exit 1). */
  failure?: string;
}

export interface RevokeResult {
  command: 'revoke';
  certificatePath: string;
  reason?: number;
  signedWith: 'account-key' | 'certificate-key';
}

export interface CertbotAccountInfo {
  id: string;
  /** The CA folder below `accounts/`, e.g. `acme-v02.api.letsencrypt.org/directory`. */
  server: string;
  url?: string;
  /** certbot's `creation_dt`, as certbot wrote it. */
  createdAt?: string;
}

export interface CertbotLineageInfo {
  name: string;
  server: string;
  /** certbot's authenticator, and the challenge type akamu maps it to. */
  authenticator: string;
  challenge: string;
  webroots: Record<string, string>;
  /** Present when the certificate and key could be read. */
  certificate?: { identifiers: Identifier[]; keyType: string; notAfter: Date };
  /** Why it cannot be imported. */
  problem?: string;
  /** What an import carries over besides the files (hooks, key reuse, RFC 2136). */
  carriedOver?: CertbotCarriedOver;
}

export interface CertbotListResult {
  command: 'import certbot';
  mode: 'list';
  certbotDir: string;
  accounts: CertbotAccountInfo[];
  lineages: CertbotLineageInfo[];
}

export interface ImportedAccount extends CertbotAccountInfo {
  keyPath: string;
  keyType: string;
  /** Where the account URL goes; absent when certbot had none. */
  urlPath?: string;
}

export interface ImportedCertificate {
  name: string;
  identifiers: Identifier[];
  challenge: string;
  /** A DNS challenge without a hook: renewals need one (or an operator at the prompt). */
  dnsHookMissing: boolean;
  /** certbot's files (real paths, after live/ → archive/). */
  source: { chainPath: string; keyPath: string };
  chainPath: string;
  keyPath: string;
  renewalConfigPath: string;
  notes: string[];
  /** What the renewal config carries over from certbot's (hooks, key reuse, RFC 2136). */
  carriedOver?: CertbotCarriedOver;
}

export interface CertbotImportResult {
  command: 'import certbot';
  mode: 'import' | 'dry-run';
  certbotDir: string;
  account: ImportedAccount;
  accountKeyNote?: string;
  certificates: ImportedCertificate[];
  /** Lineages of another certbot account. */
  skipped: { name: string; account?: string; server: string }[];
  /** `-d` values no certbot certificate carries. */
  unmatchedDomains: string[];
}

export type CommandResult =
  | AccountRegisterResult | AccountShowResult | AccountUpdateResult | AccountDeregisterResult | AccountKeyChangeResult
  | IssueResult | RenewResult | RevokeResult | CertbotListResult | CertbotImportResult | RenewAllResult
  | ListResult | CaInfoResult | InstallTimerResult
  | CompletionResult;

/** Milestones reported while a command runs (see the top of this file). */
export type CommandEvent =
  | { type: 'key-generated'; key: GeneratedKey }
  /** issue/renew registered an account because no URL sidecar existed. */
  | { type: 'account-registered'; url: string; termsOfService?: string }
  /** `--cert-key` names an existing key of another type than `--cert-key-type`: the key wins. */
  | { type: 'cert-key-type-ignored'; path: string; keyType: string; requested: string }
  /** `--new-key` names an existing key of another type than `--new-key-type`: the key wins. */
  | { type: 'new-key-type-ignored'; path: string; keyType: string; requested: string }
  | { type: 'renewal-decision'; certificatePath: string; notAfter: Date; decision: RenewalDecision }
  /** Several certbot accounts match: the operator must choose (a usage error follows). */
  | { type: 'certbot-accounts-ambiguous'; server?: string; candidates: CertbotAccountInfo[] }
  | { type: 'certbot-domain-unmatched'; domain: string }
  | { type: 'certbot-lineage-skipped'; name: string; account?: string; server: string }
  /** A note about the account key (no lineage) or one lineage. */
  | { type: 'certbot-note'; lineage?: string; note: string }
  | { type: 'certbot-account-written'; account: ImportedAccount }
  | { type: 'certbot-certificate-written'; certificate: ImportedCertificate }
  /** GSSAPI EAB: the CA authenticated this Kerberos principal; `eab`: it also issued a kid and HMAC key. */
  | { type: 'gssapi-authenticated'; principal: string; eab: boolean }
  /** IP addresses were asked for without a profile, and the CA offers a short-lived one (some CAs require it for IPs). */
  | { type: 'profile-suggested'; profile: string; ipAddresses: string[] };

// ---- deploy hooks and renew --all (issue 12) -------------------------------------------------------
import type { HookReport } from './hooks.js';

export type { HookReport } from './hooks.js';

/** One certificate of `renew --all`. */
export interface RenewAllEntry {
  renewalConfigPath: string;
  /** The chain (`cert_path`), when the config could be read. */
  certificatePath?: string;
  /** Identifier values, when the config could be read. */
  domains?: string[];
  /** `renewed`; `not-due`; `failed` (the renewal, or the deploy hook after it); `locked` (another run holds it). */
  status: 'renewed' | 'not-due' | 'failed' | 'locked';
  /** Why it was (or would be) renewed: the decision's reason, or `issued` when there was no certificate to check. */
  reason?: 'ari' | 'expiry' | 'forced' | 'issued';
  /** When it is due (not-due), or was. */
  dueAt?: Date;
  notAfter?: Date;
  /** The new certificate's serial, lower-case hex (renewed). */
  serial?: string;
  deployHook?: HookReport;
  /** The error line (failed, locked). */
  error?: string;
  /** The ARI answer came from `<cert_path>.ari.json` (no request). */
  ariCached?: boolean;
  durationMs: number;
}

export interface RenewAllResult {
  command: 'renew --all';
  directory: string;
  concurrency: number;
  /** The `--random-delay` sleep taken before starting. */
  randomDelayMs: number;
  startedAt: Date;
  durationMs: number;
  /** In path order. */
  certificates: RenewAllEntry[];
  counts: { total: number; renewed: number; notDue: number; failed: number; locked: number };
  /** HTTP requests sent to the CAs (directory, ARI, ACME) by this run. */
  requests: number;
  /** Set when any certificate failed: printed as the error line after the summary (exit 1). */
  failure?: string;
}

// ---- list DIR ------------------------------------------------------------------------------------

/** Where a listed certificate's ARI window came from, or why there is none. */
export type ListAriSource =
  /** fetched from the CA in this run */
  | 'fetched'
  /** the ARI cache beside the certificate, still fresh */
  | 'cached'
  /** `--offline`: no request was made */
  | 'offline'
  /** the CA's directory has no renewalInfo */
  | 'unsupported'
  /** the certificate has no Authority Key Identifier, so no certID */
  | 'no-cert-id'
  /** the CA or its ARI request failed (see `error`) */
  | 'error';

export interface ListedCertificate {
  renewalConfigPath: string;
  /** False when something is missing or unreadable (see `problems`): renew would issue anew or fail. */
  ok: boolean;
  /** What is wrong (a missing file, an unparsable certificate, a key that does not match…). */
  problems: string[];
  /** The rest is there as far as the renewal config could be read. */
  server?: string;
  identifiers?: Identifier[];
  challenge?: string;
  profile?: string;
  certificatePath?: string;
  certificateKeyPath?: string;
  certificate?: {
    /** The names in the leaf (DNS names, then IP addresses). */
    names: string[];
    /** Lower-case hex, no leading zeros. */
    serial: string;
    notBefore: Date;
    notAfter: Date;
    issuer: string;
    /** The leaf's key type (`ec:P-256`…), `unknown` when it cannot be told. */
    keyType: string;
    expired: boolean;
  };
  chain?: {
    /** Certificates in the file. */
    length: number;
    /** Each certificate is issued by the next one. */
    inOrder: boolean;
  };
  /** The certificate key file holds the leaf's key; absent when either could not be read. */
  keyMatches?: boolean;
  ari?: {
    source: ListAriSource;
    error?: string;
    /** Until when a cached answer is fresh (the CA's Retry-After). */
    freshUntil?: Date;
  };
  /** When akamu will renew (the ARI point, else the expiry rule); absent without a certificate. */
  decision?: RenewalDecision;
  /** `renew` renews at once whatever the decision says: the key does not match or the set is broken. */
  renewsNow: boolean;
}

export interface ListResult {
  command: 'list';
  /** The directory searched, absolute. */
  directory: string;
  offline: boolean;
  /** When the list was made (the decisions are relative to it). */
  checkedAt: Date;
  /** Sorted by first name, then by renewal config path. */
  certificates: ListedCertificate[];
}

// ---- ca info -------------------------------------------------------------------------------------

export interface CaInfoResult {
  command: 'ca info';
  server: string;
  termsOfService?: string;
  website?: string;
  caaIdentities: string[];
  /** In the directory's order; empty when the CA advertises none. */
  profiles: { name: string; description: string }[];
  ari: { supported: boolean; renewalInfoUrl?: string };
  /** The directory's `externalAccountRequired`; absent when it does not say. */
  externalAccountRequired?: boolean;
  keyChangeUrl: string;
  /** `newAuthz`: pre-authorization (RFC 8555 §7.4.1). */
  preAuthorizationUrl?: string;
  /**
   * Extensions the directory announces (dns-persist-01's issuer names, onion CAA, subdomains, STAR):
   * all a directory can say about the identifier and challenge types it accepts, which RFC 8555
   * does not list (the text shows them as "not advertised").
   */
  extensions: { name: string; detail: string }[];
  /** Any other `meta` members, as the CA sent them. */
  otherMeta: Record<string, unknown>;
}

// ---- install timer -------------------------------------------------------------------------------

export interface SystemdUnitFile {
  /** e.g. `akamu-renew.service` */
  name: string;
  path: string;
  content: string;
  /** `written`: new; `replaced`: was different (`--force`); `unchanged`: already so; `printed`: `--print-only`. */
  action: 'written' | 'replaced' | 'unchanged' | 'printed';
}

export interface InstallTimerResult {
  command: 'install timer';
  scope: 'system' | 'user';
  /** The certificate directory the timer renews, absolute. */
  directory: string;
  /** The service's command line, as systemd gets it. */
  execStart: string[];
  units: SystemdUnitFile[];
  /** What to run to activate it (not run by akamu). */
  enableCommands: string[];
  /** No renewal config below the directory yet (the timer is installed all the same). */
  noRenewalConfigs: boolean;
}

export type CompletionShell = 'bash' | 'zsh' | 'fish';

/** `completion <shell>`: the completion script for that shell, generated from the command tree. */
export interface CompletionResult {
  command: 'completion';
  shell: CompletionShell;
  script: string;
}

/**
 * What `import certbot` carries over from a lineage's renewal conf into akamu's renewal config.
 * Hook values are the operator's command lines, shown as certbot stored them; never a secret.
 */
export interface CertbotCarriedOver {
  /** `manual_auth_hook` → `certbot_auth_hook` (run through /bin/sh with certbot's CERTBOT_* variables). */
  authHook?: string;
  /** `manual_cleanup_hook` → `certbot_cleanup_hook`. */
  cleanupHook?: string;
  /** `renew_hook` (certbot's `--deploy-hook`) → `deploy_hook`, through a wrapper script setting RENEWED_LINEAGE / RENEWED_DOMAINS. */
  deployHook?: string;
  /** The wrapper script the import writes (0700) and `deploy_hook` names. */
  deployHookScript?: string;
  /** `reuse_key = True` → `reuse_key = true`. */
  reuseKey: boolean;
  /** `authenticator = dns-rfc2136` → the built-in RFC 2136 updater (the secret itself is never shown). */
  rfc2136?: { server?: string; keyName?: string; algorithm?: string; keyFile?: string; credentials: string; problem?: string };
}

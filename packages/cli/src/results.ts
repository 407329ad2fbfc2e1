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
  | IssueResult | RenewResult | RevokeResult | CertbotListResult | CertbotImportResult | RenewAllResult;

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

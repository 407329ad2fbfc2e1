/**
 * The command tree: every command, its options and help texts. Nothing here loads the library or a
 * command module: each action imports its command when it runs, so `--version` and `--help` stay
 * cheap. The option types every command receives are inferred from these definitions.
 */
import { Argument, Command, Option, type OptionValues } from '@commander-js/extra-typings';
import { DEFAULT_CERTBOT_DIR, LETS_ENCRYPT_DIRECTORY } from './defaults.js';
import { CLI_VERSION } from './version.js';
import type { CommandResult } from './results.js';
import type { Runtime } from './runtime.js';

/** How main.ts runs a command: it builds the runtime, awaits the command's result and renders it. */
export interface CommandRunner {
  setVerbosity(verbosity: number): void;
  /** Before the action runs: `--json` was given, and the command's name (`account show`). */
  setOutput(output: { json: boolean; command: string }): void;
  run(command: (rt: Runtime) => Promise<CommandResult>): Promise<void>;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const count = (_: string, previous: number): number => previous + 1;

type Sub<G extends OptionValues> = Command<[], {}, G>;
/** The options an action receives from a command defined by `define`. */
type OptionsOf<F extends (cmd: Sub<OptionValues>) => Command<[], OptionValues, OptionValues>> = ReturnType<ReturnType<F>['opts']>;

// ---- option groups -------------------------------------------------------------------------------
function withServer<O extends OptionValues, G extends OptionValues>(cmd: Command<[], O, G>) {
  return cmd
    .option('--server <URL>', 'ACME directory URL', LETS_ENCRYPT_DIRECTORY)
    .option('--server-ca <FILE>', 'extra PEM CA certificate to trust for the ACME server');
}

function withEab<O extends OptionValues, G extends OptionValues>(cmd: Command<[], O, G>) {
  return cmd
    .option('--eab-kid <KID>', 'External Account Binding key ID')
    .option('--eab-key <KEY_B64U>', 'EAB HMAC key, base64url without padding (visible in ps: prefer --eab-key-file or AKAMU_EAB_KEY)')
    .option('--eab-key-file <FILE>', 'read the EAB HMAC key (base64url without padding) from this file')
    .option('--eab-alg <ALG>', 'EAB HMAC algorithm: HS256, HS384 or HS512 (default: HS256)')
    .option('--gssapi-keytab <PATH>', 'Kerberos keytab for GSSAPI-authenticated EAB (GET /acme/eab with SPNEGO; needs the optional kerberos package)');
}

function withCertificate<O extends OptionValues, G extends OptionValues>(cmd: Command<[], O, G>) {
  return cmd
    .option('--key-type <TYPE>', 'account key type when generating a new key (default: ec:P-256)')
    .option('--cert-key-type <TYPE>', 'certificate key type (default: ec:P-256)')
    .option('--cert-key <FILE>', 'reuse this certificate private key (generated there if absent)')
    .option('--challenge <TYPE>', 'http-01, dns-01, dns-persist-01, dns-account-01, tls-alpn-01, onion-csr-01 or tkauth-01 (default: http-01)')
    .option('--dns-hook <CMD>', 'hook program for dns-01 / dns-persist-01 record management (called with add / remove; dns-account-01 too)')
    .option('--http-port <PORT>', 'port for the built-in http-01 server (default: 80)')
    .option('--tls-port <PORT>', 'port for the built-in tls-alpn-01 server (default: 443)')
    .option('--onion-key <FILE>', "Ed25519 hidden-service key for onion-csr-01: PKCS#8 PEM or Tor's hs_ed25519_secret_key")
    .option('--tkauth-url <URL>', 'Token Authority URL for tkauth-01: https:// (trusting --server-ca too) or http+unix://')
    .option('--tkauth-keytab <FILE>', 'Kerberos keytab for SPNEGO authentication to the Token Authority (tkauth-01)')
    .option('--jwtcc <B64URL>', 'base64url DER JWTClaimConstraints blob: the tkauth-01 order identifier (default: the one the Token Authority names)')
    .option('--poll-timeout <SECS>', 'maximum seconds to wait for validation and issuance (default: 120)')
    .option('--profile <NAME>', 'certificate profile to request');
}

/** The built-in RFC 2136 updater and the propagation check of the DNS challenges (issue, renew). */
function withDns<O extends OptionValues, G extends OptionValues>(cmd: Command<[], O, G>) {
  return cmd
    .option('--dns-rfc2136 <SERVER[:PORT]>', 'publish DNS challenge records by RFC 2136 DNS UPDATE to this primary server (port 53 by default)')
    .option('--tsig-key <FILE>', 'TSIG key for --dns-rfc2136, in BIND\'s key-file format (hmac-sha256 or hmac-sha512, as tsig-keygen writes it)')
    .option('--dns-zone <ZONE>', 'zone to update with --dns-rfc2136 (default: found by an SOA query to the server)')
    .option('--dns-resolver <HOST[:PORT]>', 'check propagation at this DNS server (default: the --dns-rfc2136 server, else the zone\'s authoritative servers)')
    .option('--dns-propagation-timeout <SECS>', 'longest wait for a DNS record to become visible (default: until --poll-timeout ends; 0 turns the check off)')
    .option('--no-propagation-check', 'trigger DNS challenges without waiting for their records to be visible');
}

/** http-01 through an existing web server, and the choice among the CA's chains (issue, renew). */
function withWebroot<O extends OptionValues, G extends OptionValues>(cmd: Command<[], O, G>) {
  return cmd
    .option('--webroot <DIR>', 'answer http-01 by writing the token to DIR/.well-known/acme-challenge/ (for a web server that owns port 80)')
    .option('--preferred-chain <ISSUER_CN>', "prefer the CA's chain whose top certificate is issued by this common name");
}

/** Deploy and failure hooks (issue and renew; stored in the renewal config). */
function withHooks<O extends OptionValues, G extends OptionValues>(cmd: Command<[], O, G>) {
  return cmd
    .option('--deploy-hook <CMD>', 'program run (no shell, no arguments; values in AKAMU_* variables) after each certificate issued or renewed')
    .option('--failure-hook <CMD>', 'program run (no shell, no arguments; values in AKAMU_* variables) when an issuance or renewal fails')
    .option('--hook-timeout <SECS>', 'seconds a deploy or failure hook may run before it is killed (default: 300)');
}

// ---- the commands --------------------------------------------------------------------------------
function defineRegister<G extends OptionValues>(cmd: Sub<G>) {
  return withEab(withServer(cmd.description('register a new ACME account')))
    .requiredOption('--account-key <FILE>', 'account key PEM (generated if absent)')
    .option('--key-type <TYPE>', 'key type to generate when the key file does not exist', 'ec:P-256')
    .option('--contact <URI>', 'contact URI, e.g. mailto:admin@example.com (repeatable)', collect, [] as string[])
    .option('--agree-tos', "agree to the server's terms of service", false);
}

function defineDeregister<G extends OptionValues>(cmd: Sub<G>) {
  return withServer(cmd.description('deactivate the account (RFC 8555 §7.3.6)'))
    .requiredOption('--account-key <FILE>', 'account key PEM');
}

function defineShow<G extends OptionValues>(cmd: Sub<G>) {
  return withServer(cmd.description('print the account URL, status and contacts'))
    .requiredOption('--account-key <FILE>', 'account key PEM');
}

function defineUpdate<G extends OptionValues>(cmd: Sub<G>) {
  return withServer(cmd.description('replace the account contact list'))
    .requiredOption('--account-key <FILE>', 'account key PEM')
    .option('--contact <URI>', 'new contact URI (repeatable); omit to clear all contacts', collect, [] as string[]);
}

function defineKeyChange<G extends OptionValues>(cmd: Sub<G>) {
  return withServer(cmd.description('roll the account key over to a new key (RFC 8555 §7.3.5)'))
    .requiredOption('--account-key <FILE>', 'current account key PEM (replaced by the new key on success)')
    .requiredOption('--new-key <FILE>', 'new key PEM (generated if absent)')
    // no default here: a type given for an existing --new-key is noted as ignored
    .option('--new-key-type <TYPE>', 'key type when --new-key does not exist (default: ec:P-256)');
}

function defineIssue<G extends OptionValues>(cmd: Sub<G>) {
  return withDns(withHooks(withWebroot(withEab(withCertificate(withServer(cmd.description('obtain a certificate')))))))
    .requiredOption('--account-key <FILE>', 'account key PEM (an account is registered if no URL sidecar exists)')
    .option('-d, --domain <DOMAIN>', 'domain to include (repeatable; the first becomes the CN)', collect, [] as string[])
    .requiredOption('--out <FILE>', 'where to write the PEM chain (leaf first)')
    .option('--contact <URI>', 'contact URI for an account this run registers, e.g. mailto:admin@example.com (repeatable)', collect, [] as string[])
    .option('--agree-tos', "agree to the server's terms of service (for an account this run registers)", false);
}

function defineRevoke<G extends OptionValues>(cmd: Sub<G>) {
  return withServer(cmd.description('revoke a certificate (RFC 8555 §7.6)'))
    .option('--account-key <FILE>', 'account key PEM (used unless --cert-key is given)')
    .requiredOption('--cert <FILE>', 'PEM file with the certificate to revoke')
    .option('--reason <N>', 'CRL reason code: 0–6 or 8–10')
    .option('--cert-key <FILE>', "sign with the certificate's own private key instead of the account key");
}

function defineRenew<G extends OptionValues>(cmd: Sub<G>) {
  const described = cmd.description('ARI-aware renewal (RFC 9773): renews only when due, or with --force')
    // no default here: the renewal config's server wins over Let's Encrypt
    .option('--server <URL>', `ACME directory URL (default: the renewal config's, else ${LETS_ENCRYPT_DIRECTORY})`)
    .option('--server-ca <FILE>', 'extra PEM CA certificate to trust for the ACME server');
  return withDns(withHooks(withWebroot(withEab(withCertificate(described)))))
    .option('--renewal-config <FILE>', 'load every setting from a .renewal.toml (explicit flags override single fields)')
    .option('--all <DIR>', 'renew every *.renewal.toml below DIR that is due (explicit flags override single fields of each)')
    .option('--concurrency <N>', 'with --all: certificates worked on at once (default: 4)')
    .option('--random-delay <SECS>', 'with --all: first sleep a random time of up to SECS seconds (for cron fleets)')
    .option('--account-key <FILE>', 'account key PEM (required unless --renewal-config)')
    .option('-d, --domain <DOMAIN>', 'domains for the new certificate (required unless --renewal-config)', collect, [] as string[])
    .option('--out <FILE>', 'where to write the new PEM chain (required unless --renewal-config)')
    .option('--cert <FILE>', 'existing certificate to check against ARI (default with --renewal-config: its cert_path)')
    .option('--force', 'renew now, whatever the renewal window says', false);
}

function defineImportCertbot<G extends OptionValues>(cmd: Sub<G>) {
  return cmd.description('import the account and certificates of a certbot installation')
    .option('--certbot-dir <DIR>', 'certbot configuration directory', DEFAULT_CERTBOT_DIR)
    .option('--account-key <FILE>', 'where to write the imported account key PEM (must not exist; required unless --list)')
    .option('--server <URL>', 'import the account registered with this ACME directory URL (required when there are several)')
    .option('-d, --domain <DOMAIN>', 'import only certificates for this domain (repeatable; default: all)', collect, [] as string[])
    .option('--cert-dir <DIR>', 'directory for the imported chains, keys and renewal configs (created if absent)')
    .option('--dns-challenge <TYPE>', 'challenge type for DNS-based certbot configs: dns-01 or dns-persist-01', 'dns-01')
    .option('--dns-hook <CMD>', 'DNS hook program to store in the generated renewal configs')
    .option('--dry-run', 'show what would be done without writing any file', false)
    .option('--list', 'list the certbot accounts and renewal configurations, then exit', false);
}

function defineList<G extends OptionValues>(cmd: Sub<G>) {
  return cmd.description('show every certificate below DIR: names, expiry, key, ARI window and when it renews')
    .argument('<DIR>', 'directory searched (recursively) for *.renewal.toml files')
    .option('--server-ca <FILE>', "extra PEM CA certificate to trust for the CAs' TLS connections")
    .option('--offline', "ask no CA for its ARI window: a fresh answer in the ARI cache, else the expiry rule's time", false);
}

function defineCaInfo<G extends OptionValues>(cmd: Sub<G>) {
  return withServer(cmd.description('show what a CA offers (terms, profiles, ARI, EAB, …) from its directory'));
}

function defineInstallTimer<G extends OptionValues>(cmd: Sub<G>) {
  return cmd.description("install a systemd service and hourly timer that run 'renew --all DIR'")
    .argument('<DIR>', 'directory whose renewal configs the timer renews')
    .option('--user', 'user units (~/.config/systemd/user) instead of system units (/etc/systemd/system)', false)
    .option('--unit-name <NAME>', 'name of the service and timer units', 'akamu-renew')
    .option('--server-ca <FILE>', "extra PEM CA certificate the service passes to renew --all (for a private CA's TLS)")
    .option('--print-only', 'print the units instead of writing them', false)
    .option('--force', 'replace existing units of that name that differ', false)
    // tests (and packagers building an image) write the units elsewhere
    .addOption(new Option('--unit-dir <DIR>', 'write the units to this directory').hideHelp());
}

/** The options of a command that takes arguments (OptionsOf is for those without). */
type ArgOptionsOf<F extends (cmd: Sub<OptionValues>) => { opts(): OptionValues }> = ReturnType<ReturnType<F>['opts']>;
export type ListOptions = ArgOptionsOf<typeof defineList>;
export type CaInfoOptions = OptionsOf<typeof defineCaInfo>;
export type InstallTimerOptions = ArgOptionsOf<typeof defineInstallTimer>;

function defineCompletion<G extends OptionValues>(cmd: Sub<G>) {
  return cmd.description('print a shell completion script (bash, zsh or fish), generated from this command tree')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(['bash', 'zsh', 'fish'] as const));
}

export type RegisterOptions = OptionsOf<typeof defineRegister>;
export type DeregisterOptions = OptionsOf<typeof defineDeregister>;
export type ShowOptions = OptionsOf<typeof defineShow>;
export type UpdateOptions = OptionsOf<typeof defineUpdate>;
export type KeyChangeOptions = OptionsOf<typeof defineKeyChange>;
export type IssueOptions = OptionsOf<typeof defineIssue>;
export type RevokeOptions = OptionsOf<typeof defineRevoke>;
export type RenewOptions = OptionsOf<typeof defineRenew>;
export type ImportCertbotOptions = OptionsOf<typeof defineImportCertbot>;

/** `account show` for the `show` below `account`: the command's name as typed, without the program's. */
function commandPath(cmd: { name(): string; parent: { name(): string; parent: unknown } | null }): string {
  const names: string[] = [];
  for (let c: typeof cmd | null = cmd; c?.parent; c = c.parent as typeof cmd | null) names.unshift(c.name());
  return names.join(' ');
}

export function buildProgram(runner: CommandRunner, output: { writeOut(s: string): void; writeErr(s: string): void }) {
  const program = new Command()
    .name('akamu-cli')
    .description('ACME client: accounts, issuance, renewal and revocation of certificates')
    .version(CLI_VERSION, '--version', 'print the version')
    .addOption(new Option('-v, --verbose', 'more logging: -v debug, -vv adds HTTP and TLS details').argParser(count).default(0))
    .configureHelp({ showGlobalOptions: true })
    .configureOutput(output)
    .exitOverride()
    .showSuggestionAfterError(true)
    .addOption(new Option('--json', 'print one JSON document on stdout (the result, or the error) instead of text').default(false))
    .hook('preAction', (thisCommand, actionCommand) => {
      runner.setVerbosity(Number(thisCommand.opts().verbose));
      runner.setOutput({ json: thisCommand.opts().json === true, command: commandPath(actionCommand) });
    });
  /** An action that imports its command module only when it runs. */
  const lazy = <M, O>(load: () => Promise<M>, pick: (m: M) => (opts: O, rt: Runtime) => Promise<CommandResult>) =>
    (opts: O): Promise<void> => runner.run(async (rt) => pick(await load())(opts, rt));
  const accountCommands = () => import('./commands/account.js');

  const account = program.command('account').description('manage the ACME account');
  defineRegister(account.command('register')).action(lazy(accountCommands, (m) => m.accountRegister));
  defineDeregister(account.command('deregister')).action(lazy(accountCommands, (m) => m.accountDeregister));
  defineShow(account.command('show')).action(lazy(accountCommands, (m) => m.accountShow));
  defineUpdate(account.command('update')).action(lazy(accountCommands, (m) => m.accountUpdate));
  defineKeyChange(account.command('key-change')).action(lazy(accountCommands, (m) => m.accountKeyChange));

  defineIssue(program.command('issue')).action(lazy(() => import('./commands/issue.js'), (m) => m.issue));
  defineRevoke(program.command('revoke')).action(lazy(() => import('./commands/revoke.js'), (m) => m.revoke));
  defineRenew(program.command('renew')).action(lazy(() => import('./commands/renew.js'), (m) => m.renew));

  const imports = program.command('import').description('import accounts and certificates from other ACME clients');
  defineImportCertbot(imports.command('certbot')).action(lazy(() => import('./commands/import-certbot.js'), (m) => m.importCertbot));

  defineList(program.command('list'))
    .action((dir, opts) => runner.run(async (rt) => (await import('./commands/list.js')).list(dir, opts, rt)));
  const ca = program.command('ca').description("look at a CA's offer");
  defineCaInfo(ca.command('info')).action(lazy(() => import('./commands/ca-info.js'), (m) => m.caInfo));
  const install = program.command('install').description('install akamu into the system');
  defineInstallTimer(install.command('timer'))
    .action((dir, opts) => runner.run(async (rt) => (await import('./commands/install-timer.js')).installTimer(dir, opts, rt)));
  // the script is generated from `program` itself when it runs: every command of the tree, wherever defined
  defineCompletion(program.command('completion')).action((shell) =>
    runner.run(async () => (await import('./commands/completion.js')).completion(program, shell)));
  return program;
}

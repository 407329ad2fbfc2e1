/** akamu-cli entry point: arguments → one command function; exit codes; `error:` lines. */
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { createInterface, type Interface } from 'node:readline';
import { AkamuError, UsageError, UnsupportedError } from 'akamu-client';
import { createLogger, logConfig } from './log.js';
import { CLI_VERSION } from './version.js';
import { LETS_ENCRYPT_DIRECTORY, type Runtime } from './context.js';
import { accountRegister, accountShow, accountUpdate, accountDeregister, accountKeyChange } from './commands/account.js';
import { issue } from './commands/issue.js';
import { revoke } from './commands/revoke.js';
import { importCertbot, DEFAULT_CERTBOT_DIR } from './commands/import-certbot.js';
import { renew } from './commands/renew.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const count = (_: string, previous: number): number => previous + 1;

let verbosity = 0;

function runtime(): Runtime {
  const log = createLogger(logConfig(verbosity));
  return {
    log,
    out: (line) => process.stdout.write(`${line}\n`),
    note: (line) => process.stderr.write(`${line}\n`),
    prompt: stdinPrompt,
  };
}

// ---- stdin prompts (manual DNS challenges) -------------------------------------------------------
let rl: Interface | undefined;
const pendingLines: string[] = [];
const waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
let stdinClosed = false;
/** A prompt was printed without a newline and is still waiting for its answer. */
let promptOpen = false;

function stdinPrompt(text: string): Promise<string> {
  process.stderr.write(text);
  promptOpen = !text.endsWith('\n');
  return new Promise<string>((resolve, reject) => {
    const line = pendingLines.shift();
    if (line !== undefined) return resolve(line);
    if (stdinClosed) return reject(new Error('stdin closed (EOF)'));
    waiters.push({ resolve, reject });
    if (!rl) {
      rl = createInterface({ input: process.stdin, terminal: false });
      rl.on('line', (l) => {
        const w = waiters.shift();
        if (w) w.resolve(l);
        else pendingLines.push(l);
      });
      rl.on('close', () => {
        stdinClosed = true;
        for (const w of waiters.splice(0)) w.reject(new Error('stdin closed (EOF)'));
      });
    }
  }).then((line) => {
    promptOpen = false; // the operator's Enter ended the line
    return line;
  });
}

// ---- option groups -------------------------------------------------------------------------------
function serverOptions<T extends Command<[], Record<string, unknown>>>(cmd: T, withDefault = true) {
  return cmd
    .option(
      '--server <URL>',
      withDefault ? 'ACME directory URL' : `ACME directory URL (default: the renewal config's, else ${LETS_ENCRYPT_DIRECTORY})`,
      withDefault ? LETS_ENCRYPT_DIRECTORY : undefined,
    )
    .option('--server-ca <FILE>', 'extra PEM CA certificate to trust for the ACME server');
}

function eabOptions<T extends Command<[], Record<string, unknown>>>(cmd: T) {
  return cmd
    .option('--eab-kid <KID>', 'External Account Binding key ID')
    .option('--eab-key <KEY_B64U>', 'EAB HMAC key, base64url without padding')
    .option('--eab-alg <ALG>', 'EAB HMAC algorithm: HS256, HS384 or HS512 (default: HS256)')
    .option('--gssapi-keytab <PATH>', 'Kerberos keytab for GSSAPI-authenticated EAB (not supported yet)');
}

function certOptions<T extends Command<[], Record<string, unknown>>>(cmd: T) {
  return cmd
    .option('--key-type <TYPE>', 'account key type when generating a new key (default: ec:P-256)')
    .option('--cert-key-type <TYPE>', 'certificate key type (default: ec:P-256)')
    .option('--cert-key <FILE>', 'reuse this certificate private key (generated there if absent)')
    .option('--challenge <TYPE>', 'http-01, dns-01, dns-persist-01, tls-alpn-01, onion-csr-01 or tkauth-01 (default: http-01)')
    .option('--dns-hook <CMD>', 'hook program for dns-01 record management (called with add / remove)')
    .option('--http-port <PORT>', 'port for the built-in http-01 server (default: 80)')
    .option('--tls-port <PORT>', 'port for the built-in tls-alpn-01 server (default: 443)')
    .option('--onion-key <FILE>', 'Ed25519 hidden-service key for onion-csr-01 (not supported yet)')
    .option('--tkauth-url <URL>', 'Token Authority URL for tkauth-01 (not supported yet)')
    .option('--tkauth-keytab <FILE>', 'Kerberos keytab for the Token Authority (not supported yet)')
    .option('--jwtcc <B64URL>', 'JWTClaimConstraints identifier for tkauth-01 (not supported yet)')
    .option('--poll-timeout <SECS>', 'maximum seconds to wait for validation and issuance (default: 120)')
    .option('--profile <NAME>', 'certificate profile to request');
}

export function buildProgram(): Command {
  const program = new Command()
    .name('akamu-cli')
    .description('ACME client: accounts, issuance, renewal and revocation of certificates')
    .version(CLI_VERSION, '--version', 'print the version')
    .addOption(new Option('-v, --verbose', 'more logging: -v debug, -vv adds HTTP and TLS details').argParser(count).default(0))
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showSuggestionAfterError(true)
    .hook('preAction', (thisCommand) => {
      verbosity = Number(thisCommand.opts().verbose ?? 0);
    });

  const account = program.command('account').description('manage the ACME account');

  eabOptions(serverOptions(account.command('register').description('register a new ACME account')))
    .requiredOption('--account-key <FILE>', 'account key PEM (generated if absent)')
    .option('--key-type <TYPE>', 'key type to generate when the key file does not exist', 'ec:P-256')
    .option('--contact <URI>', 'contact URI, e.g. mailto:admin@example.com (repeatable)', collect, [] as string[])
    .option('--agree-tos', "agree to the server's terms of service", false)
    .action(async (opts) => accountRegister(opts as never, runtime()));

  serverOptions(account.command('deregister').description('deactivate the account (RFC 8555 §7.3.6)'))
    .requiredOption('--account-key <FILE>', 'account key PEM')
    .action(async (opts) => accountDeregister(opts as never, runtime()));

  serverOptions(account.command('show').description('print the account URL, status and contacts'))
    .requiredOption('--account-key <FILE>', 'account key PEM')
    .action(async (opts) => accountShow(opts as never, runtime()));

  serverOptions(account.command('update').description('replace the account contact list'))
    .requiredOption('--account-key <FILE>', 'account key PEM')
    .option('--contact <URI>', 'new contact URI (repeatable); omit to clear all contacts', collect, [] as string[])
    .action(async (opts) => accountUpdate(opts as never, runtime()));

  serverOptions(account.command('key-change').description('roll the account key over to a new key (RFC 8555 §7.3.5)'))
    .requiredOption('--account-key <FILE>', 'current account key PEM (replaced by the new key on success)')
    .requiredOption('--new-key <FILE>', 'new key PEM (generated if absent)')
    .option('--new-key-type <TYPE>', 'key type when --new-key does not exist', 'ec:P-256')
    .action(async (opts) => accountKeyChange(opts as never, runtime()));

  eabOptions(certOptions(serverOptions(program.command('issue').description('obtain a certificate'))))
    .requiredOption('--account-key <FILE>', 'account key PEM (an account is registered if no URL sidecar exists)')
    .option('-d, --domain <DOMAIN>', 'domain to include (repeatable; the first becomes the CN)', collect, [] as string[])
    .requiredOption('--out <FILE>', 'where to write the PEM chain (leaf first)')
    .action(async (opts) => issue(opts as never, runtime()));

  serverOptions(program.command('revoke').description('revoke a certificate (RFC 8555 §7.6)'))
    .option('--account-key <FILE>', 'account key PEM (used unless --cert-key is given)')
    .requiredOption('--cert <FILE>', 'PEM file with the certificate to revoke')
    .option('--reason <N>', 'CRL reason code: 0–6 or 8–10')
    .option('--cert-key <FILE>', "sign with the certificate's own private key instead of the account key")
    .action(async (opts) => revoke(opts as never, runtime()));

  eabOptions(certOptions(serverOptions(program.command('renew').description('ARI-aware renewal (RFC 9773): renews only when due, or with --force'), false)))
    .option('--renewal-config <FILE>', 'load every setting from a .renewal.toml (explicit flags override single fields)')
    .option('--account-key <FILE>', 'account key PEM (required unless --renewal-config)')
    .option('-d, --domain <DOMAIN>', 'domains for the new certificate (required unless --renewal-config)', collect, [] as string[])
    .option('--out <FILE>', 'where to write the new PEM chain (required unless --renewal-config)')
    .option('--cert <FILE>', 'existing certificate to check against ARI (default with --renewal-config: its cert_path)')
    .option('--force', 'renew now, whatever the renewal window says', false)
    .action(async (opts) => renew(opts as never, runtime()));

  program.command('import')
    .description('import accounts and certificates from other ACME clients')
    .command('certbot')
    .description('import the account and certificates of a certbot installation')
    .option('--certbot-dir <DIR>', 'certbot configuration directory', DEFAULT_CERTBOT_DIR)
    .option('--account-key <FILE>', 'where to write the imported account key PEM (must not exist; required unless --list)')
    .option('--server <URL>', 'import the account registered with this ACME directory URL (required when there are several)')
    .option('-d, --domain <DOMAIN>', 'import only certificates for this domain (repeatable; default: all)', collect, [] as string[])
    .option('--cert-dir <DIR>', 'directory for the imported chains, keys and renewal configs (created if absent)')
    .option('--dns-challenge <TYPE>', 'challenge type for DNS-based certbot configs: dns-01 or dns-persist-01', 'dns-01')
    .option('--dns-hook <CMD>', 'DNS hook program to store in the generated renewal configs')
    .option('--dry-run', 'show what would be done without writing any file', false)
    .option('--list', 'list the certbot accounts and renewal configurations, then exit', false)
    .action(async (opts) => importCertbot(opts, runtime()));
  return program as unknown as Command;
}

function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof UnsupportedError) return 2;
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${promptOpen ? '\n' : ''}error: ${message}\n`);
    if (verbosity >= 2 && err instanceof Error && err.stack && !(err instanceof AkamuError && err.code === 'usage')) {
      process.stderr.write(`${err.stack}\n`);
    }
    return exitCodeFor(err);
  } finally {
    rl?.close();
  }
}

const code = await main(process.argv);
process.exit(code);

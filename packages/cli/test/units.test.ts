/** Unit tests of the CLI's own pieces: log configuration, renewal config, atomic writes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as toml from 'smol-toml';
import { logConfig, createLogger } from '../src/log.js';
import { parseRenewalConfig, renderRenewalConfig, renewalConfigFromOptions, renewalConfigOptions, type RenewalConfig } from '../src/files/renewal-config.js';
import { writeFileAtomic, writeFilesAtomic } from '../src/files/atomic.js';
import { tempDir } from '../../testkit/src/index.js';

describe('log configuration', () => {
  const lines = (verbosity: number, env: NodeJS.ProcessEnv, target: string) => {
    const out: string[] = [];
    const log = createLogger(logConfig(verbosity, env), target, (l) => out.push(l));
    log.warn('w');
    log.info('i');
    log.debug('d');
    log.trace('t');
    return out.map((l) => l.split(' ')[0]!.trim());
  };

  it('defaults to warn; -v gives the client debug; -vv adds http', () => {
    assert.deepEqual(lines(0, {}, 'akamu_client'), ['WARN']);
    assert.deepEqual(lines(1, {}, 'akamu_client'), ['WARN', 'INFO', 'DEBUG']);
    assert.deepEqual(lines(1, {}, 'http'), ['WARN']);
    assert.deepEqual(lines(2, {}, 'http'), ['WARN', 'INFO', 'DEBUG']);
  });

  it('AKAMU_LOG takes a level or target=level pairs; RUST_LOG is an alias; AKAMU_LOG wins', () => {
    assert.deepEqual(lines(0, { AKAMU_LOG: 'info' }, 'http'), ['WARN', 'INFO']);
    assert.deepEqual(lines(0, { AKAMU_LOG: 'akamu_client=trace,http=error' }, 'akamu_client'), ['WARN', 'INFO', 'DEBUG', 'TRACE']);
    assert.deepEqual(lines(0, { AKAMU_LOG: 'akamu_client=trace,http=error' }, 'http'), []);
    assert.deepEqual(lines(0, { RUST_LOG: 'debug' }, 'akamu_cli'), ['WARN', 'INFO', 'DEBUG']);
    assert.deepEqual(lines(0, { RUST_LOG: 'hyper_util=debug' }, 'http'), ['WARN', 'INFO', 'DEBUG'], 'the original tool\'s target names map onto ours');
    assert.deepEqual(lines(0, { AKAMU_LOG: 'error', RUST_LOG: 'trace' }, 'akamu_cli'), []);
  });

  it('a bare level in RUST_LOG / AKAMU_LOG overrides -v and -vv: it lowers as well as raises', () => {
    assert.deepEqual(lines(1, { RUST_LOG: 'warn' }, 'akamu_client'), ['WARN']);
    assert.deepEqual(lines(1, { RUST_LOG: 'warn' }, 'akamu_cli'), ['WARN']);
    assert.deepEqual(lines(2, { AKAMU_LOG: 'warn' }, 'http'), ['WARN']);
    assert.deepEqual(lines(2, { AKAMU_LOG: 'info' }, 'http'), ['WARN', 'INFO']);
    assert.deepEqual(lines(0, { RUST_LOG: 'trace' }, 'http'), ['WARN', 'INFO', 'DEBUG', 'TRACE']);
  });

  it('target pairs override the flags too; a variable without a valid directive leaves them', () => {
    assert.deepEqual(lines(1, { AKAMU_LOG: 'http=debug' }, 'akamu_client'), ['WARN'], '-v no longer applies');
    assert.deepEqual(lines(1, { AKAMU_LOG: 'http=debug' }, 'http'), ['WARN', 'INFO', 'DEBUG']);
    assert.deepEqual(lines(1, { AKAMU_LOG: 'loud' }, 'akamu_client'), ['WARN', 'INFO', 'DEBUG']);
  });

  it('the logger says whether a level is shown (costly details are only worked out when they are)', () => {
    const log = createLogger(logConfig(0, {}), 'akamu_cli', () => {});
    assert.equal(log.enabled('warn'), true);
    assert.equal(log.enabled('info'), false);
    assert.equal(createLogger(logConfig(1, {}), 'akamu_cli', () => {}).enabled('debug'), true);
    assert.equal(createLogger(logConfig(0, { AKAMU_LOG: 'info' }), 'akamu_cli', () => {}).child('http').enabled('info'), true);
  });
});

describe('renewal config', () => {
  const base: RenewalConfig = {
    server: 'https://acme.test/dir', domains: [{ type: 'dns', value: 'a.test' }, { type: 'dns', value: '*.a.test' }],
    account_key: '/k.pem', account_key_type: 'ec:P-256', cert_path: '/c.pem', cert_key_path: '/c.pem.key.pem',
    cert_key_type: 'rsa:2048', challenge_type: 'dns-01', http_port: 80, tls_port: 443, poll_timeout: 120,
    eab_alg: 'HS256', contacts: ['mailto:a@test'], eab_kid: 'kid', eab_key: 'c2VjcmV0', dns_hook: '/hook', profile: 'shortlived',
  };

  it('round-trips, never writes eab_key, keeps [[domains]] last', async () => {
    const text = await renderRenewalConfig(base);
    assert.doesNotMatch(text, /eab_key|c2VjcmV0/);
    assert.match(text, /\[\[domains\]\]\ntype = "dns"\nvalue = "a\.test"\n\n\[\[domains\]\]\ntype = "dns"\nvalue = "\*\.a\.test"\n*$/);
    const { eab_key: _dropped, ...expected } = base;
    assert.deepEqual(parseRenewalConfig(text, 'x.toml', toml), expected);
  });

  it('writes the file byte for byte as before: field order, comment line, optional fields only when set', async () => {
    const full: RenewalConfig = {
      server: 'https://acme.test/dir', domains: [{ type: 'dns', value: 'a.test' }, { type: 'ip', value: '10.0.0.1' }],
      account_key: '/k.pem', account_key_type: 'ec:P-256', cert_path: '/c.pem', cert_key_path: '/c.pem.key.pem',
      cert_key_type: 'rsa:2048', challenge_type: 'dns-01', http_port: 80, tls_port: 443, poll_timeout: 120,
      eab_alg: 'HS256', contacts: ['mailto:a@test', 'mailto:b@test'], onion_key: '/onion', eab_kid: 'kid', eab_key: 'c2VjcmV0',
      gssapi_keytab: '/g.keytab', dns_hook: '/hook', profile: 'shortlived', tkauth_url: 'https://ta.test', tkauth_keytab: '/ta.keytab', jwtcc: 'AAAA',
    };
    assert.equal(await renderRenewalConfig(full), "# written by akamu-cli; renew with: akamu-cli renew --renewal-config <this file>\nserver = \"https://acme.test/dir\"\naccount_key = \"/k.pem\"\naccount_key_type = \"ec:P-256\"\ncert_path = \"/c.pem\"\ncert_key_path = \"/c.pem.key.pem\"\ncert_key_type = \"rsa:2048\"\nchallenge_type = \"dns-01\"\nhttp_port = 80\ntls_port = 443\npoll_timeout = 120\neab_alg = \"HS256\"\ncontacts = [ \"mailto:a@test\", \"mailto:b@test\" ]\nonion_key = \"/onion\"\neab_kid = \"kid\"\ngssapi_keytab = \"/g.keytab\"\ndns_hook = \"/hook\"\nprofile = \"shortlived\"\ntkauth_url = \"https://ta.test\"\ntkauth_keytab = \"/ta.keytab\"\njwtcc = \"AAAA\"\n\n[[domains]]\ntype = \"dns\"\nvalue = \"a.test\"\n\n[[domains]]\ntype = \"ip\"\nvalue = \"10.0.0.1\"\n\n");
    const min: RenewalConfig = {
      server: 's', domains: [{ type: 'dns', value: 'x.test' }], account_key: 'a', account_key_type: 'ec:P-384', cert_path: 'c',
      cert_key_path: 'k', cert_key_type: 'ed25519', challenge_type: 'http-01', http_port: 5002, tls_port: 5001, poll_timeout: 30,
      eab_alg: 'HS512', contacts: [],
    };
    assert.equal(await renderRenewalConfig(min), "# written by akamu-cli; renew with: akamu-cli renew --renewal-config <this file>\nserver = \"s\"\naccount_key = \"a\"\naccount_key_type = \"ec:P-384\"\ncert_path = \"c\"\ncert_key_path = \"k\"\ncert_key_type = \"ed25519\"\nchallenge_type = \"http-01\"\nhttp_port = 5002\ntls_port = 5001\npoll_timeout = 30\neab_alg = \"HS512\"\ncontacts = []\n\n[[domains]]\ntype = \"dns\"\nvalue = \"x.test\"\n\n");
  });

  it('applies the reference defaults and ignores unknown fields', () => {
    const cfg = parseRenewalConfig([
      'server = "https://acme.test/dir"', 'account_key = "/k.pem"', 'cert_path = "/c.pem"', 'cert_key_path = "/c.key"',
      'future_field = "from a newer version"', 'account_url = "https://acme.test/acct/1"',
      '[[domains]]', 'value = "a.test"',
    ].join('\n'), 'x.toml', toml);
    assert.deepEqual(cfg, {
      server: 'https://acme.test/dir', domains: [{ type: 'dns', value: 'a.test' }], account_key: '/k.pem',
      account_key_type: 'ec:P-256', cert_path: '/c.pem', cert_key_path: '/c.key', cert_key_type: 'ec:P-256',
      challenge_type: 'http-01', http_port: 80, tls_port: 443, poll_timeout: 120, eab_alg: 'HS256', contacts: [],
    });
  });

  it('maps to and from option names through the field table; defaults fill what is not given', () => {
    assert.deepEqual(renewalConfigFromOptions(renewalConfigOptions(base), { contacts: base.contacts }), base);
    assert.deepEqual(renewalConfigFromOptions({ server: 's', accountKey: 'a', out: 'c', certKey: 'k', identifiers: [{ type: 'dns', value: 'x.test' }], httpPort: 8080 }), {
      server: 's', account_key: 'a', account_key_type: 'ec:P-256', cert_path: 'c', cert_key_path: 'k', cert_key_type: 'ec:P-256',
      challenge_type: 'http-01', http_port: 8080, tls_port: 443, poll_timeout: 120, eab_alg: 'HS256', contacts: [],
      domains: [{ type: 'dns', value: 'x.test' }],
    });
    assert.equal(renewalConfigOptions(base).eabKey, 'c2VjcmV0', 'eab_key is read (and merged), only never written');
  });

  it('names the file and the field in errors', () => {
    assert.throws(() => parseRenewalConfig('server = ', 'bad.toml', toml), /^UsageError: cannot parse bad\.toml/);
    assert.throws(() => parseRenewalConfig('server = "s"\naccount_key = "k"\ncert_path = "c"\ncert_key_path = "k"', 'x.toml', toml), /x\.toml: 'domains' must list at least one/);
    assert.throws(() => parseRenewalConfig('server = "s"\naccount_key = "k"\ncert_path = "c"\ncert_key_path = "k"\nhttp_port = 70000\n[[domains]]\nvalue = "a"', 'x.toml', toml), /'http_port' must be an integer between 0 and 65535/);
    assert.throws(() => parseRenewalConfig('account_key = "k"\ncert_path = "c"\ncert_key_path = "k"\n[[domains]]\nvalue = "a"', 'x.toml', toml), /'server' is missing/);
  });
});

describe('atomic writes', () => {
  it('replace a 0644 file with a 0600 one and leave no temporary files', async () => {
    const dir = tempDir();
    const p = join(dir, 'f.pem');
    writeFileSync(p, 'old');
    chmodSync(p, 0o644);
    await writeFileAtomic(p, 'new');
    assert.equal(readFileSync(p, 'utf8'), 'new');
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['f.pem']);
  });

  it('a failing batch leaves every old file untouched', async () => {
    const dir = tempDir();
    const a = join(dir, 'a');
    writeFileSync(a, 'old-a');
    await assert.rejects(writeFilesAtomic([{ path: a, data: 'new-a' }, { path: join(dir, 'missing-dir', 'b'), data: 'b' }]));
    assert.equal(readFileSync(a, 'utf8'), 'old-a');
    assert.deepEqual(readdirSync(dir), ['a']);
  });
});

/**
 * `--json` (issue 12, item 1): every command's document from the built CLI against Pebble (and the
 * test CA for a problem with subproblems), parsed with JSON.parse; errors as JSON with the exit
 * codes of text mode; the generic renderer in-process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AcmeProblemError, AuthorizationFailedError, type Authorization } from 'akamu-client';
import { certbotCertonly, certbotTree, cliBin, freePort, startTestCa, type CertbotTree, type TestCa } from '../../testkit/src/index.js';
import { writeSlowDnsHook } from '../../testkit/src/processes.js';
import { JsonCollector, plain, serialise } from '../src/render/json.js';
import { errorObject } from '../src/render/json-error.js';
import { StepError } from '../src/errors.js';
import type { CommandResult } from '../src/results.js';
import { setup, runCli, openssl, tempDir, serialOf, type Env, type RunResult } from './helpers.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The one JSON document on stdout: a single line, `version` first, then `command` (when known). */
function documentOf(r: RunResult): Doc {
  assert.equal(r.stdout.split('\n').length, 2, `one line and its newline on stdout:\n${r.stdout}`);
  const doc = JSON.parse(r.stdout) as Doc;
  assert.equal(Object.keys(doc)[0], 'version');
  assert.equal(doc.version, 1);
  assert.ok(Array.isArray(doc.events) && Array.isArray(doc.notes), r.stdout);
  return doc;
}

/** A successful run's document; nothing on stderr (no notes as text, no logs at the default level). */
function success(r: RunResult, command: string): Doc {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stderr, '', 'nothing on stderr');
  const doc = documentOf(r);
  assert.equal(Object.keys(doc)[1], 'command');
  assert.equal(doc.command, command);
  assert.equal(doc.error, undefined);
  return doc;
}

/** Tokens and other random parts of URLs, which differ from run to run. */
const unrandom = (s: string): string => s.replace(/[A-Za-z0-9_-]{16,}/g, '…');

/**
 * A failed run's document; the same failure in text mode (`text`) exits with the same code, and
 * its `error:` line (when it prints one: a missing subcommand prints the help) is the message.
 */
async function failure(args: string[], code: number, text: () => Promise<RunResult>, opts: { errorLine?: boolean } = {}): Promise<Doc> {
  const r = await runCli(['--json', ...args]);
  assert.equal(r.code, code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stderr, '', 'the error is in the document, not on stderr');
  const doc = documentOf(r);
  assert.equal(doc.error.exitCode, code);
  const t = await text();
  assert.equal(t.code, code, `text mode exits ${code} too: ${t.stderr}`);
  if (opts.errorLine !== false) {
    const lines = t.stderr.split('\n');
    const at = lines.findIndex((l) => l.startsWith('error: '));
    assert.ok(at >= 0, t.stderr);
    assert.equal(unrandom(lines.slice(at).join('\n').replace(/^error: /, '').trimEnd()), unrandom(doc.error.message), 'message = the text after "error: "');
  }
  return doc;
}

describe('--json against Pebble', () => {
  let env: Env;
  let key: string;
  let url: string;
  let out: string;
  before(async () => {
    env = await setup();
    key = join(env.dir, 'acct', 'account.pem');
    out = join(env.dir, 'certs', 'json.example.pem');
  });
  after(async () => env.pebble.stop());

  const issueArgs = (names: string[], target: string, port = env.pebble.httpPort) =>
    ['issue', ...env.server, '--account-key', key, '--http-port', String(port), ...names.flatMap((n) => ['-d', n]), '--out', target];

  it('account register: the account, whether it was created, the generated key (before or after the command name)', async () => {
    const doc = success(await runCli(['--json', 'account', 'register', ...env.server, '--account-key', key, '--agree-tos',
      '--contact', 'mailto:json@example.com']), 'account register');
    assert.match(doc.account.url, /^https:\/\/127\.0\.0\.1:\d+\//);
    url = doc.account.url;
    assert.deepEqual(doc.account.contacts, ['mailto:json@example.com']);
    assert.equal(doc.account.status, 'valid');
    assert.equal(doc.created, true);
    assert.equal(doc.accountKeyPath, key);
    assert.equal(doc.accountUrlPath, `${key}.account-url`);
    assert.deepEqual(doc.generatedKey, { path: key, keyType: 'ec:P-256' });
    assert.deepEqual(doc.events, [{ type: 'key-generated', key: { path: key, keyType: 'ec:P-256' } }]);

    // again, --json after the command: the account exists; text mode's notes are in the document
    const again = success(await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos',
      '--contact', 'mailto:other@example.com', '--json']), 'account register');
    assert.equal(again.created, false);
    assert.equal(again.contactsDiffer, true);
    assert.equal(again.account.url, url);
    assert.equal(again.notes.length, 2);
    assert.match(again.notes[0], /^Note: the server already had an account for this key; its URL was saved to /);
    assert.match(again.notes[1], /^Note: the account's contacts \(mailto:json@example\.com\) differ from --contact \(mailto:other@example\.com\)/);
    // text mode prints the same notes on stderr
    const text = await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos', '--contact', 'mailto:other@example.com']);
    assert.deepEqual(text.stderr.trimEnd().split('\n'), again.notes);
  });

  it('account show and update', async () => {
    const show = success(await runCli(['--json', 'account', 'show', ...env.server, '--account-key', key]), 'account show');
    assert.deepEqual(show.account, { url, status: 'valid', contacts: ['mailto:json@example.com'] });
    const upd = success(await runCli(['account', 'update', '--json', ...env.server, '--account-key', key, '--contact', 'mailto:a@example.com',
      '--contact', 'mailto:b@example.com']), 'account update');
    assert.deepEqual(upd.account, { url, status: 'valid', contacts: ['mailto:a@example.com', 'mailto:b@example.com'] });
  });

  it('issue: names, account, certificate (serial and notAfter as in the file), key, renewal config', async () => {
    const doc = success(await runCli([...issueArgs(['json.example', 'www.json.example'], out), '--json']), 'issue');
    assert.deepEqual(doc.identifiers, [{ type: 'dns', value: 'json.example' }, { type: 'dns', value: 'www.json.example' }]);
    assert.deepEqual(doc.account, { url, registered: false });
    assert.equal(doc.certificate.path, out);
    assert.match(doc.certificate.url, /^https:\/\//);
    assert.equal(typeof doc.certificate.profile, 'string', 'the profile Pebble says it used');
    const text = await openssl(['x509', '-in', out, '-noout', '-serial', '-enddate']);
    assert.equal(doc.certificate.serial, serialOf(text).toLowerCase().replace(/^(00)+/, ''));
    assert.match(doc.certificate.notAfter, ISO);
    assert.equal(new Date(doc.certificate.notAfter).getTime(), new Date(/notAfter=(.+)/.exec(text)![1]!).getTime());
    assert.deepEqual(doc.certificateKey, { path: `${out}.key.pem`, keyType: 'ec:P-256', generated: true });
    assert.equal(doc.renewalConfigPath, `${out}.renewal.toml`);
    assert.equal(doc.eabKeyNotStored, false);
    assert.deepEqual(doc.events, []);
    assert.deepEqual(doc.notes, []);
  });

  it('renew, not due: the decision (dates as ISO strings), nothing issued; then --force: the new certificate', async () => {
    const notDue = success(await runCli(['--json', 'renew', '--renewal-config', `${out}.renewal.toml`, ...env.server]), 'renew');
    assert.equal(notDue.checked.path, out);
    assert.match(notDue.checked.notAfter, ISO);
    assert.equal(notDue.checked.decision.due, false);
    assert.equal(notDue.checked.decision.reason, 'ari');
    assert.match(notDue.checked.decision.at, ISO);
    assert.match(notDue.checked.decision.window.start, ISO);
    assert.equal(notDue.issued, undefined);
    assert.deepEqual(notDue.events, [{ type: 'renewal-decision', certificatePath: out, notAfter: notDue.checked.notAfter, decision: notDue.checked.decision }]);

    const before = readFileSync(out, 'utf8');
    const forced = success(await runCli(['--json', 'renew', '--renewal-config', `${out}.renewal.toml`, ...env.server, '--force']), 'renew');
    assert.equal(forced.checked.decision.due, true);
    assert.equal(forced.checked.decision.reason, 'forced');
    assert.equal(forced.issued.command, 'issue');
    assert.equal(forced.issued.certificate.path, out);
    assert.notEqual(readFileSync(out, 'utf8'), before);
    assert.equal(forced.issued.certificate.serial, serialOf(await openssl(['x509', '-in', out, '-noout', '-serial'])).toLowerCase().replace(/^(00)+/, ''));
  });

  it('revoke', async () => {
    const doc = success(await runCli(['--json', 'revoke', ...env.server, '--account-key', key, '--cert', out, '--reason', '4']), 'revoke');
    assert.deepEqual(doc, { version: 1, command: 'revoke', certificatePath: out, reason: 4, signedWith: 'account-key', events: [], notes: [] });
    const serial = serialOf(await openssl(['x509', '-in', out, '-noout', '-serial']));
    assert.equal((await env.pebble.certStatus(serial)).Status, 'Revoked');
  });

  it('an ACME problem: a failed authorization, every failure with its identifier; the exit code of text mode', async () => {
    const port = await freePort();
    const args = issueArgs(['fail.example'], join(env.dir, 'fail', 'c.pem'), port);
    const doc = await failure(args, 1, () => runCli(args));
    assert.equal(doc.command, 'issue');
    assert.match(doc.error.type, /^urn:ietf:params:acme:error:\w+$/);
    assert.equal(doc.error.code, 'acme-problem');
    assert.ok(doc.error.detail.length > 0);
    assert.deepEqual(doc.error.subproblems, []);
    assert.equal(doc.error.authorizations.length, 1);
    assert.equal(doc.error.authorizations[0].identifier, 'fail.example');
    assert.match(doc.error.authorizations[0].url, /^https:\/\//);
    assert.equal(doc.error.authorizations[0].type, doc.error.type);
    assert.match(doc.error.message, /^authorization for fail\.example failed: ACME error urn:ietf:params:acme:error:/);
  });

  it('usage errors: commander\'s (exit 2) and the command\'s own; a local error (exit 1); the same codes as text mode', async () => {
    // commander refuses the command line: no command ran
    const missing = ['issue', ...env.server, '--account-key', key, '-d', 'x.example'];
    const m = await failure(missing, 2, () => runCli(missing));
    assert.equal(m.command, undefined);
    assert.deepEqual(m.error, {
      type: 'usage', detail: "required option '--out <FILE>' not specified", message: "required option '--out <FILE>' not specified",
      code: 'usage', commanderCode: 'commander.missingMandatoryOptionValue', exitCode: 2,
    });
    const unknown = ['account', 'show', '--account-key', key, '--bogus'];
    const u = await failure(unknown, 2, () => runCli(unknown));
    assert.equal(u.error.commanderCode, 'commander.unknownOption');
    const sub = await failure(['account'], 2, () => runCli(['account']), { errorLine: false });
    assert.equal(sub.error.detail, 'a subcommand is required');

    // the command refuses a value (nothing is sent)
    const badReason = ['revoke', ...env.server, '--account-key', key, '--cert', out, '--reason', '7'];
    const r = await failure(badReason, 2, () => runCli(badReason));
    assert.equal(r.command, 'revoke');
    assert.equal(r.error.type, 'usage');
    assert.equal(r.error.detail, 'invalid reason code 7; valid values: 0–6, 8–10');

    // a local failure: a key file that is not a key
    const garbage = join(env.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key\n');
    const show = ['account', 'show', ...env.server, '--account-key', garbage];
    const g = await failure(show, 1, () => runCli(show));
    assert.equal(g.command, 'account show');
    assert.equal(g.error.type, 'key-format');
    assert.equal(g.error.code, 'key-format');

    // an error with advice: the hint as data and as words
    const untrusted = ['account', 'show', '--server', env.pebble.directoryUrl, '--account-key', key];
    const t = await failure(untrusted, 1, () => runCli(untrusted));
    assert.equal(t.error.type, 'transport');
    assert.deepEqual(t.error.hint, { code: 'untrusted-server-certificate' });
    assert.equal(t.error.advice, 'pass --server-ca with the CA that issued the server certificate');
    assert.equal(t.error.url, env.pebble.directoryUrl);
  });

  it('an interrupted run: the error is `interrupted` with the signal, exit 130 as in text mode', async () => {
    const marks = join(env.dir, 'int-marks');
    mkdirSync(marks);
    const hook = writeSlowDnsHook(marks);
    const child = spawn(process.execPath, [cliBin, '--json', 'issue', ...env.server, '--account-key', key, '-d', 'int.example', '--challenge', 'dns-01',
      '--dns-hook', hook.path, '--out', join(env.dir, 'int', 'c.pem')], { env: { ...process.env, ...hook.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    await hook.added();
    child.kill('SIGINT');
    const r: RunResult = { code: await code, signal: null, stdout, stderr, timedOut: false };
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr, '');
    const doc = documentOf(r);
    assert.equal(doc.command, 'issue');
    assert.deepEqual(doc.error, { type: 'interrupted', detail: 'interrupted by SIGINT', message: 'interrupted by SIGINT', signal: 'SIGINT', exitCode: 130 });
  });

  it('account key-change and deregister', async () => {
    const newKey = join(env.dir, 'acct', 'new.pem');
    const kc = success(await runCli(['--json', 'account', 'key-change', ...env.server, '--account-key', key, '--new-key', newKey,
      '--new-key-type', 'ec:P-384']), 'account key-change');
    assert.equal(kc.accountUrl, url);
    assert.equal(kc.accountKeyPath, key);
    assert.equal(kc.newKeyPath, newKey);
    assert.equal(kc.keyType, 'ec:P-384');
    assert.deepEqual(kc.generatedKey, { path: newKey, keyType: 'ec:P-384' });
    assert.deepEqual(kc.events, [{ type: 'key-generated', key: { path: newKey, keyType: 'ec:P-384' } }]);

    const d = success(await runCli(['--json', 'account', 'deregister', ...env.server, '--account-key', key]), 'account deregister');
    assert.deepEqual(d.account, { url, status: 'deactivated', contacts: ['mailto:a@example.com', 'mailto:b@example.com'] });
    assert.equal(d.accountUrlPath, `${key}.account-url`);
    assert.equal(d.sidecarError, undefined);
    assert.equal(existsSync(`${key}.account-url`), false);
  });
});

describe('--json: import certbot (a real certbot tree)', () => {
  let env: Env;
  let tree: CertbotTree;
  before(async () => {
    env = await setup();
    tree = certbotTree(env.pebble);
    await certbotCertonly(tree, { auth: { kind: 'standalone' }, keyType: 'ecdsa', domains: ['cb.example.com', 'www.cb.example.com'] });
  });
  after(async () => env.pebble.stop());

  const imp = (args: string[]) => runCli(['--json', 'import', 'certbot', '--certbot-dir', tree.configDir, ...args]);

  it('--list: accounts and lineages with their certificates', async () => {
    const doc = success(await imp(['--list']), 'import certbot');
    assert.equal(doc.mode, 'list');
    assert.equal(doc.certbotDir, tree.configDir);
    assert.equal(doc.accounts.length, 1);
    assert.match(doc.accounts[0].url, /^https:\/\//);
    assert.equal(doc.lineages.length, 1);
    const [l] = doc.lineages;
    assert.equal(l.name, 'cb.example.com');
    assert.equal(l.authenticator, 'standalone');
    assert.equal(l.challenge, 'http-01');
    assert.deepEqual(l.certificate.identifiers.map((i: { value: string }) => i.value).sort(), ['cb.example.com', 'www.cb.example.com']);
    assert.equal(l.certificate.keyType, 'ec:P-256');
    assert.match(l.certificate.notAfter, ISO);
  });

  it('--dry-run: the plan, nothing written; then the import itself with its events', async () => {
    const dir = join(tempDir(), 'import');
    const key = join(dir, 'acct.pem');
    const certDir = join(dir, 'certs');
    const dry = success(await imp(['--account-key', key, '--cert-dir', certDir, '--dry-run']), 'import certbot');
    assert.equal(dry.mode, 'dry-run');
    assert.equal(dry.account.keyPath, key);
    assert.equal(dry.account.urlPath, `${key}.account-url`);
    assert.equal(dry.certificates.length, 1);
    assert.equal(dry.certificates[0].chainPath, join(certDir, 'cb.example.com.pem'));
    assert.match(dry.certificates[0].source.chainPath, /\/archive\/cb\.example\.com\/fullchain1\.pem$/);
    assert.deepEqual(dry.events, []);
    assert.equal(existsSync(dir), false, 'nothing was written');

    const done = success(await imp(['--account-key', key, '--cert-dir', certDir]), 'import certbot');
    assert.equal(done.mode, 'import');
    assert.equal(done.certificates[0].renewalConfigPath, join(certDir, 'cb.example.com.pem.renewal.toml'));
    assert.deepEqual(done.skipped, []);
    assert.deepEqual(done.unmatchedDomains, []);
    assert.deepEqual(done.events.map((e: { type: string }) => e.type), ['certbot-account-written', 'certbot-certificate-written']);
    assert.ok(existsSync(join(certDir, 'cb.example.com.pem.renewal.toml')));
    assert.equal(readFileSync(`${key}.account-url`, 'utf8'), done.account.url);

    // a domain no certificate carries: a warning, in the notes
    const other = join(tempDir(), 'other');
    const w = success(await imp(['--account-key', join(other, 'a.pem'), '--cert-dir', join(other, 'c'), '-d', 'nowhere.example', '--dry-run']), 'import certbot');
    assert.deepEqual(w.unmatchedDomains, ['nowhere.example']);
    assert.deepEqual(w.notes, ['Warning: no certbot certificate found for nowhere.example']);
  });
});

describe('--json: an ACME problem with subproblems (the test CA)', () => {
  let ca: TestCa;
  before(async () => {
    ca = await startTestCa({ dnsServer: false });
  });
  after(async () => ca?.stop());

  it('each subproblem with its type, detail and identifier; what the run did before it failed is in events', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'out'));
    const args = ['issue', '--server', ca.directoryUrl, '--server-ca', ca.caPemPath, '--account-key', join(dir, 'a.pem'),
      '--http-port', String(ca.httpPort), '-d', 'localhost', '-d', 'fine.example', '--out', join(dir, 'out', 'c.pem')];
    const text = ['issue', '--server', ca.directoryUrl, '--server-ca', ca.caPemPath, '--account-key', join(dir, 'b.pem'),
      '--http-port', String(ca.httpPort), '-d', 'localhost', '--out', join(dir, 'out', 'd.pem')];
    const doc = await failure(args, 1, () => runCli(text));
    assert.equal(doc.error.type, 'urn:ietf:params:acme:error:rejectedIdentifier');
    assert.equal(doc.error.status, 400);
    assert.deepEqual(doc.error.subproblems, [{
      type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'DNS name needs at least two labels', identifier: { type: 'dns', value: 'localhost' },
    }]);
    assert.match(doc.error.message, /\n {2}localhost: urn:ietf:params:acme:error:rejectedIdentifier: DNS name needs at least two labels$/);
    // the account was registered (and its key generated) before the order was refused
    assert.deepEqual(doc.events.map((e: { type: string }) => e.type), ['key-generated', 'account-registered']);
    assert.match(doc.notes[0], /^Note: the new account agreed to the terms of service at /);
  });
});

describe('the JSON renderer in-process', () => {
  it('serialises any result generically: Dates as ISO strings, absent fields left out, Maps and Sets as data', () => {
    assert.deepEqual(plain({ at: new Date('2027-01-02T03:04:05Z'), gone: undefined, list: [new Date(0)], m: new Map([['k', 1]]), s: new Set(['a']), n: 10n }),
      { at: '2027-01-02T03:04:05.000Z', list: ['1970-01-01T00:00:00.000Z'], m: { k: 1 }, s: ['a'], n: '10' });
    // a result type the renderer has never seen (as other commands add them) is printed as it is
    const future = { command: 'some future command', directory: 'https://ca.test/dir', profiles: { short: 'six days' }, checkedAt: new Date(0) } as unknown as CommandResult;
    assert.deepEqual(JSON.parse(new JsonCollector().result(future)), {
      version: 1, command: 'some future command', directory: 'https://ca.test/dir', profiles: { short: 'six days' }, checkedAt: '1970-01-01T00:00:00.000Z', events: [], notes: [],
    });
  });

  it('escapes what would act on a terminal (bidi overrides, C1 controls) and stays the same data', () => {
    const text = serialise({ detail: 'a\u202eb\u009bc\u001bd' });
    assert.doesNotMatch(text, /[\u202e\u009b\u001b]/);
    assert.deepEqual(JSON.parse(text), { detail: 'a\u202eb\u009bc\u001bd' });
  });

  it('error objects: a problem with status, retryAfter and subproblems; a step; failed authorizations', () => {
    const problem = new AcmeProblemError({
      type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many', instance: 'https://ca.test/p/1',
      subproblems: [{ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'no', identifier: { type: 'dns', value: 'a.test' }, status: 400 }],
    }, 429, { retryAfter: new Date('2027-01-01T00:00:00Z') });
    const o = errorObject(new StepError('register', problem), { message: 'register: …', advice: '', exitCode: 1 });
    assert.deepEqual(o, {
      type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many', status: 429,
      subproblems: [{ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'no', status: 400, identifier: { type: 'dns', value: 'a.test' } }],
      retryAfter: '2027-01-01T00:00:00.000Z', instance: 'https://ca.test/p/1', message: 'register: …', code: 'acme-problem', step: 'register', exitCode: 1,
    });
    const failed = (value: string): Authorization => ({
      url: `https://ca.test/authz/${value}`, status: 'invalid', identifier: { type: 'dns', value },
      challenges: [{ type: 'http-01', url: 'u', status: 'invalid', token: 't', error: { type: 'urn:ietf:params:acme:error:connection', detail: `no ${value}`, status: 400 } }],
    } as unknown as Authorization);
    const a = errorObject(new AuthorizationFailedError([failed('a.test'), failed('b.test')]), { message: 'm', advice: '', exitCode: 1 });
    assert.equal(a.type, 'urn:ietf:params:acme:error:connection');
    assert.equal(a.status, 400);
    assert.deepEqual(a.authorizations, [
      { identifier: 'a.test', url: 'https://ca.test/authz/a.test', type: 'urn:ietf:params:acme:error:connection', detail: 'no a.test', status: 400 },
      { identifier: 'b.test', url: 'https://ca.test/authz/b.test', type: 'urn:ietf:params:acme:error:connection', detail: 'no b.test', status: 400 },
    ]);
    const plainError = errorObject(new Error('cannot read x'), { message: 'cannot read x', advice: '', exitCode: 1 });
    assert.deepEqual(plainError, { type: 'error', detail: 'cannot read x', message: 'cannot read x', exitCode: 1 });
  });
});

/**
 * End to end: ML-DSA keys with the built CLI against Pebble 2.10, which implements no ML-DSA. The
 * CLI must print the reference's `Unsupported algorithm: ML-DSA-65` with one line of advice, and
 * harm nothing on disk. Also: the bundle loads @noble/post-quantum only when an ML-DSA key is used.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AcmeProblemError, AkamuError, PrivateKey as LibraryKey } from 'akamu-client';
import { PrivateKey } from '../../client/src/keys/index.js';
import { ML_DSA_PARAMS } from '../../client/src/keys/mlDsaEncoding.js';
import { pem, pkcs8Forms } from '../../client/test/helpers/ml-dsa.js';
import { adviceFor } from '../src/advice.js';
import { refusedAlgorithm } from '../src/refused-algorithm.js';
import { setup, runCli, assertFailure, assertSuccess, snapshot, type Env } from './helpers.js';

const ADVICE = 'The server does not support the requested key type. Use a classical key type such as ec:P-256, or a CA that supports ML-DSA.';

/** stderr of a run the server refused for `alg`: the error line (after an optional step) and the advice. */
function assertRefused(r: { code: number | null; stderr: string; stdout: string }, alg: string, step = ''): void {
  assertFailure(r as Parameters<typeof assertFailure>[0], 1, new RegExp(`^error: ${step}Unsupported algorithm: ${alg}$`));
  assert.equal(r.stderr, `error: ${step}Unsupported algorithm: ${alg}\n${ADVICE}\n`);
}

describe('ML-DSA against a server without it (Pebble)', () => {
  let env: Env;
  before(async () => {
    env = await setup();
  });
  after(async () => env.pebble.stop());

  it('account register --key-type ml-dsa-65: the reference error and advice, no key file left behind', async () => {
    const key = join(env.dir, 'pq-account.pem');
    const r = await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos', '--key-type', 'ml-dsa-65']);
    assertRefused(r, 'ML-DSA-65');
    assert.equal(existsSync(key), false);
    assert.equal(existsSync(`${key}.account-url`), false);
  });

  it('an existing ML-DSA-44 key file in the "both" form (as some OpenSSL 3.5 releases write) is read, then refused by the server', async () => {
    const key = join(env.dir, 'both.pem');
    writeFileSync(key, pem(pkcs8Forms(ML_DSA_PARAMS[0]!, new Uint8Array(32).fill(4)).both), { mode: 0o600 });
    const before = snapshot([key]);
    const r = await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos']);
    assertRefused(r, 'ML-DSA-44');
    assert.equal(snapshot([key]), before, 'the key file is untouched');
  });

  it('account key-change from ES256 to ML-DSA-87: refused; the account keeps its key and still works', async () => {
    const key = join(env.dir, 'es256.pem');
    const newKey = join(env.dir, 'mldsa87.pem');
    assertSuccess(await runCli(['account', 'register', ...env.server, '--account-key', key, '--agree-tos']));
    const before = snapshot([key, `${key}.account-url`]);
    const r = await runCli(['account', 'key-change', ...env.server, '--account-key', key, '--new-key', newKey, '--new-key-type', 'ml-dsa-87']);
    // issue 11: nothing on stdout until the change succeeded; the refused key this run generated is removed
    assert.equal(r.stdout, '');
    assertRefused(r, 'ML-DSA-87');
    assert.equal(snapshot([key, `${key}.account-url`]), before);
    assert.equal(existsSync(newKey), false, 'the refused new key is removed');
    assertSuccess(await runCli(['account', 'show', ...env.server, '--account-key', key]));
  });

  it('issue with an ML-DSA-44 account key (alias ML-DSA-44): refused at registration, nothing ordered or written', async () => {
    const out = join(env.dir, 'pq-issue', 'cert.pem');
    const orders = () => env.pebble.logText().match(/POST \/order-plz/g)?.length ?? 0;
    const ordersBefore = orders();
    const requestsBefore = env.pebble.requestCount();
    const r = await runCli(['issue', ...env.server, '--account-key', join(env.dir, 'pq-issue.pem'), '--key-type', 'ML-DSA-44',
      '-d', 'pq.example', '--http-port', String(env.pebble.httpPort), '--out', out]);
    assertRefused(r, 'ML-DSA-44', 'register: ');
    assert.equal(existsSync(out), false);
    assert.equal(orders(), ordersBefore, 'no newOrder');
    assert.ok(env.pebble.requestCount() > requestsBefore, 'the server was asked');
  });

  it('issue --cert-key-type ml-dsa-44 with a classical account: the ML-DSA CSR reaches finalize, which Pebble cannot verify', async () => {
    const out = join(env.dir, 'pq-cert', 'cert.pem');
    const r = await runCli(['issue', ...env.server, '--account-key', join(env.dir, 'classical.pem'), '--cert-key-type', 'ml-dsa-44',
      '-d', 'pqcert.example', '--http-port', String(env.pebble.httpPort), '--out', out]);
    assertFailure(r, 1, /badCSR.*(signature|algorithm)/i);
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.key.pem`), false, 'the new certificate key is written only with the chain');
  });
});

describe('refusedAlgorithm: which server answers mean the key type is refused', () => {
  const problem = (type: string, detail: string) => new AcmeProblemError({ type: `urn:ietf:params:acme:error:${type}`, detail }, 400);

  it('badSignatureAlgorithm (RFC 8555 §6.2, as Boulder words it) for an ML-DSA key and for a classical one', async () => {
    const pq = await LibraryKey.generate('ml-dsa-65');
    const err = problem('badSignatureAlgorithm', 'JWS signature header contains unsupported algorithm "ML-DSA-65", expected one of RS256, ES256, ES384 or ES512');
    const out = refusedAlgorithm(err, pq);
    assert.ok(out instanceof AkamuError && out.code === 'unsupported' && out.cause === err);
    assert.equal(out.message, 'Unsupported algorithm: ML-DSA-65');
    assert.equal(adviceFor(out.hint), `\n${ADVICE}`);

    const rsa = refusedAlgorithm(problem('badSignatureAlgorithm', 'no RS256 here'), await LibraryKey.generate('rsa:2048'));
    assert.ok(rsa instanceof AkamuError);
    assert.equal(rsa.message, 'Unsupported algorithm: RS256');
    assert.equal(adviceFor(rsa.hint), '\nThe server does not support the requested key type. Use another key type such as ec:P-256.');
  });

  it('a JOSE library that cannot read the AKP JWK (Pebble: malformed "unsupported key type/format") only for an ML-DSA key; other errors pass through', async () => {
    const pq = await LibraryKey.generate('ml-dsa-44');
    const ec = await LibraryKey.generate('ec:P-256');
    const unreadable = problem('malformed', 'Parse error reading JWS: failed to unmarshal JWK: go-jose/go-jose: unsupported key type/format');
    assert.equal((refusedAlgorithm(unreadable, pq) as Error).message, 'Unsupported algorithm: ML-DSA-44');
    assert.equal(refusedAlgorithm(unreadable, ec), unreadable);
    const other = problem('malformed', 'JWS has no nonce');
    assert.equal(refusedAlgorithm(other, pq), other);
    const plain = new Error('socket hang up');
    assert.equal(refusedAlgorithm(plain, pq), plain);
  });
});

describe('the CLI bundle and @noble/post-quantum', () => {
  it('noble sits only in chunks reached by a dynamic import(), so no command pays for it until an ML-DSA key needs it', () => {
    const dir = fileURLToPath(new URL('../bundle/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
    const text = new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    const hasNoble = (f: string) => text.get(f)!.includes('node_modules/@noble/post-quantum/');
    const nobleFiles = files.filter(hasNoble);
    assert.ok(nobleFiles.length > 0, 'noble is in the bundle');
    for (const f of files) {
      if (hasNoble(f)) continue;
      const statics = [...text.get(f)!.matchAll(/^(?:import|export)\b[^;'"]*?(?:from\s*)?["']\.\/([^"']+)["']/gm)].map((m) => m[1]!);
      for (const s of statics) assert.ok(!nobleFiles.includes(s), `${f} imports ${s} statically`);
    }
    const dynamic = files.flatMap((f) => [...text.get(f)!.matchAll(/import\(["']\.\/([^"']+)["']\)/g)].map((m) => m[1]!));
    assert.ok(nobleFiles.some((f) => dynamic.includes(f)), 'and is imported dynamically');
  });
});

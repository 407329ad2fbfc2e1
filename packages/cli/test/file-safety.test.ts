/**
 * How akamu treats the files it replaces, against Pebble: modes under `umask 000`, owners and modes
 * kept (files handed to `nobody` while we run as root), symbolic links followed or refused, a new
 * certificate key on every renewal unless pinned with --cert-key (`reuse_key = true`), and
 * temporary files of crashed runs removed by the next write.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { cliBin, runProgram } from '../../testkit/src/index.js';
import { setupWithAccount, runCli, openssl, assertSuccess, assertFailure, mode, verifyChain, type AccountEnv } from './helpers.js';
import { leftoversBeside, setState } from './cert-set-check.js';

const NOBODY = 65534;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const owner = (p: string) => `${statSync(p).uid}:${statSync(p).gid}`;

describe('file modes, owners and links', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());

  const orders = () => (env.pebble.logText().match(/order-plz/g) ?? []).length;
  const issueArgs = (extra: string[]) => ['issue', ...env.server, '--account-key', env.key, '--http-port', String(env.pebble.httpPort), ...extra];
  const issue = (extra: string[]) => runCli(issueArgs(extra));
  const renew = (out: string, extra: string[] = []) => runCli(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', env.pebble.caPemPath, ...extra]);

  it('umask 000: every file written (account key and URL, key, chain, config) is 0600, also after a renewal', async () => {
    const dir = join(env.dir, 'umask');
    const out = join(dir, 'certs', 'fullchain.pem');
    const account = join(dir, 'keys', 'account.pem');
    const underUmask000 = (args: string[]) => runProgram('/bin/sh', ['-c', 'umask 000 && exec "$@"', 'sh', process.execPath, cliBin, ...args]);
    const args = ['issue', ...env.server, '--account-key', account, '--http-port', String(env.pebble.httpPort), '-d', 'umask.example', '--out', out];
    assertSuccess(await underUmask000(args));
    const check = () => {
      for (const d of [join(dir, 'certs'), join(dir, 'keys')]) {
        assert.equal(mode(d), 0o700, `${d} is 0700`);
        for (const f of readdirSync(d)) assert.equal(mode(join(d, f)), 0o600, `${f} is 0600`);
      }
      assert.deepEqual(readdirSync(join(dir, 'certs')).sort(), ['fullchain.pem', 'fullchain.pem.key.pem', 'fullchain.pem.renewal.toml']);
    };
    check();
    assertSuccess(await underUmask000(['renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', env.pebble.caPemPath, '--force']));
    check();
  });

  it('a replaced file keeps its owner and group; key and config are 0600 again, the chain keeps its mode', async () => {
    const out = join(env.dir, 'owned', 'fullchain.pem');
    assertSuccess(await issue(['-d', 'owned.example', '--out', out]));
    const key = `${out}.key.pem`;
    const cfg = `${out}.renewal.toml`;
    const SSL_CERT = 103; // a group other than the owner's
    chownSync(out, NOBODY, SSL_CERT);
    chmodSync(out, 0o644);
    chownSync(key, NOBODY, NOBODY);
    chmodSync(key, 0o640);
    chownSync(cfg, NOBODY, NOBODY);
    chmodSync(cfg, 0o644);
    const keyBefore = sha(key);
    assertSuccess(await renew(out, ['--force']));
    assert.equal(owner(out), `${NOBODY}:${SSL_CERT}`, 'chain owner and group kept');
    assert.equal(mode(out), 0o644, 'chain mode kept');
    assert.equal(owner(key), `${NOBODY}:${NOBODY}`, 'key owner kept');
    assert.equal(mode(key), 0o600, 'key 0600 again');
    assert.notEqual(sha(key), keyBefore, 'a new key');
    assert.equal(owner(cfg), `${NOBODY}:${NOBODY}`);
    assert.equal(mode(cfg), 0o600, 'config 0600 again');
    assert.ok((await setState(out)).consistent);
  });

  it('a symbolic --out and key path (owned by root) are followed: the files they point to are replaced, the links stay', async () => {
    const archive = join(env.dir, 'links', 'archive');
    const live = join(env.dir, 'links', 'live');
    mkdirSync(archive, { recursive: true, mode: 0o700 });
    mkdirSync(live, { recursive: true, mode: 0o755 });
    const out = join(live, 'fullchain.pem');
    const key = join(live, 'privkey.pem');
    // relative links, dangling until the first issuance (as a hand-made deployment would start)
    symlinkSync('../archive/fullchain1.pem', out);
    symlinkSync('../archive/privkey1.pem', key);
    assertSuccess(await issue(['-d', 'links.example', '--out', out, '--cert-key', key]));
    const check = async () => {
      assert.ok(lstatSync(out).isSymbolicLink() && lstatSync(key).isSymbolicLink(), 'the links stay links');
      assert.equal(readlinkSync(out), '../archive/fullchain1.pem');
      assert.equal(readlinkSync(key), '../archive/privkey1.pem');
      await verifyChain(env, join(archive, 'fullchain1.pem'), join(archive, 'privkey1.pem'));
      assert.deepEqual(leftoversBeside([join(archive, 'x'), join(live, 'x')]), []);
    };
    await check();
    chmodSync(join(archive, 'fullchain1.pem'), 0o644);
    const serial = await openssl(['x509', '-in', out, '-noout', '-serial']);
    assertSuccess(await renew(out, ['--force']));
    await check();
    assert.notEqual(await openssl(['x509', '-in', out, '-noout', '-serial']), serial, 'renewed through the link');
    assert.equal(mode(join(archive, 'fullchain1.pem')), 0o644, 'the chain behind the link kept its mode');
  });

  it('a link owned by another user, or in a world-writable directory, is refused before anything is ordered', async () => {
    const dir = join(env.dir, 'badlinks');
    mkdirSync(dir, { mode: 0o755 });
    const target = join(env.dir, 'badlinks-target.pem');
    writeFileSync(target, 'precious');
    const foreign = join(dir, 'foreign.pem');
    symlinkSync(target, foreign);
    lchownSync(foreign, NOBODY, NOBODY);
    const before = orders();
    assertFailure(await issue(['-d', 'badlink.example', '--out', foreign]), 2,
      new RegExp(`refusing to follow the symbolic link ${foreign}: it is owned by uid ${NOBODY}, not by root or the running user`));
    // the same for the key path
    const out = join(dir, 'ok.pem');
    assertFailure(await issue(['-d', 'badlink.example', '--out', out, '--cert-key', foreign]), 2, /refusing to follow the symbolic link .*foreign\.pem: it is owned by uid/);

    const open = join(env.dir, 'world-writable');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const inOpen = join(open, 'fullchain.pem');
    symlinkSync(target, inOpen);
    assertFailure(await issue(['-d', 'badlink.example', '--out', inOpen]), 2,
      new RegExp(`refusing to follow the symbolic link ${inOpen}: its directory ${open} is world-writable`));

    assert.equal(orders(), before, 'nothing was ordered');
    assert.equal(readFileSync(target, 'utf8'), 'precious', 'the file behind the links is untouched');
    assert.ok(lstatSync(foreign).isSymbolicLink() && lstatSync(inOpen).isSymbolicLink());
    assert.equal(existsSync(`${out}.renewal.toml`), false);
  });

  it('--out naming a directory is refused before anything is ordered', async () => {
    const dir = join(env.dir, 'is-a-dir');
    mkdirSync(dir);
    const before = orders();
    const r = await issue(['-d', 'dir.example', '--out', dir]);
    assertFailure(r, 2, /directory/);
    assert.equal(orders(), before);
    assert.equal(existsSync(`${dir}.key.pem`), false, 'no orphan key');
  });

  it('--cert-key pins the key: reuse_key = true is recorded and renewals keep the key', async () => {
    const dir = join(env.dir, 'pinned');
    mkdirSync(dir);
    const pinned = join(dir, 'pinned.key');
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', pinned]);
    const keyBefore = sha(pinned);
    const out = join(dir, 'fullchain.pem');
    assertSuccess(await issue(['-d', 'pinned.example', '--out', out, '--cert-key', pinned]));
    const cfgText = readFileSync(`${out}.renewal.toml`, 'utf8');
    assert.match(cfgText, /^cert_key_type = "ec:P-256"\nreuse_key = true\n/m);
    assert.equal(parse(cfgText).cert_key_path, pinned);
    assertSuccess(await renew(out, ['--force']));
    const forced = await renew(out, ['--force', '--cert-key-type', 'ec:P-384']);
    assertSuccess(forced);
    assert.match(forced.stderr, /--cert-key-type ec:P-384 is ignored/);
    assert.equal(sha(pinned), keyBefore, 'the pinned key is never replaced');
    await verifyChain(env, out, pinned);
    assert.equal(existsSync(`${out}.key.pem`), false);
    assert.match(readFileSync(`${out}.renewal.toml`, 'utf8'), /^reuse_key = true$/m, 'the pin is kept');

    // an unpinned issuance records nothing and rotates the key
    const free = join(dir, 'free.pem');
    assertSuccess(await issue(['-d', 'free.example', '--out', free]));
    assert.doesNotMatch(readFileSync(`${free}.renewal.toml`, 'utf8'), /reuse_key/);
    const k1 = sha(`${free}.key.pem`);
    assertSuccess(await issue(['-d', 'free.example', '--out', free]));
    assert.notEqual(sha(`${free}.key.pem`), k1, 'issue generates a new key each time');
  });

  it('temporary files of a crashed write are removed by the next write of the same file (if their process is gone)', async () => {
    const dir = join(env.dir, 'temps');
    mkdirSync(dir);
    const account = join(dir, 'account.pem');
    const hex = (pid: number) => pid.toString(16).padStart(8, '0');
    const dead = join(dir, `.account.pem.${hex(2 ** 31 - 2)}0badf00d.tmp`); // no such pid
    const live = join(dir, `.account.pem.${hex(process.pid)}0badf00d.tmp`); // the test runner: alive
    const legacyOld = join(dir, '.account.pem.account-url.0123456789ab.tmp');
    const legacyNew = join(dir, '.account.pem.account-url.ba9876543210.tmp');
    const deadUrl = join(dir, `.account.pem.account-url.${hex(2 ** 31 - 2)}00000000.tmp`);
    for (const f of [dead, live, legacyOld, legacyNew, deadUrl]) writeFileSync(f, 'secret', { mode: 0o600 });
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(legacyOld, hoursAgo, hoursAgo);
    assertSuccess(await runCli(['account', 'register', ...env.server, '--account-key', account, '--agree-tos']));
    assert.equal(existsSync(dead), false, 'a dead process\'s temp file is removed');
    assert.equal(existsSync(deadUrl), false);
    assert.equal(existsSync(legacyOld), false, 'an old one without a pid is removed');
    assert.ok(existsSync(live), 'a live process\'s is left alone');
    assert.ok(existsSync(legacyNew), 'a recent one without a pid is left alone');
  });
});

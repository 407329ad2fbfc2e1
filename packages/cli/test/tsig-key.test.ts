/** BIND key files: read as tsig-keygen writes them, written so that BIND's own checker accepts them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseTsigKeyFile, readTsigKeyFile, renderTsigKeyFile, writeTsigKeyFile } from '../src/files/tsig-key.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);

describe('TSIG key files (BIND format)', () => {
  it('reads what tsig-keygen writes, for both algorithms', async () => {
    for (const algorithm of ['hmac-sha256', 'hmac-sha512'] as const) {
      const { stdout } = await run('tsig-keygen', ['-a', algorithm, 'made.by.keygen']);
      const key = parseTsigKeyFile(stdout, 'test');
      assert.equal(key.name, 'made.by.keygen');
      assert.equal(key.algorithm, algorithm);
      assert.equal(key.secret.toString('base64'), /secret "([^"]+)"/.exec(stdout)![1]);
      assert.equal(key.secret.length, algorithm === 'hmac-sha256' ? 32 : 64);
    }
  });

  it('accepts comments, an unquoted name and upper-case algorithm; refuses two keys, unknown statements and missing parts', () => {
    const key = parseTsigKeyFile('# made by hand\n// here\nkey acme { /* the algorithm */ algorithm HMAC-SHA512; secret "AAAA"; };', 't');
    assert.deepEqual({ ...key, secret: key.secret.toString('hex') }, { name: 'acme', algorithm: 'hmac-sha512', secret: '000000' });
    assert.throws(() => parseTsigKeyFile('key "a" { algorithm hmac-sha256; secret "AAAA"; };\nkey "b" { algorithm hmac-sha256; secret "AAAA"; };', 'F'), /^UsageError: F: not a BIND key file/);
    assert.throws(() => parseTsigKeyFile('key "a" { algorithm hmac-sha256; secret "AAAA"; owner x; };', 'F'), /F: unexpected statement 'owner' in key "a"/);
    assert.throws(() => parseTsigKeyFile('key "a" { secret "AAAA"; };', 'F'), /F: key "a" has no algorithm/);
    assert.throws(() => parseTsigKeyFile('key "a" { algorithm hmac-sha256; };', 'F'), /F: key "a" has no secret/);
    assert.throws(() => parseTsigKeyFile('key "a" { algorithm hmac-sha1; secret "AAAA"; };', 'F'), /unsupported TSIG algorithm 'hmac-sha1'; use hmac-sha256 or hmac-sha512/);
  });

  it('writes 0600 files in tsig-keygen\'s layout that BIND\'s named-checkconf accepts, and reads them back', async () => {
    const dir = tempDir('akamu-tsig-');
    const path = join(dir, 'sub', 'imported.key');
    const key = { name: 'imported-from-certbot', algorithm: 'hmac-sha512' as const, secret: Buffer.alloc(64, 0xab) };
    await writeTsigKeyFile(path, key);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path, 'utf8'), renderTsigKeyFile(key));
    const conf = join(dir, 'named.conf');
    writeFileSync(conf, `include "${path}";\n`);
    await run('named-checkconf', [conf]); // throws on a file BIND would not load
    const warnings: string[] = [];
    const back = await readTsigKeyFile(path, (w) => warnings.push(w));
    assert.deepEqual(back, key);
    assert.deepEqual(warnings, []);
  });
});

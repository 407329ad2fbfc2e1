/**
 * The README's library example works as written against a private CA (Pebble): only the names of
 * the example (server URL, CA file, port, hook path) are replaced by the test's. And the DNS hook
 * section says that hooks of names with the same base run concurrently (issue 11, item 15).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, runProgram } from '../../testkit/src/index.js';
import { setup, openssl, type Env } from './helpers.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

const HOOK = `#!/usr/bin/env node
// publishes the TXT record through challtestsrv; several hooks may run at once (each adds its own value)
const [op] = process.argv.slice(2);
const body = op === 'add' ? { host: process.env.AKAMU_RECORD_NAME, value: process.env.AKAMU_TXT } : { host: process.env.AKAMU_RECORD_NAME };
const res = await fetch(process.env.CHALLTESTSRV + (op === 'add' ? '/set-txt' : '/clear-txt'), { method: 'POST', body: JSON.stringify(body) });
process.exit(res.ok ? 0 : 1);
`;

describe('README', () => {
  let env: Env;
  before(async () => {
    env = await setup();
  });
  after(async () => env.pebble.stop());

  it('the library example issues a certificate from a private CA as written', async () => {
    const block = /## The library\n\n```ts\n([\s\S]+?)```/.exec(readme)?.[1];
    assert.ok(block, 'the library example is there');
    const hook = join(env.dir, 'dns-hook.mjs');
    writeFileSync(hook, HOOK, { mode: 0o755 });
    const replacements: [string, string][] = [
      ["from 'akamu-client'", `from '${pathToFileURL(join(repoRoot, 'packages', 'client', 'dist', 'index.js')).href}'`],
      ["'/etc/akamu/acme-ca.pem'", JSON.stringify(env.pebble.caPemPath)],
      ["'https://acme.example.com/directory'", JSON.stringify(env.pebble.directoryUrl)],
      ['port: 80', `port: ${env.pebble.httpPort}`],
      ["'/usr/local/bin/dns-hook'", JSON.stringify(hook)],
    ];
    let code = block;
    for (const [from, to] of replacements) {
      assert.equal(code.split(from).length - 1, 1, `the example has ${from} once`);
      code = code.replace(from, to);
    }
    const script = join(env.dir, 'example.mjs');
    writeFileSync(script, `${code}\nprocess.stdout.write('\\n--- chain ---\\n' + chainPem);\n`);
    const r = await runProgram(process.execPath, [script], { env: { CHALLTESTSRV: env.pebble.challtestsrvUrl } });
    assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const chain = r.stdout.split('\n--- chain ---\n')[1] ?? '';
    const text = await openssl(['x509', '-noout', '-text'], chain);
    assert.match(text, /DNS:\*\.example\.com/);
    assert.match(text, /DNS:example\.com/);
  });

  it('the DNS hook section says that hooks of names with the same base run concurrently and must add, not replace', () => {
    const section = /#### DNS hook interface\n([\s\S]+?)\n### /.exec(readme)?.[1] ?? '';
    const prose = section.replace(/\s+/g, ' ');
    assert.match(prose, /Hooks run \*\*concurrently\*\*/);
    assert.match(prose, /`\*\.example\.com` and `example\.com`/);
    assert.match(prose, /must \*\*add\*\* its TXT value to the record set, never replace/);
  });
});

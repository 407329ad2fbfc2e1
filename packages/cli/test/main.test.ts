/** The program in-process: main() with captured output, and what `--version` / `--help` load. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';
import { tempDir } from '../../testkit/src/index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const bin = fileURLToPath(new URL('../bin/akamu-cli.js', import.meta.url));

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'akamu-cli', ...args], { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

describe('main() in-process', () => {
  it('prints the version to the given output and returns 0, with or without other flags', async () => {
    assert.deepEqual(await run('--version'), { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    assert.deepEqual(await run('-v', '--version'), { code: 0, stdout: `${pkg.version}\n`, stderr: '' }, 'through commander');
  });

  it('prints help to stdout, usage errors to stderr with exit code 2', async () => {
    const help = await run('issue', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: akamu-cli issue \[options\]/);
    const bad = await run('issue', '-d', 'a.example');
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr, "error: required option '--account-key <FILE>' not specified\n");
  });

  it('runs a command and prints its error line through the same output', async () => {
    const dir = tempDir();
    const r = await run('revoke', '--server', 'https://127.0.0.1:1/dir', '--cert', join(dir, 'missing.pem'), '--account-key', join(dir, 'k.pem'));
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `error: cannot read --cert ${join(dir, 'missing.pem')}: no such file\n`);
  });
});

describe('startup', () => {
  // a module hook records every file loaded; --version and --help must not load the library or a command
  const hook = `export async function load(url, context, next) {
  if (url.startsWith('file:')) (await import('node:fs')).appendFileSync(process.env.LOADED_LOG, url + '\\n');
  return next(url, context);
}`;
  for (const args of [['--version'], ['-v', '--version'], ['--help'], ['issue', '--help']]) {
    it(`${args.join(' ')} loads neither akamu-client nor any command module`, () => {
      const dir = tempDir();
      const hookPath = join(dir, 'hook.mjs');
      writeFileSync(hookPath, hook);
      const log = join(dir, 'loaded.txt');
      const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(`file://${hookPath}`)});`;
      const r = spawnSync(process.execPath, ['--import', register, bin, ...args], { env: { ...process.env, LOADED_LOG: log }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const loaded = readFileSync(log, 'utf8').trim().split('\n');
      assert.ok(loaded.some((u) => u.endsWith('/cli/bundle/main.js')), 'the hook saw the program load');
      // the bundle marks each module it holds with a `// <path>` line: none may be the library, a command or a heavy dependency
      const held = loaded.filter((u) => u.includes('/cli/bundle/')).flatMap((u) => readFileSync(fileURLToPath(u), 'utf8').match(/^\/\/ \S+$/gm) ?? []);
      assert.ok(held.some((m) => m.endsWith('dist/main.js')), 'the module markers are there');
      assert.deepEqual(held.filter((m) => /\/client\/|\/commands\/|smol-toml|asn1/.test(m)), []);
      assert.deepEqual(loaded.filter((u) => /\/client\/|smol-toml|asn1/.test(u)), []);
    });
  }
});

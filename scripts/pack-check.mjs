#!/usr/bin/env node
// `npm run pack-check`: the packages as a user gets them. Packs akamu-client and akamu-cli (their
// `prepack` builds them), installs the two tarballs into an empty directory (akamu itself from the
// tarballs, never from a registry; their own dependencies from the registry as usual), then runs the
// installed binaries there: `npx akamu-cli --version`, `npx akamu --version`, a completion script,
// and one issuance against a local Pebble. Needs Pebble (`node packages/testkit/dist/fetch-pebble.js`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startPebble, tempDir } = await import(path.join(root, 'packages/testkit/dist/index.js'));

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok || !detail ? '' : `\n${detail.replace(/^/gm, '    ')}`}`);
  return ok;
}

/** Runs a program without a shell; exits the check on a failure to start. */
function run(file, args, opts = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, text: `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}` };
}

const work = tempDir('akamu-pack-check-');
const tarballs = path.join(work, 'tarballs');
const app = path.join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);
const cliVersion = JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8')).version;

// 1. pack (each package's prepack builds it)
const pack = run('npm', ['pack', '--json', '-w', 'akamu-client', '-w', 'akamu-cli', '--pack-destination', tarballs], { cwd: root });
if (!check('npm pack -w akamu-client -w akamu-cli', pack.code === 0, pack.text)) process.exit(1);
const packed = JSON.parse(pack.stdout);
const byName = Object.fromEntries(packed.map((p) => [p.name, p]));
const files = (name) => new Set((byName[name]?.files ?? []).map((f) => f.path));
const clientFiles = files('akamu-client');
const cliFiles = files('akamu-cli');
check('akamu-client tarball: dist, README.md, LICENSE; no sources or tests',
  ['dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE', 'package.json'].every((f) => clientFiles.has(f))
  && ![...clientFiles].some((f) => f.startsWith('src/') || f.startsWith('test/')), [...clientFiles].join('\n'));
check('akamu-cli tarball: bundle, launcher, README.md, LICENSE; no dist, sources or tests',
  ['bundle/main.js', 'bin/akamu-cli.js', 'README.md', 'LICENSE', 'package.json'].every((f) => cliFiles.has(f))
  && ![...cliFiles].some((f) => /^(src|test|dist)\//.test(f)), [...cliFiles].join('\n'));

// 2. install the two tarballs into an empty project
writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'akamu-pack-check-app', private: true }, null, 2)}\n`);
const install = run('npm', ['install', '--no-audit', '--no-fund', ...packed.map((p) => path.join(tarballs, p.filename))], { cwd: app });
if (!check('npm install <akamu-client tarball> <akamu-cli tarball> into an empty directory', install.code === 0, install.text)) process.exit(1);
const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
const akamuEntries = Object.entries(lock.packages).filter(([k]) => /(^|\/)node_modules\/akamu-(client|cli)$/.test(k));
check('akamu-client and akamu-cli come from the tarballs only (once each)',
  akamuEntries.length === 2 && akamuEntries.every(([, v]) => String(v.resolved).startsWith('file:')),
  JSON.stringify(akamuEntries, null, 2));

// 3. run the installed binaries (npx --no: never fetch a package)
const npx = (args) => run('npx', ['--no', '--', ...args], { cwd: app });
for (const bin of ['akamu-cli', 'akamu']) {
  const v = npx([bin, '--version']);
  check(`npx ${bin} --version prints ${cliVersion}`, v.code === 0 && v.stdout === `${cliVersion}\n`, v.text);
}
const help = npx(['akamu', 'issue', '--help']);
check('npx akamu issue --help', help.code === 0 && help.stdout.startsWith('Usage: akamu-cli issue [options]'), help.text);
const completion = npx(['akamu', 'completion', 'bash']);
const syntax = completion.code === 0 ? run('bash', ['-n'], { input: completion.stdout, stdio: ['pipe', 'pipe', 'pipe'] }) : completion;
check('npx akamu completion bash: a script bash can parse', completion.code === 0 && syntax.code === 0 && completion.stdout.includes('complete -F'), syntax.text);

// 4. one issuance against Pebble with the installed CLI
const pebble = await startPebble();
try {
  const out = path.join(work, 'certs', 'fullchain.pem');
  const issue = npx(['akamu', 'issue', '--server', pebble.directoryUrl, '--server-ca', pebble.caPemPath,
    '--account-key', path.join(work, 'account.pem'), '--agree-tos', '-d', 'pack-check.example.com',
    '--http-port', String(pebble.httpPort), '--out', out]);
  const chain = existsSync(out) ? readFileSync(out, 'utf8') : '';
  check('npx akamu issue against Pebble writes a chain, its key and renewal config',
    issue.code === 0 && (chain.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length >= 2
    && existsSync(`${out}.key.pem`) && existsSync(`${out}.renewal.toml`), issue.text);
  const renew = npx(['akamu-cli', 'renew', '--renewal-config', `${out}.renewal.toml`, '--server-ca', pebble.caPemPath]);
  check('npx akamu-cli renew --renewal-config: not yet due', renew.code === 0 && /Renewal not yet due/.test(renew.stdout), renew.text);
} finally {
  await pebble.stop();
}

console.log(`pack-check: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

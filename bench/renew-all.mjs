// The `renew --all` section of `npm run bench` (issue 12): one akamu-cli process over a fleet of
// certificates against a fresh Pebble, timed from spawn to exit:
//   - 1,000 certificates, nothing due, ARI answers fetched (no <cert>.ari.json yet)   ≤ 10 s
//   - the same again, ARI answers cached beside each certificate                      ≤ 2 s
//   - 100 certificates, all due (--force)                                              ≤ 15 s
// Fixtures: `renew --all` itself issues DISTINCT distinct certificates (renewal configs written
// by hand, no chain yet: each is issued), then each is copied into FLEET / DISTINCT directories
// with its own paths in its renewal config. Copies of one certificate share its certID, so Pebble
// answers the same ARI question for them; akamu still asks once per certificate path.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliBin, runCli, startPebble, tempDir } from '../packages/testkit/dist/index.js';

/**
 * Wall time, CPU time (user + sys) and peak RSS of one process, through GNU time when present
 * (CPU time tells what the run costs on a shared machine, where wall time also counts the waiting).
 */
function timed(file, args) {
  const gnu = existsSync('/usr/bin/time');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(gnu ? '/usr/bin/time' : file, gnu ? ['-f', 'BENCH-TIME %U %S %M', file, ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const m = /BENCH-TIME (\S+) (\S+) (\d+)\s*$/.exec(stderr);
      const cpuS = m ? Number(m[1]) + Number(m[2]) : undefined;
      // GNU time exits with the command's status
      resolve({ code, wallS, cpuS, rssKb: m ? Number(m[3]) : 0, stdout, stderr });
    });
  });
}

const FLEET = 1000;
const DUE = 100;
const DISTINCT = 50;

export const RENEW_ALL_TARGETS = [
  { key: 'fetched', label: `renew --all, ${FLEET} certificates, nothing due, ARI fetched`, targetS: 10 },
  { key: 'cached', label: `renew --all, ${FLEET} certificates, nothing due, ARI cached`, targetS: 2 },
  { key: 'due', label: `renew --all, ${DUE} certificates, all due (--force)`, targetS: 15 },
];

const q = (s) => JSON.stringify(s);

function renewalConfig({ server, accountKey, certPath, httpPort, name }) {
  return [
    `server = ${q(server)}`, `account_key = ${q(accountKey)}`, `cert_path = ${q(certPath)}`, `cert_key_path = ${q(`${certPath}.key.pem`)}`,
    `http_port = ${httpPort}`, '', '[[domains]]', 'type = "dns"', `value = ${q(name)}`, '',
  ].join('\n');
}

/** `count` copies of the issued certificates below `to`, each with a renewal config of its own paths. */
function copyFleet(issued, to, count, ctx) {
  for (let i = 0; i < count; i++) {
    const src = issued[i % issued.length];
    const dir = path.join(to, `g${Math.floor(i / 100)}`, `c${i}`);
    mkdirSync(dir, { recursive: true });
    const certPath = path.join(dir, 'fullchain.pem');
    cpSync(src.certPath, certPath);
    cpSync(`${src.certPath}.key.pem`, `${certPath}.key.pem`);
    writeFileSync(`${certPath}.renewal.toml`, renewalConfig({ ...ctx, certPath, name: src.name }), { mode: 0o600 });
  }
}

function removeAriCaches(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ari.json')) rmSync(path.join(e.parentPath ?? e.path, e.name));
  }
}

async function timedRun(pebble, args, expect) {
  const before = pebble.requestCount();
  const r = await timed(process.execPath, [cliBin, 'renew', '--all', ...args]);
  const requests = pebble.requestCount() - before;
  const summary = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !expect.test(summary)) throw new Error(`renew --all ${args[0]} failed (exit ${r.code}): ${summary}\n${r.stderr.slice(-2000)}`);
  return { wallS: r.wallS, cpuS: r.cpuS, rssMb: r.rssKb / 1024, requests, summary };
}

/** Runs the three timed cases; returns [{ key, label, targetS, wallS, rssMb, requests } | { …, error }]. */
export async function benchRenewAll() {
  const pebble = await startPebble({ nonceReject: 0, authzReuse: 0, retryAfter: { authz: 0, order: 0 } });
  const rows = [];
  try {
    const tmp = tempDir('akamu-bench-fleet-');
    const server = pebble.directoryUrl;
    const accountKey = path.join(tmp, 'account.pem');
    const reg = await runCli(['account', 'register', '--server', server, '--server-ca', pebble.caPemPath, '--account-key', accountKey, '--agree-tos']);
    if (reg.code !== 0) throw new Error(`account register failed: ${reg.stderr}`);
    const ctx = { server, accountKey, httpPort: pebble.httpPort };

    console.error(`bench: renew --all: issuing ${DISTINCT} fixture certificates with renew --all…`);
    const seedDir = path.join(tmp, 'seed');
    const issued = [];
    for (let i = 0; i < DISTINCT; i++) {
      const certPath = path.join(seedDir, `s${i}`, 'fullchain.pem');
      mkdirSync(path.dirname(certPath), { recursive: true });
      const name = `s${i}.fleet.bench.test`;
      writeFileSync(`${certPath}.renewal.toml`, renewalConfig({ ...ctx, certPath, name }), { mode: 0o600 });
      issued.push({ certPath, name });
    }
    const seed = await runCli(['renew', '--all', seedDir, '--server-ca', pebble.caPemPath, '--concurrency', '8'], { timeoutMs: 300_000 });
    if (seed.code !== 0) throw new Error(`issuing the fixtures failed (exit ${seed.code}):\n${seed.stdout.slice(-2000)}${seed.stderr.slice(-2000)}`);
    const fleetDir = path.join(tmp, 'fleet');
    copyFleet(issued, fleetDir, FLEET, ctx);
    const dueDir = path.join(tmp, 'due');
    copyFleet(issued, dueDir, DUE, ctx);

    const cases = {
      fetched: async () => {
        removeAriCaches(fleetDir);
        return timedRun(pebble, [fleetDir, '--server-ca', pebble.caPemPath], new RegExp(`^${FLEET} certificates .*: 0 renewed, ${FLEET} not due, 0 failed`));
      },
      cached: () => timedRun(pebble, [fleetDir, '--server-ca', pebble.caPemPath], new RegExp(`^${FLEET} certificates .*: 0 renewed, ${FLEET} not due, 0 failed`)),
      due: () => timedRun(pebble, [dueDir, '--server-ca', pebble.caPemPath, '--force'], new RegExp(`^${DUE} certificates .*: ${DUE} renewed, 0 not due, 0 failed`)),
    };
    for (const t of RENEW_ALL_TARGETS) {
      try {
        const res = await cases[t.key]();
        rows.push({ ...t, ...res });
        console.error(`bench: ${t.label}: ${res.wallS.toFixed(3)} s (CPU ${res.cpuS?.toFixed(2) ?? '?'} s), ${res.requests} requests`);
      } catch (e) {
        rows.push({ ...t, error: e instanceof Error ? e.message : String(e) });
        console.error(`bench: ${t.label}: FAILED\n${rows.at(-1).error}`);
      }
    }
  } finally {
    await pebble.stop();
  }
  return rows;
}

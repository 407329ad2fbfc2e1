#!/usr/bin/env node
// `npm run bench`: issue certificates for 1, 10 and 100 names with akamu-cli, lego and certbot,
// one after another against the same fresh Pebble, and compare wall time, peak RSS and the ACME
// requests Pebble served; then akamu-cli's start-up against a bare `node -e 0`.
// Exits non-zero when an issuance fails (a missed target is reported, not fatal).
//
// Then the `renew --all` fleet section (bench/renew-all.mjs).
//
// Usage: node bench/issue.mjs [--only=SECTIONS] [--peers=LIST] [--startup-runs=N] [N ...]   (default sizes: 1 10 100)
//   --only / BENCH_ONLY: the sections to run, comma-separated, from issue,renew-all (default: both);
//     e.g. `BENCH_ONLY=renew-all npm run bench`.
//   --peers / BENCH_PEERS: the clients besides akamu, comma-separated, from lego,certbot
//     (default: lego, and certbot when it is installed); `akamu` or an empty list runs akamu alone.
//   --startup-runs / BENCH_STARTUP_RUNS: fresh processes per start-up command (default 15; 0 skips).
//   BENCH_RSS=proc forces /proc VmHWM polling instead of /usr/bin/time.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openssl, startPebble, tempDir } from '../packages/testkit/dist/index.js';
import { CLIENTS } from './clients.mjs';
import { measure, rssMethod } from './measure.mjs';
import { renewAllTable, resultsTable, startupTable, TARGETS_TEXT, targetsTable } from './report.mjs';
import { benchRenewAll } from './renew-all.mjs';
import { measureStartup } from './startup.mjs';

/** A failure to explain in one message (no stack trace). */
class BenchError extends Error {}

function usage(msg) {
  console.error(`bench: ${msg}\nusage: node bench/issue.mjs [--peers=lego,certbot] [--startup-runs=N] [N ...]`);
  process.exit(2);
}

function parseArgs(argv) {
  const sizes = [];
  let peers = process.env.BENCH_PEERS;
  let startupRuns = process.env.BENCH_STARTUP_RUNS ?? '15';
  let only = process.env.BENCH_ONLY ?? 'issue,renew-all';
  for (const a of argv) {
    const m = /^--(peers|startup-runs|only)=(.*)$/.exec(a);
    if (m?.[1] === 'peers') peers = m[2];
    else if (m?.[1] === 'only') only = m[2];
    else if (m) startupRuns = m[2];
    else if (/^\d+$/.test(a) && Number(a) > 0) sizes.push(Number(a));
    else usage(`unknown argument '${a}'`);
  }
  if (!/^\d+$/.test(startupRuns)) usage(`--startup-runs must be a number, not '${startupRuns}'`);
  const known = CLIENTS.map((c) => c.name);
  let explicit;
  if (peers !== undefined) {
    explicit = peers.split(',').map((s) => s.trim()).filter((s) => s && s !== 'akamu');
    for (const p of explicit) if (!known.includes(p)) usage(`unknown peer '${p}' (known: ${known.slice(1).join(', ')})`);
  }
  const sections = only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of sections) if (!['issue', 'renew-all'].includes(s)) usage(`unknown section '${s}' (known: issue, renew-all)`);
  return { sizes: sizes.length ? sizes : [1, 10, 100], explicit, startupRuns: Number(startupRuns), sections };
}

/** The clients to run with their versions; certbot is skipped when missing unless asked for. */
async function locateClients(explicit) {
  const chosen = [];
  for (const c of CLIENTS) {
    if (c.name !== 'akamu' && explicit && !explicit.includes(c.name)) continue;
    try {
      chosen.push({ client: c, version: await c.locate() });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (c.name === 'certbot' && !explicit) {
        console.log(`certbot: skipped (${msg.split('\n')[0]})`);
        continue;
      }
      throw new BenchError(`cannot run ${c.name}: ${msg}\n(choose the peers with BENCH_PEERS=…, e.g. BENCH_PEERS=akamu)`);
    }
  }
  return chosen;
}

const domainsFor = (client, n) => Array.from({ length: n }, (_, i) => `n${i + 1}.${client}-${n}.bench.test`);

/** One timed issuance; throws when the client fails or its certificate lacks a name. */
async function issueOnce(pebble, client, command, n) {
  const cmd = command(domainsFor(client, n));
  const before = pebble.requestCount();
  const r = await measure(cmd.file, cmd.args, cmd.env);
  const requests = pebble.requestCount() - before;
  if (r.code !== 0) throw new Error(`${client} (${n} names) failed (exit ${r.code ?? r.signal}):\n${r.stdout}${r.stderr}`);
  const pem = existsSync(cmd.certPath) ? readFileSync(cmd.certPath, 'utf8') : '';
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${client} (${n} names) exited 0 but wrote no certificate to ${cmd.certPath}:\n${r.stdout}${r.stderr}`);
  }
  const san = await openssl(['x509', '-noout', '-ext', 'subjectAltName'], pem);
  const got = (san.match(/DNS:/g) ?? []).length;
  if (got !== n) throw new Error(`${client}: certificate for ${n} names has ${got} DNS names`);
  return { wallS: r.wallS, rssMb: r.rssKb / 1024, requests };
}

async function main() {
  const { sizes, explicit, startupRuns, sections } = parseArgs(process.argv.slice(2));
  let failed = false;
  if (sections.includes('issue')) failed = await benchIssue(sizes, explicit, startupRuns);
  if (sections.includes('renew-all')) {
    console.log(`\nrenew --all benchmark — one akamu-cli process per run against a fresh Pebble (wall time from spawn to exit):`);
    const rows = await benchRenewAll();
    console.log(renewAllTable(rows));
    console.log('A missed target is reported, not fatal.');
    failed ||= rows.some((r) => r.error);
  }
  process.exitCode = failed ? 1 : 0;
}

/** The issuance section; true when an issuance failed. */
async function benchIssue(sizes, explicit, startupRuns) {
  console.log(`ACME issuance benchmark — node ${process.version}, peak RSS via ${await rssMethod()}`);
  const clients = await locateClients(explicit);
  for (const { client, version } of clients) console.log(`${client.name}: ${version}; account: ${client.account}`);
  console.log('Pebble (one instance for all runs): PEBBLE_VA_NOSLEEP=1, nonce reject 0%, authz reuse 0%, Retry-After 0;');
  console.log('each client answers http-01 itself on Pebble\'s httpPort; wall time and requests cover the issuance only.\n');

  let startup;
  if (startupRuns > 0) {
    console.error(`bench: start-up, ${startupRuns} fresh processes per command…`);
    startup = await measureStartup(startupRuns);
  }

  const pebble = await startPebble({ nonceReject: 0, authzReuse: 0, retryAfter: { authz: 0, order: 0 } });
  const results = [];
  try {
    const tmp = tempDir('akamu-bench-');
    const commands = new Map();
    for (const { client } of clients) {
      const dir = path.join(tmp, client.name);
      commands.set(client.name, await client.prepare(pebble, dir));
    }
    for (const n of sizes) {
      for (const { client } of clients) {
        try {
          const res = await issueOnce(pebble, client.name, commands.get(client.name), n);
          results.push({ n, client: client.name, ...res });
          console.error(`bench: ${client.name}, ${n} name(s): ${res.wallS.toFixed(3)} s`);
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          results.push({ n, client: client.name, error });
          console.error(`bench: ${client.name}, ${n} name(s): FAILED\n${error}`);
        }
      }
    }
  } finally {
    await pebble.stop();
  }

  console.log(resultsTable(results));
  if (startup) console.log(`\nStart-up (median of ${startupRuns} fresh processes each, interleaved):\n${startupTable(startup)}`);
  console.log(`\n${targetsTable(results, startup)}\n\n${TARGETS_TEXT}`);
  return results.some((r) => r.error);
}

main().catch((e) => {
  console.error(`bench: ${e instanceof BenchError ? e.message : e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 1;
});

#!/usr/bin/env node
// `npm run bench`: time one `akamu-cli issue` for 1, 10 and 100 names against a fresh Pebble.
// Measures wall time, the child's peak RSS and the ACME requests Pebble served.
// Exits non-zero only when an issuance fails (a missed target is reported, not fatal).
//
// Usage: node bench/issue.mjs [N ...]   (default: 1 10 100)
// BENCH_RSS=proc forces /proc VmHWM polling instead of /usr/bin/time.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cliBin, openssl, runCli, startPebble, tempDir } from '../packages/testkit/dist/index.js';

const SIZES = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
if (SIZES.length === 0) SIZES.push(1, 10, 100);

const TIME_BIN = '/usr/bin/time';

/** Wall-time targets (seconds): 1 name ≤ 0.6 s, 100 names ≤ 3 s; other sizes have none. */
const WALL_TARGETS = new Map([[1, 0.6], [100, 3]]);
const requestTarget = (n) => 2 * n + 8;

async function hasGnuTime() {
  if (process.env.BENCH_RSS === 'proc' || !existsSync(TIME_BIN)) return false;
  const r = await measureRun(TIME_BIN, ['-f', '%M', process.execPath, '-e', '0'], false);
  return r.code === 0 && /^\d+\s*$/m.test(r.stderr);
}

/** Spawn and collect output; when `pollRss`, sample /proc/<pid>/status VmHWM until exit. */
function measureRun(file, args, pollRss) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    let hwmKb = 0;
    let timer;
    if (pollRss) {
      const sample = () => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
        } catch { /* exited */ }
      };
      timer = setInterval(sample, 5);
      sample();
    }
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ code, signal, wallS, hwmKb, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

async function benchOne(n, gnuTime) {
  const pebble = await startPebble({ nonceReject: 0, authzReuse: 0, retryAfter: { authz: 0, order: 0 } });
  try {
    const tmp = tempDir('akamu-bench-');
    const server = ['--server', pebble.directoryUrl, '--server-ca', pebble.caPemPath];
    const accountKey = path.join(tmp, 'account.pem');
    const reg = await runCli(['account', 'register', ...server, '--account-key', accountKey, '--agree-tos'], { timeoutMs: 120_000 });
    if (reg.code !== 0) throw new Error(`account register failed (exit ${reg.code}):\n${reg.stdout}${reg.stderr}`);

    const names = [];
    for (let i = 1; i <= n; i++) names.push('-d', `n${i}.bench.test`);
    const cliArgs = [cliBin, 'issue', ...server, '--account-key', accountKey, ...names,
      '--http-port', String(pebble.httpPort), '--out', path.join(tmp, `bench-${n}.pem`)];

    const before = pebble.requestCount();
    const r = gnuTime
      ? await measureRun(TIME_BIN, ['-f', '%M', process.execPath, ...cliArgs], false)
      : await measureRun(process.execPath, cliArgs, true);
    const requests = pebble.requestCount() - before;
    let stderr = r.stderr;
    let rssKb = r.hwmKb;
    if (gnuTime) {
      // GNU time prints its format as the last stderr line.
      const lines = stderr.replace(/\s+$/, '').split('\n');
      const last = lines.pop() ?? '';
      if (/^\d+$/.test(last.trim())) {
        rssKb = Number(last.trim());
        stderr = lines.join('\n');
      }
      // A non-zero exit makes GNU time add "Command exited with non-zero status N".
      stderr = stderr.replace(/^Command exited with non-zero status \d+\n?/m, '');
    }
    if (r.code !== 0) {
      throw new Error(`akamu-cli issue (${n} names) failed (exit ${r.code ?? r.signal}):\n${r.stdout}${stderr}`);
    }
    const outPem = path.join(tmp, `bench-${n}.pem`);
    const pem = existsSync(outPem) ? readFileSync(outPem, 'utf8') : '';
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`akamu-cli issue (${n} names) exited 0 but wrote no certificate to ${outPem}:\n${r.stdout}${stderr}`);
    }
    const san = await openssl(['x509', '-noout', '-ext', 'subjectAltName'], pem);
    const got = (san.match(/DNS:/g) ?? []).length;
    if (got !== n) throw new Error(`certificate for ${n} names has ${got} DNS names`);
    return { n, wallS: r.wallS, rssMb: rssKb / 1024, requests };
  } finally {
    await pebble.stop();
  }
}

async function main() {
  const gnuTime = await hasGnuTime();
  console.log(`akamu-cli issue benchmark — node ${process.version}, peak RSS via ${gnuTime ? `${TIME_BIN} -f %M` : '/proc/<pid>/status VmHWM polling'}`);
  console.log('Pebble: PEBBLE_VA_NOSLEEP=1, nonce reject 0%, authz reuse 0%, Retry-After 0; http-01 on Pebble\'s httpPort\n');

  const rows = [];
  let failed = false;
  for (const n of SIZES) {
    try {
      const res = await benchOne(n, gnuTime);
      rows.push(res);
      console.error(`bench: ${n} name(s): ${res.wallS.toFixed(3)} s`);
    } catch (e) {
      failed = true;
      rows.push({ n, error: e instanceof Error ? e.message : String(e) });
      console.error(`bench: ${n} name(s): FAILED\n${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const header = ['names', 'wall s', 'peak RSS MB', 'ACME requests', 'target', 'met'];
  const table = rows.map((r) => {
    const wt = WALL_TARGETS.get(r.n);
    const target = `${wt !== undefined ? `≤ ${wt} s, ` : ''}≤ ${requestTarget(r.n)} req`;
    if (r.error) return [String(r.n), 'FAILED', '-', '-', target, 'no (issuance failed)'];
    const timeOk = wt === undefined || r.wallS <= wt;
    const reqOk = r.requests <= requestTarget(r.n);
    const met = timeOk && reqOk ? 'yes' : `no (${[!timeOk && 'time', !reqOk && 'requests'].filter(Boolean).join(', ')})`;
    return [String(r.n), r.wallS.toFixed(3), r.rssMb.toFixed(1), String(r.requests), target, met];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const fmt = (row) => row.map((c, i) => c.padEnd(widths[i])).join(' | ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of table) console.log(fmt(row));
  console.log('\nTargets: 1 name ≤ 0.6 s, 100 names ≤ 3 s, ACME requests ≤ 2N+8.');
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 1;
});

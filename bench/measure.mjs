// Run one process and measure it: wall time (spawn to exit, from this process) and peak RSS,
// through GNU time's %M or, failing that (or with BENCH_RSS=proc), by polling /proc/<pid>/status.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const TIME_BIN = '/usr/bin/time';

let gnuTime;

/** Whether peak RSS comes from GNU time (checked once). */
export async function usesGnuTime() {
  if (gnuTime === undefined) {
    gnuTime = false;
    if (process.env.BENCH_RSS !== 'proc' && existsSync(TIME_BIN)) {
      const r = await spawnCollect(TIME_BIN, ['-f', '%M', process.execPath, '-e', '0'], {}, false);
      gnuTime = r.code === 0 && /^\d+\s*$/m.test(r.stderr);
    }
  }
  return gnuTime;
}

export async function rssMethod() {
  return (await usesGnuTime()) ? `${TIME_BIN} -f %M` : '/proc/<pid>/status VmHWM polling';
}

/**
 * Run `file args` (env added to this process's) and return
 * { code, signal, wallS, rssKb, stdout, stderr } — stderr without GNU time's own lines.
 */
export async function measure(file, args, env = {}) {
  if (!(await usesGnuTime())) {
    const r = await spawnCollect(file, args, env, true);
    return { ...r, rssKb: r.hwmKb };
  }
  const r = await spawnCollect(TIME_BIN, ['-f', '%M', file, ...args], env, false);
  // GNU time prints its format as the last stderr line; a non-zero exit makes it add
  // "Command exited with non-zero status N" (or "Command terminated by signal N").
  const lines = r.stderr.replace(/\s+$/, '').split('\n');
  let rssKb = 0;
  if (/^\d+$/.test((lines.at(-1) ?? '').trim())) rssKb = Number(lines.pop().trim());
  const stderr = lines.filter((l) => !/^Command (exited with non-zero status|terminated by signal) \d+$/.test(l)).join('\n');
  return { ...r, rssKb, stderr };
}

/** Spawn and collect output; when `pollRss`, sample /proc/<pid>/status VmHWM until exit. */
function spawnCollect(file, args, env, pollRss) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Run `file args` and return { code, signal, wallS, stdout, stderr } (no RSS). */
export function timed(file, args, env = {}) {
  return spawnCollect(file, args, env, false);
}

// A private pebble-challtestsrv as the test CA's DNS server for dns-01 (the same binary and flags
// startPebble uses; only DNS and its management API are switched on).

import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { findPebble } from '../fetch-pebble.js';
import { freePort, installExitHooks, killAndWait, spawnLogged } from '../pebble.js';

export interface Challtestsrv {
  /** "127.0.0.1:<port>" (UDP and TCP). */
  dnsServer: string;
  managementUrl: string;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  stop(): Promise<void>;
}

const fqdn = (h: string) => (h.endsWith('.') ? h : `${h}.`);

export async function startChalltestsrv(dir: string, timeoutMs = 20_000): Promise<Challtestsrv> {
  installExitHooks();
  const { challtestsrv } = await findPebble();
  for (let attempt = 1; ; attempt++) {
    const [dnsPort, mgmtPort] = [await freePort(true), await freePort()];
    const logPath = path.join(dir, 'challtestsrv.log');
    await fs.writeFile(logPath, '');
    const child = spawnLogged(challtestsrv, [
      '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dnsserver', `127.0.0.1:${dnsPort}`,
      '-http01', '', '-https01', '', '-tlsalpn01', '', '-doh', '', '-management', `127.0.0.1:${mgmtPort}`,
    ], { ...process.env }, logPath, dir);
    const managementUrl = `http://127.0.0.1:${mgmtPort}`;
    const deadline = Date.now() + timeoutMs;
    let up = false;
    while (!up && child.exitInfo() === undefined && Date.now() < deadline) {
      up = await fetch(`${managementUrl}/`).then(() => true, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 25));
    }
    if (!up) {
      await killAndWait(child);
      const log = readFileSync(logPath, 'utf8');
      if (/address already in use/i.test(log) && attempt < 5) continue;
      throw new Error(`pebble-challtestsrv did not start (${child.exitInfo() ?? 'timeout'}):\n${log}`);
    }
    const post = async (endpoint: string, body: object) => {
      const r = await fetch(`${managementUrl}/${endpoint}`, { method: 'POST', body: JSON.stringify(body) });
      if (r.status !== 200) throw new Error(`challtestsrv ${endpoint}: HTTP ${r.status} ${await r.text()}`);
    };
    return {
      dnsServer: `127.0.0.1:${dnsPort}`, managementUrl,
      setTxt: (host, value) => post('set-txt', { host: fqdn(host), value }),
      clearTxt: (host) => post('clear-txt', { host: fqdn(host) }),
      stop: () => killAndWait(child),
    };
  }
}

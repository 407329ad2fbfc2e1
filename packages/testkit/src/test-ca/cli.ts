// `npm run test-ca -- [--port P | --socket PATH] [--eab] [--http-port P] [--tls-port P] [--dns-server HOST:PORT]`
// Starts the test CA, prints its directory URL and root certificate path, and runs until killed.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startTestCa } from './index.js';

const USAGE = 'usage: npm run test-ca -- [--port P | --socket PATH] [--eab] [--http-port P] [--tls-port P] [--dns-server HOST:PORT]';

function port(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag}: not a port number: ${v}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' }, socket: { type: 'string' }, eab: { type: 'boolean' },
      'http-port': { type: 'string' }, 'tls-port': { type: 'string' }, 'dns-server': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.port !== undefined && values.socket !== undefined) throw new Error('--port and --socket are mutually exclusive');
  const eabKid = 'kid-1';
  const eabKey = randomBytes(32).toString('base64url');
  const ca = await startTestCa({
    port: port(values.port, '--port') ?? 0,
    ...(values.socket ? { socketPath: path.resolve(values.socket) } : {}),
    ...(values.eab ? { eabKeys: { [eabKid]: eabKey } } : {}),
    httpPort: port(values['http-port'], '--http-port') ?? 5002,
    tlsPort: port(values['tls-port'], '--tls-port') ?? 5001,
    ...(values['dns-server'] ? { dnsServer: values['dns-server'] } : {}),
  });
  const out = [`directory: ${ca.directoryUrl}`, `root certificate: ${ca.caPemPath}`,
    `http-01 port: ${ca.httpPort}, tls-alpn-01 port: ${ca.tlsPort}`];
  if (ca.dnsServer) out.push(`dns-01 resolver: ${ca.dnsServer}${ca.challtestsrvUrl ? ` (challtestsrv management: ${ca.challtestsrvUrl})` : ''}`);
  if (values.eab) {
    // The HMAC key is a secret: it goes to a 0600 file, never to the terminal.
    const eabPath = path.join(ca.dir, 'eab.json');
    writeFileSync(eabPath, `${JSON.stringify({ kid: eabKid, hmac_key: eabKey })}\n`, { mode: 0o600 });
    out.push(`eab: kid ${eabKid}, HMAC key (base64url) in ${eabPath}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  const stop = () => {
    ca.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: Error) => {
  process.stderr.write(`error: ${e.message}\n${USAGE}\n`);
  process.exit(2);
});

// `npm run demo`: the real akamu-cli against a private Pebble — register, issue, show, revoke.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startPebble, type Pebble } from './pebble.js';
import { openssl, OpensslError, runCli, tempDir, type RunResult } from './util.js';

class StepFailed extends Error {}

function indent(text: string, prefix: string): string {
  return text.replace(/\s+$/, '').split('\n').map((l) => `${prefix}${l}`).join('\n');
}

async function main(): Promise<number> {
  const tmp = tempDir('akamu-demo-');
  console.log('Starting Pebble 2.10 (test CA) and challtestsrv on loopback…');
  const pebble: Pebble = await startPebble({ nonceReject: 5 });
  try {
    console.log(`  directory: ${pebble.directoryUrl}`);
    console.log(`  TLS CA:    ${pebble.caPemPath}`);
    console.log(`  http-01 validation port: ${pebble.httpPort}`);
    console.log(`  work dir:  ${tmp}`);
    console.log('');

    const short = (s: string) => s
      .split(pebble.caPemPath).join('$CA')
      .split(pebble.directoryUrl).join('$SERVER')
      .split(tmp).join('$TMP');
    const run = async (args: string[]): Promise<RunResult> => {
      console.log(`$ akamu-cli ${args.map((a) => short(a)).join(' ')}`);
      const t0 = performance.now();
      const r = await runCli(args, { timeoutMs: 180_000 });
      const ms = Math.round(performance.now() - t0);
      if (r.stdout.trim()) console.log(indent(short(r.stdout), '  '));
      if (r.stderr.trim()) console.log(indent(short(r.stderr), '  stderr| '));
      console.log(`  [exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}, ${ms} ms]`);
      console.log('');
      if (r.code !== 0) throw new StepFailed(`akamu-cli ${args[0]}${args[1] && !args[1].startsWith('-') ? ` ${args[1]}` : ''} failed`);
      return r;
    };

    const server = ['--server', pebble.directoryUrl, '--server-ca', pebble.caPemPath];
    const accountKey = path.join(tmp, 'account.pem');
    const outDir = path.join(tmp, 'demo');
    mkdirSync(outDir, { recursive: true });
    const fullchain = path.join(outDir, 'fullchain.pem');

    await run(['account', 'register', ...server, '--account-key', accountKey,
      '--contact', 'mailto:demo@example.com', '--agree-tos']);
    await run(['issue', ...server, '--account-key', accountKey,
      '-d', 'demo.example.com', '-d', 'www.demo.example.com',
      '--http-port', String(pebble.httpPort), '--out', fullchain]);

    if (!existsSync(fullchain) || !readFileSync(fullchain, 'utf8').includes('-----BEGIN CERTIFICATE-----')) {
      throw new StepFailed(`issue exited 0 but wrote no certificate to ${short(fullchain)}`);
    }
    const facts = await openssl(['x509', '-noout', '-subject', '-issuer', '-serial', '-enddate', '-ext', 'subjectAltName', '-in', fullchain]);
    console.log(`Issued certificate (${short(fullchain)}):`);
    console.log(indent(facts, '  '));
    console.log('');

    await run(['account', 'show', ...server, '--account-key', accountKey]);
    await run(['revoke', ...server, '--account-key', accountKey, '--cert', fullchain, '--reason', '1']);

    const serialLine = (await openssl(['x509', '-serial', '-noout', '-in', fullchain])).trim();
    const renewal = `${fullchain}.renewal.toml`;
    const serialHex = serialLine.replace(/^serial=/i, '');
    const status = await pebble.certStatus(serialHex);
    console.log(`Pebble's status for serial ${serialHex}: ${status.Status}`
      + (status.Reason !== undefined ? ` (reason ${String(status.Reason)})` : ''));
    if (String(status.Status).toLowerCase() !== 'revoked') {
      throw new StepFailed(`expected Pebble to report the certificate as Revoked, got ${JSON.stringify(status.Status)}`);
    }
    // ARI: Pebble moved the revoked certificate's renewal window into the past
    await run(['renew', '--renewal-config', renewal, '--server-ca', pebble.caPemPath]);
    await run(['renew', '--renewal-config', renewal, '--server-ca', pebble.caPemPath]);
    console.log(`Pebble served ${pebble.requestCount()} ACME requests.`);
    console.log('\nDemo complete.');
    return 0;
  } catch (e) {
    console.error(`\ndemo: FAILED: ${e instanceof Error ? e.message : String(e)}`);
    if (!(e instanceof StepFailed) && !(e instanceof OpensslError)) console.error(e);
    return 1;
  } finally {
    await pebble.stop();
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    console.error(`demo: FAILED: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    process.exitCode = 1;
  },
);

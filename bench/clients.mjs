// The ACME clients the benchmark runs against one Pebble: akamu and its peers lego and certbot.
//
// Each client has
//   locate()               → its version (rejects when it cannot be found or fetched);
//   prepare(pebble, dir)   → registers an account, outside the timed part, and returns
//                            command(domains) → { file, args, env, certPath } for one timed issuance;
//   account                → how that account was made (printed with the results).
// Every client solves http-01 with its own server on Pebble's httpPort.

import path from 'node:path';
import {
  certbotCommand, certbotTree, certbotVersion, certonlyArgs, cliBin, findLego, legoVersion, runCli, runCertbot, runProgram,
} from '../packages/testkit/dist/index.js';

const EMAIL = 'bench@example.com';

const akamu = {
  name: 'akamu',
  account: '`akamu-cli account register` beforehand',
  async locate() {
    const r = await runCli(['--version']);
    if (r.code !== 0) throw new Error(`akamu-cli --version failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  },
  async prepare(pebble, dir) {
    const server = ['--server', pebble.directoryUrl, '--server-ca', pebble.caPemPath];
    const accountKey = path.join(dir, 'account.pem');
    const reg = await runCli(['account', 'register', ...server, '--account-key', accountKey, '--agree-tos'], { timeoutMs: 120_000 });
    if (reg.code !== 0) throw new Error(`akamu-cli account register failed (exit ${reg.code}):\n${reg.stdout}${reg.stderr}`);
    let k = 0;
    return (domains) => {
      const certPath = path.join(dir, `cert-${++k}.pem`);
      return {
        file: process.execPath,
        args: [cliBin, 'issue', ...server, '--account-key', accountKey, ...domains.flatMap((d) => ['-d', d]),
          '--http-port', String(pebble.httpPort), '--out', certPath],
        env: {},
        certPath,
      };
    };
  },
};

let legoBin;

const lego = {
  name: 'lego',
  // lego has no register-only command: `lego run` registers when its --path holds no account.
  account: 'a warm-up `lego run` for one other name beforehand (lego cannot register without issuing)',
  async locate() {
    const found = await findLego({ log: (s) => console.error(`bench: ${s}`) });
    legoBin = found.lego;
    const v = await legoVersion(legoBin);
    if (!v) throw new Error(`${legoBin} --version reports no version`);
    return `${v} (${found.source}: ${legoBin})`;
  },
  async prepare(pebble, dir) {
    const env = { LEGO_CA_CERTIFICATES: pebble.caPemPath };
    const command = (domains) => ({
      file: legoBin,
      args: ['--accept-tos', '--server', pebble.directoryUrl, '--email', EMAIL,
        '--http', '--http.port', `:${pebble.httpPort}`, '--path', dir, ...domains.flatMap((d) => ['-d', d]), 'run'],
      env,
      certPath: path.join(dir, 'certificates', `${domains[0]}.crt`),
    });
    const warm = command(['warmup.lego.bench.test']);
    const r = await runProgram(warm.file, warm.args, { env, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`lego warm-up run (account registration) failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    return command;
  },
};

const certbot = {
  name: 'certbot',
  account: '`certbot register` beforehand',
  locate: certbotVersion,
  async prepare(pebble, dir) {
    const tree = certbotTree(pebble, path.join(dir, 'letsencrypt'));
    await runCertbot(tree, ['register', '--server', pebble.directoryUrl, '--agree-tos', '-m', EMAIL]);
    return (domains) => {
      const args = [...certonlyArgs(tree, { domains, auth: { kind: 'standalone' }, email: EMAIL }), '--no-random-sleep-on-renew'];
      return { ...certbotCommand(tree, args), certPath: path.join(tree.configDir, 'live', domains[0], 'cert.pem') };
    };
  },
};

/** In table order; akamu first. */
export const CLIENTS = [akamu, lego, certbot];

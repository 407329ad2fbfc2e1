/**
 * certbot's deploy hook (`renew_hook` in a renewal conf) carried over to akamu's `deploy_hook`.
 *
 * certbot ran the hook as a shell command line (`subprocess.run(hook, shell=True)`), with
 * `RENEWED_LINEAGE` (its `live/<name>/` folder: cert.pem, chain.pem, fullchain.pem, privkey.pem)
 * and `RENEWED_DOMAINS` (the names, space-separated). akamu's deploy hooks run one program without
 * a shell, so the import writes a small wrapper script beside the certificate (0700, the
 * operator's to read) and stores its path as `deploy_hook`. The wrapper
 *   - gives the hook a certbot-shaped lineage folder `<cert>.live/`: fullchain.pem and privkey.pem
 *     are links to akamu's chain and key, cert.pem and chain.pem are split from the chain on each run;
 *   - sets RENEWED_LINEAGE to that folder and RENEWED_DOMAINS from AKAMU_DOMAINS (akamu's AKAMU_*
 *     variables stay set);
 *   - runs certbot's command line with `/bin/sh -c`, exactly as certbot did. The command line is
 *     the one in certbot's conf, quoted once; no value of the run is ever put into it.
 */
import { basename, join, relative } from 'node:path';

/** `'…'` for /bin/sh: the text exactly, whatever it holds. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface DeployWrapperPlan {
  /** The wrapper script (`deploy_hook`). */
  scriptPath: string;
  script: string;
  /** The certbot-shaped lineage folder and its two links (target relative to the folder). */
  lineageDir: string;
  links: { path: string; target: string }[];
}

/** The wrapper for certbot deploy hook `command` of the certificate at `chainPath` (key at `keyPath`). */
export function planDeployWrapper(command: string, lineage: string, chainPath: string, keyPath: string): DeployWrapperPlan {
  const scriptPath = `${chainPath}.certbot-deploy-hook`;
  const lineageDir = `${chainPath}.live`;
  const links = [
    { path: join(lineageDir, 'fullchain.pem'), target: relative(lineageDir, chainPath) },
    { path: join(lineageDir, 'privkey.pem'), target: relative(lineageDir, keyPath) },
  ];
  const script = [
    '#!/bin/sh',
    `# Written by akamu-cli import certbot: the deploy hook of certbot lineage ${lineage.replace(/[\r\n]/g, ' ')},`,
    '# run as certbot ran it (through /bin/sh, with RENEWED_LINEAGE and RENEWED_DOMAINS);',
    `# akamu runs this file as the deploy_hook of ${basename(chainPath)}. AKAMU_* variables stay set.`,
    'set -e',
    `RENEWED_LINEAGE=${shellQuote(lineageDir)}`,
    'RENEWED_DOMAINS="$AKAMU_DOMAINS"',
    'export RENEWED_LINEAGE RENEWED_DOMAINS',
    '# cert.pem (the leaf) and chain.pem (the rest), as certbot keeps them',
    'umask 022',
    `awk -v cert="$RENEWED_LINEAGE/cert.pem.tmp" -v chain="$RENEWED_LINEAGE/chain.pem.tmp" \\`,
    `  'BEGIN { n = 0; printf "" > cert; printf "" > chain } /-----BEGIN /{ n++ } n == 1 { print > cert } n > 1 { print > chain }' \\`,
    `  ${shellQuote(chainPath)}`,
    'mv -f "$RENEWED_LINEAGE/cert.pem.tmp" "$RENEWED_LINEAGE/cert.pem"',
    'mv -f "$RENEWED_LINEAGE/chain.pem.tmp" "$RENEWED_LINEAGE/chain.pem"',
    `exec /bin/sh -c ${shellQuote(command)}`,
    '',
  ].join('\n');
  return { scriptPath, script, lineageDir, links };
}

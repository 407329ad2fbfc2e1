// Bundles the CLI (with akamu-client, commander, smol-toml and the ASN.1 modules) into bundle/,
// ES modules with code splitting: every dynamic import() stays a lazily loaded chunk, so
// `--version` and `--help` still load almost nothing. One file per chunk instead of ~150 modules
// saves the module resolution and CommonJS-lexing time that dominated a short issuance.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/bundle`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['dist/main.js'],
  outdir: 'bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // prefer the ES module builds (the @peculiar ASN.1 packages ship one): real named exports
  mainFields: ['module', 'main'],
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins
  banner: { js: "import { createRequire as __akamuRequire } from 'node:module'; const require = __akamuRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
  // the optional native Kerberos binding is loaded at run time from node_modules, when it is there
  external: ['kerberos'],
});

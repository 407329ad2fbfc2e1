#!/usr/bin/env node
// `prepublishOnly` of the published packages: refuses to publish while package.json still names the
// placeholder repository (a reserved `.invalid` host, RFC 6761) instead of the project's real home.
// `npm pack` is not affected.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const urls = [pkg.repository?.url, pkg.homepage].filter(Boolean);
const placeholder = urls.find((u) => /^(git\+)?https?:\/\/[^/]*\.invalid(\/|$|#)/.test(u));
if (placeholder !== undefined || urls.length < 2) {
  console.error(`${pkg.name}: not publishing: set "repository" and "homepage" in package.json to the project's real location first (now: ${urls.join(', ') || 'none'})`);
  process.exit(1);
}

#!/usr/bin/env node
// Run the test suite: every packages/*/test/**/*.test.ts (sorted), or the files given as arguments.
// Node 20's --test does not expand folders or quoted globs (it silently runs nothing), so the
// file list is always built here.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir, out) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (ent.name === 'node_modules' || ent.name.startsWith('.')) continue;
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) walk(p, out);
    else if (ent.isFile() && ent.name.endsWith('.test.ts')) out.push(p);
  }
}

let files = [];
const args = process.argv.slice(2);
if (args.length > 0) {
  for (const a of args) {
    const p = path.resolve(a);
    if (!existsSync(p)) {
      console.error(`run-tests: no such file or directory: ${a}`);
      process.exit(2);
    }
    if (statSync(p).isDirectory()) walk(p, files);
    else files.push(p);
  }
} else {
  const pkgs = path.join(root, 'packages');
  for (const pkg of readdirSync(pkgs).sort()) {
    const t = path.join(pkgs, pkg, 'test');
    if (existsSync(t) && statSync(t).isDirectory()) walk(t, files);
  }
}
files = [...new Set(files)].sort();
if (files.length === 0) {
  console.error('run-tests: ERROR: no test files found (expected packages/*/test/**/*.test.ts)');
  process.exit(1);
}
console.error(`run-tests: ${files.length} test file(s)`);
const child = spawn(process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=3', ...files.map((f) => path.relative(root, f))],
  { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`run-tests: test runner killed by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});

import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { findLego, legoVersion, runProgram, tempDir } from '../src/index.js';

/** A fake `lego` that only answers --version, in a fresh directory. */
function fakeLego(version: string): string {
  const dir = tempDir('akamu-fake-lego-');
  const p = path.join(dir, 'lego');
  writeFileSync(p, `#!/bin/sh\necho "lego version ${version} linux/amd64"\n`);
  chmodSync(p, 0o755);
  return p;
}

async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

describe('testkit: lego (independent ACME client)', () => {
  it('finds lego 4.35 (fetched from Debian sid unless LEGO_BIN or a recent one on PATH)', { timeout: 600_000 }, async () => {
    const { lego, source } = await findLego();
    assert.ok(['env', 'cache', 'path', 'fetched'].includes(source));
    const r = await runProgram(lego, ['--version'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^lego version 4\.35\.\d+ /);
    assert.match(await legoVersion(lego) ?? '', /^4\.35\./);
  });

  it('takes LEGO_BIN first, and a lego >= 4.35 on PATH before fetching', async () => {
    const root = tempDir('akamu-lego-root-');  // no .cache here
    const env = fakeLego('4.9.1');
    assert.deepEqual(await withEnv({ LEGO_BIN: env }, () => findLego({ root })), { lego: env, source: 'env' });
    const newer = fakeLego('4.36.0');
    const found = await withEnv({ LEGO_BIN: undefined, PATH: `${path.dirname(newer)}${path.delimiter}${process.env.PATH}` },
      () => findLego({ root }));
    assert.deepEqual(found, { lego: newer, source: 'path' });
    await assert.rejects(withEnv({ LEGO_BIN: path.join(root, 'missing') }, () => findLego({ root })), /is not an executable file/);
  });
});

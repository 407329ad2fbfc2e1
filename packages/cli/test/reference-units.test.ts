/**
 * The command reference to the letter, without a CA (issue 11): the help text and the launcher's
 * Node.js version check. The log levels are in units.test.ts, the renderer's lines in
 * render.test.ts, the end-to-end side in reference-output.test.ts and reference-issue.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runInNewContext, Script } from 'node:vm';
import { transformSync } from 'esbuild';
import { main } from '../src/main.js';
import { cliBin } from '../../testkit/src/index.js';

describe('help text', () => {
  it('--dns-hook names dns-persist-01 too; issue has --contact and --agree-tos', async () => {
    for (const command of ['issue', 'renew']) {
      let out = '';
      const code = await main(['node', 'akamu-cli', command, '--help'], { out: (t) => (out += t), err: () => {} });
      assert.equal(code, 0);
      assert.match(out.replace(/\s+/g, ' '), /--dns-hook <CMD> hook program for dns-01 \/ dns-persist-01 record management/, command);
      if (command === 'issue') {
        assert.match(out, /--contact <URI>/);
        assert.match(out, /--agree-tos/);
      }
    }
  });
});

describe('the launcher on an old Node.js', () => {
  const source = readFileSync(cliBin, 'utf8');

  /** Runs the launcher as a script in a sandbox that plays a Node.js of the given version. */
  function runAs(version: string): { stderr: string; exitCode?: number; imported: boolean } {
    const state: { stderr: string; exitCode?: number; imported: boolean } = { stderr: '', imported: false };
    class Exit extends Error {}
    const fakeProcess = {
      version: `v${version}`,
      versions: { node: version },
      argv: ['node', cliBin],
      stderr: { write: (s: string) => { state.stderr += s; } },
      exit: (code: number) => {
        state.exitCode = code;
        throw new Exit();
      },
    };
    // the sandbox's Function cannot import(): it records the attempt instead
    const sandbox = {
      process: fakeProcess,
      Function: function () {
        return () => {
          state.imported = true;
          return new Promise(() => {});
        };
      },
      Number, String,
    };
    try {
      runInNewContext(source.replace(/^#!.*/, ''), sandbox);
    } catch (err) {
      if (!(err instanceof Exit)) throw err;
    }
    return state;
  }

  it('Node.js older than 20.19 gets one line and exit status 1, before the bundle is loaded', () => {
    for (const version of ['18.20.8', '20.18.3', '16.0.0', '10.24.1', '0.10.48']) {
      const r = runAs(version);
      assert.equal(r.stderr, `akamu-cli needs Node.js >= 20.19 (found v${version})\n`, version);
      assert.equal(r.exitCode, 1, version);
      assert.equal(r.imported, false, version);
    }
    for (const version of ['20.19.0', '22.1.0', '24.11.1', '100.0.0']) {
      const r = runAs(version);
      assert.deepEqual([r.stderr, r.exitCode, r.imported], ['', undefined, true], version);
    }
  });

  it('is written in syntax an old Node.js parses: a classic script, ES5 only', () => {
    // a classic script: no import/export statement, no import.meta, no top-level await
    assert.doesNotThrow(() => new Script(source.replace(/^#!.*/, ''), { filename: 'akamu-cli.js' }));
    // ES5: esbuild, asked to lower the file to ES5 (dynamic import() included), has nothing to change
    const es5 = transformSync(source, { target: 'es5', supported: { 'dynamic-import': false, 'import-meta': false, 'top-level-await': false } }).code;
    const asIs = transformSync(source, { target: 'esnext' }).code;
    assert.equal(es5, asIs, 'the launcher uses syntax newer than ES5');
  });

  it('the real launcher still runs the CLI on this Node.js', async () => {
    const { runCli } = await import('../../testkit/src/index.js');
    const r = await runCli(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

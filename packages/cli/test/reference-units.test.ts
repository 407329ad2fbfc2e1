/**
 * The command reference to the letter, from data alone (issue 11): log levels, the renderer's
 * account lines, notes and advice, the help text and the launcher's Node.js version check.
 * The end-to-end side is in reference-output.test.ts and reference-issue.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runInNewContext, Script } from 'node:vm';
import { transformSync } from 'esbuild';
import { createLogger, logConfig } from '../src/log.js';
import { renderEvent, renderResult } from '../src/render/text.js';
import { adviceFor } from '../src/advice.js';
import { main } from '../src/main.js';
import type { AccountRegisterResult, CommandEvent, CommandResult } from '../src/results.js';
import { cliBin } from '../../testkit/src/index.js';

function lines(f: (o: { out(l: string): void; err(l: string): void }) => void): { out: string[]; err: string[] } {
  const r = { out: [] as string[], err: [] as string[] };
  f({ out: (l) => r.out.push(l), err: (l) => r.err.push(l) });
  return r;
}
const result = (r: CommandResult) => lines((o) => renderResult(r, o));
const event = (e: CommandEvent) => lines((o) => renderEvent(e, o));

describe('log levels (reference: Logging)', () => {
  const levels = (verbosity: number, env: NodeJS.ProcessEnv, target: string): string[] => {
    const out: string[] = [];
    const log = createLogger(logConfig(verbosity, env), target, (l) => out.push(l));
    log.warn('w');
    log.info('i');
    log.debug('d');
    log.trace('t');
    return out.map((l) => l.split(' ')[0]!.trim());
  };

  it('a bare level in RUST_LOG / AKAMU_LOG overrides -v and -vv: it lowers as well as raises', () => {
    assert.deepEqual(levels(1, { RUST_LOG: 'warn' }, 'akamu_client'), ['WARN']);
    assert.deepEqual(levels(1, { RUST_LOG: 'warn' }, 'akamu_cli'), ['WARN']);
    assert.deepEqual(levels(2, { AKAMU_LOG: 'warn' }, 'http'), ['WARN']);
    assert.deepEqual(levels(2, { AKAMU_LOG: 'info' }, 'http'), ['WARN', 'INFO']);
    assert.deepEqual(levels(0, { RUST_LOG: 'trace' }, 'http'), ['WARN', 'INFO', 'DEBUG', 'TRACE']);
  });

  it('target pairs override the flags too; a variable without a valid directive leaves them', () => {
    assert.deepEqual(levels(1, { AKAMU_LOG: 'http=debug' }, 'akamu_client'), ['WARN'], '-v no longer applies');
    assert.deepEqual(levels(1, { AKAMU_LOG: 'http=debug' }, 'http'), ['WARN', 'INFO', 'DEBUG']);
    assert.deepEqual(levels(1, { AKAMU_LOG: 'loud' }, 'akamu_client'), ['WARN', 'INFO', 'DEBUG']);
  });

  it('the logger says whether a level is shown (costly details are only worked out when they are)', () => {
    const log = createLogger(logConfig(0, {}), 'akamu_cli', () => {});
    assert.equal(log.enabled('warn'), true);
    assert.equal(log.enabled('info'), false);
    assert.equal(createLogger(logConfig(1, {}), 'akamu_cli', () => {}).enabled('debug'), true);
    assert.equal(createLogger(logConfig(0, { AKAMU_LOG: 'info' }), 'akamu_cli', () => {}).child('http').enabled('info'), true);
  });
});

describe('renderer: the reference\'s lines', () => {
  const account = { url: 'https://ca.test/acct/1', status: 'valid', contacts: ['mailto:a@ca.test', 'mailto:b@ca.test'] };

  it('account show: `URL: `, `Status: `, one `Contact: ` per contact, one space after each colon; none → no Contact line', () => {
    assert.deepEqual(result({ command: 'account show', account }), {
      out: ['URL: https://ca.test/acct/1', 'Status: valid', 'Contact: mailto:a@ca.test', 'Contact: mailto:b@ca.test'],
      err: [],
    });
    assert.deepEqual(result({ command: 'account show', account: { ...account, contacts: [] } }).out, ['URL: https://ca.test/acct/1', 'Status: valid']);
  });

  it('account register with a key that has an account: says so, claims no registration, points to account update', () => {
    const base: AccountRegisterResult = {
      command: 'account register', account, created: false, contactsDiffer: false, requestedContacts: [],
      accountKeyPath: '/k.pem', accountUrlPath: '/k.pem.account-url',
    };
    const same = result(base);
    assert.deepEqual(same.out, ['Account already registered: https://ca.test/acct/1']);
    assert.doesNotMatch([...same.out, ...same.err].join('\n'), /^Registered/m);
    const differ = result({ ...base, contactsDiffer: true, requestedContacts: ['mailto:new@ca.test'] });
    assert.deepEqual(differ.out, ['Account already registered: https://ca.test/acct/1']);
    assert.ok(differ.err.includes(
      "Note: the account's contacts (mailto:a@ca.test, mailto:b@ca.test) differ from --contact (mailto:new@ca.test); use 'akamu-cli account update' to change them",
    ), differ.err.join('\n'));
    assert.deepEqual(result({ ...base, created: true }).out, ['Registered: https://ca.test/acct/1']);
  });

  it('key-change: an existing --new-key of another type than --new-key-type is noted', () => {
    assert.deepEqual(event({ type: 'new-key-type-ignored', path: '/n.pem', keyType: 'ec:P-256', requested: 'ec:P-384' }), {
      out: [],
      err: ['Note: --new-key /n.pem is a ec:P-256 key; --new-key-type ec:P-384 is ignored'],
    });
  });

  it('bind failures: our advice follows the reference\'s text after an em dash', () => {
    assert.equal(
      adviceFor({ code: 'bind-permission', challenge: 'tls-alpn-01', port: 443, standardPort: 443 }),
      ' — tls-alpn-01 needs port 443: run with sudo, grant CAP_NET_BIND_SERVICE to node, or redirect port 443 to a high port and pass --tls-port <high-port>',
    );
    assert.equal(adviceFor({ code: 'port-in-use', challenge: 'http-01', port: 8080 }), ' — another process is listening on port 8080: stop it or use --http-port');
  });
});

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

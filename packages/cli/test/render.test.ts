/** The text renderer and the renewal decision, from data alone (the end-to-end tests run the rest). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderEvent, renderResult } from '../src/render/text.js';
import { adviceFor } from '../src/advice.js';
import { StepError, rootCause } from '../src/errors.js';
import type { AccountRegisterResult, CommandEvent, CommandResult, IssueResult } from '../src/results.js';

function lines(f: (o: { out(l: string): void; err(l: string): void }) => void): { out: string[]; err: string[] } {
  const r = { out: [] as string[], err: [] as string[] };
  f({ out: (l) => r.out.push(l), err: (l) => r.err.push(l) });
  return r;
}
const result = (r: CommandResult) => lines((o) => renderResult(r, o));
const event = (e: CommandEvent) => lines((o) => renderEvent(e, o));

const issued: IssueResult = {
  command: 'issue', identifiers: [{ type: 'dns', value: 'a.test' }],
  account: { url: 'https://ca.test/acct/1', registered: false },
  certificate: { path: '/c.pem', url: 'https://ca.test/cert/1', profile: 'default', serial: '1f', notAfter: new Date('2027-01-01T00:00:00Z') },
  certificateKey: { path: '/c.pem.key.pem', keyType: 'ec:P-256', generated: true },
  renewalConfigPath: '/c.pem.renewal.toml', eabKeyNotStored: true,
};

describe('text renderer', () => {
  it('issue: the summary on stdout, the EAB note on stderr', () => {
    assert.deepEqual(result(issued), {
      out: [
        'Certificate key saved to /c.pem.key.pem',
        'Certificate written to /c.pem',
        'Certificate URL:  https://ca.test/cert/1',
        'Certificate key:  /c.pem.key.pem',
        'Renewal config:   /c.pem.renewal.toml',
        'To renew: akamu-cli renew --renewal-config /c.pem.renewal.toml',
      ],
      err: ['Note: the EAB HMAC key is NOT saved in the renewal config; supply --eab-key again if the account ever has to be registered anew.'],
    });
  });

  it('renewal decisions: ARI (with explanation), expiry rule, forced', () => {
    const window = { start: new Date('2030-01-01T00:00:00Z'), end: new Date('2030-01-03T00:00:00Z') };
    const base = { type: 'renewal-decision', certificatePath: '/c.pem', notAfter: new Date('2030-02-01T00:00:00.123Z') } as const;
    assert.deepEqual(event({ ...base, decision: { due: false, reason: 'ari', at: new Date('2030-01-02T00:00:00Z'), window, explanationUrl: 'https://ca.test/why', notAfter: base.notAfter } }).out, [
      'ARI explanation: https://ca.test/why',
      'Renewal not yet due for /c.pem: due at 2030-01-02T00:00:00Z (ARI window 2030-01-01T00:00:00Z – 2030-01-03T00:00:00Z). Use --force to renew now.',
    ]);
    assert.deepEqual(event({ ...base, decision: { due: true, reason: 'ari', at: new Date('2030-01-02T00:00:00Z'), window, notAfter: base.notAfter } }).out, [
      'ARI: renewal suggested (window 2030-01-01T00:00:00Z – 2030-01-03T00:00:00Z); renewing /c.pem',
    ]);
    assert.deepEqual(event({ ...base, decision: { due: false, reason: 'expiry', at: new Date('2030-01-10T00:00:00Z'), notAfter: base.notAfter } }).out, [
      'Renewal not yet due for /c.pem: it expires 2030-02-01T00:00:00Z; due at 2030-01-10T00:00:00Z. Use --force to renew now.',
    ]);
    assert.deepEqual(event({ ...base, decision: { due: true, reason: 'expiry', at: new Date('2030-01-10T00:00:00Z'), notAfter: base.notAfter } }).out, [
      'Renewal due: /c.pem expires 2030-02-01T00:00:00Z; renewing',
    ]);
    assert.deepEqual(event({ ...base, decision: { due: true, reason: 'forced', at: new Date(), notAfter: base.notAfter } }), { out: [], err: [] });
  });

  it('renew prints the new certificate only when one was issued', () => {
    assert.deepEqual(result({ command: 'renew' }), { out: [], err: [] });
    assert.deepEqual(result({ command: 'renew', issued }).out, result(issued).out);
  });

  it('account results', () => {
    const account = { url: 'https://ca.test/acct/1', status: 'valid', contacts: [] };
    assert.deepEqual(result({ command: 'account show', account }).out, ['URL: https://ca.test/acct/1', 'Status: valid']);
    assert.deepEqual(result({ command: 'account deregister', account, accountUrlPath: '/k.pem.account-url', sidecarError: 'EPERM' }), {
      out: ['Deactivated: https://ca.test/acct/1'],
      err: ['Warning: account deactivated but could not remove sidecar /k.pem.account-url: EPERM. Future commands may attempt to use the deactivated account.'],
    });
  });
});

describe('text renderer: the reference\'s lines (issue 11)', () => {
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

describe('hint advice', () => {
  it('turns every library hint into advice about the CLI flags', () => {
    assert.equal(adviceFor(undefined), '');
    assert.equal(adviceFor({ code: 'untrusted-server-certificate' }), ' — pass --server-ca with the CA that issued the server certificate');
    assert.equal(
      adviceFor({ code: 'bind-permission', challenge: 'http-01', port: 80, standardPort: 80 }),
      ' — http-01 needs port 80: run with sudo, grant CAP_NET_BIND_SERVICE to node, or redirect port 80 to a high port and pass --http-port <high-port>',
    );
    assert.equal(adviceFor({ code: 'port-in-use', challenge: 'tls-alpn-01', port: 8443 }), ' — another process is listening on port 8443: stop it or use --tls-port');
    assert.equal(adviceFor({ code: 'wildcard-needs-dns' }), '; use --challenge dns-01');
    assert.equal(adviceFor({ code: 'ip-needs-http-or-tls' }), '; use --challenge http-01 or tls-alpn-01');
  });
});

describe('StepError', () => {
  it('names the step once and keeps the cause for the exit code', () => {
    const cause = new TypeError('boom');
    const err = new StepError('register', cause);
    assert.equal(err.message, 'register: boom');
    assert.equal(cause.message, 'boom', 'the cause is not changed');
    assert.equal(rootCause(new StepError('outer', err)), cause);
  });
});

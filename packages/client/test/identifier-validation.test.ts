/** DNS name validation with reasons: numeric TLDs, invalid punycode A-labels, label and name lengths. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../src/errors.js';
import { identifierFromName, normalizeDnsName, normalizeIdentifiers } from '../src/identifiers.js';

const refused = (name: string, reason: RegExp): void => {
  assert.throws(() => identifierFromName(name), (e: unknown) => {
    assert.ok(e instanceof UsageError, `UsageError for ${name}`);
    assert.match(e.message, reason);
    return true;
  });
};

describe('DNS name validation', () => {
  it('refuses a dotted quad that is not an IP address (the last label is all digits)', () => {
    refused('999.1.1.1', /^invalid domain '999\.1\.1\.1': it is not an IP address, and its last label is all digits$/);
    refused('example.123', /last label is all digits/);
    // a real address stays an IP identifier, and digits elsewhere are fine
    assert.deepEqual(identifierFromName('192.0.2.1'), { type: 'ip', value: '192.0.2.1' });
    assert.equal(normalizeDnsName('123.example'), '123.example');
  });

  it('decodes A-labels and refuses those that are not valid punycode', () => {
    refused('xn--zz.example.com', /^invalid domain 'xn--zz\.example\.com': 'xn--zz' is not a valid A-label \(punycode\)$/);
    refused('www.xn--a.example', /'xn--a' is not a valid A-label/);
    refused('xn--.example', /label 'xn--' starts or ends with '-'/);
    // valid punycode of 'bÜcher': upper case is no U-label, so this is no A-label (RFC 5891 §5.4)
    refused('xn--bcher-2pa.example', /'xn--bcher-2pa' is not a valid A-label/);
    refused('*.xn--zz.example', /'xn--zz' is not a valid A-label/);
    assert.equal(normalizeDnsName('XN--BCHER-KVA.example'), 'xn--bcher-kva.example');
    assert.equal(normalizeDnsName('*.xn--bcher-kva.example'), '*.xn--bcher-kva.example');
    assert.equal(normalizeDnsName('bücher.example'), 'xn--bcher-kva.example');
  });

  it('refuses a label over 63 and a name over 253 characters, with the length', () => {
    const label63 = 'a'.repeat(63);
    assert.equal(normalizeDnsName(`${label63}.example`), `${label63}.example`);
    refused(`${'a'.repeat(64)}.example`, /label 'a{64}' is longer than 63 characters \(64\)$/);
    const name253 = `${[label63, label63, label63].join('.')}.${'b'.repeat(61)}`;
    assert.equal(name253.length, 253);
    assert.equal(normalizeDnsName(name253), name253);
    assert.equal(normalizeDnsName(`${name253}.`), name253, 'a trailing dot does not count');
    refused(`c${name253}`, /longer than 253 characters \(254\)$/);
    // a U-label name that only passes the limit before its A-label conversion
    const unicode = `${Array.from({ length: 12 }, () => 'bücher-straße-café').join('.')}.example`;
    assert.equal(unicode.length, 235);
    refused(unicode, /longer than 253 characters \(343\) in A-label form$/);
  });

  it('says why other names are refused, and cuts a huge name to an excerpt', () => {
    refused('a..example', /it has an empty label$/);
    refused('x_y.example', /label 'x_y' has characters other than a-z, 0-9 and '-'$/);
    refused('-a.example', /label '-a' starts or ends with '-'$/);
    refused('single', /a single label is not a fully qualified name$/);
    refused('', /^invalid domain '': empty name$/);
    const huge = `${'a'.repeat(1_000_000)}.example`;
    assert.throws(() => identifierFromName(huge), (e: unknown) => e instanceof UsageError && e.message.length < 200 && /…': longer than 253/.test(e.message));
  });

  it('applies to identifier objects too (renewal configs)', () => {
    assert.throws(() => normalizeIdentifiers([{ type: 'dns', value: 'xn--zz.example.com' }]), /not a valid A-label/);
  });
});

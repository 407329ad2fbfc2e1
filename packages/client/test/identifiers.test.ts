import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../src/errors.js';
import { identifierFromName, normalizeDnsName, normalizeIdentifiers } from '../src/identifiers.js';

describe('identifier normalisation', () => {
  it('lower-cases, drops a trailing dot, converts IDNs to A-labels and keeps wildcards', () => {
    assert.equal(normalizeDnsName('WWW.Example.COM.'), 'www.example.com');
    assert.equal(normalizeDnsName('bücher.example'), 'xn--bcher-kva.example');
    assert.equal(normalizeDnsName('*.Example.com'), '*.example.com');
    assert.equal(normalizeDnsName('localhost'), 'localhost');
    assert.equal(normalizeDnsName('*'), '*');
  });

  it('makes IP literals ip identifiers in canonical text (RFC 5952 for IPv6)', () => {
    assert.deepEqual(identifierFromName('192.0.2.1'), { type: 'ip', value: '192.0.2.1' });
    assert.deepEqual(identifierFromName('2001:DB8:0:0:0:0:0:1'), { type: 'ip', value: '2001:db8::1' });
    assert.deepEqual(identifierFromName(' example.com '), { type: 'dns', value: 'example.com' });
  });

  it('drops duplicates after normalising, keeping the first position', () => {
    assert.deepEqual(normalizeIdentifiers(['b.example', 'A.example', 'a.example.', { type: 'dns', value: 'B.EXAMPLE' }, '2001:db8::1', '2001:db8:0::1']), [
      { type: 'dns', value: 'b.example' },
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '2001:db8::1' },
    ]);
  });

  it('passes authority-token identifiers through unchanged', () => {
    assert.deepEqual(normalizeIdentifiers([{ type: 'TNAuthList', value: 'MAigBhYEMTIzNA' }]), [{ type: 'TNAuthList', value: 'MAigBhYEMTIzNA' }]);
  });

  it('refuses names that are not DNS names', () => {
    for (const bad of ['', 'exa mple.com', '-a.example', 'a..example', 'single', `${'a'.repeat(64)}.example`, 'x_y.example']) {
      assert.throws(() => identifierFromName(bad), (e: unknown) => e instanceof UsageError && e.message.startsWith(`invalid domain '${bad}': `));
    }
    assert.throws(() => normalizeIdentifiers([{ type: 'ip', value: 'not-an-ip' }]), UsageError);
  });
});

/** The key-algorithm table: every entry, checked end to end against node:crypto and openssl. */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { UnsupportedError } from '../src/errors.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { b64uDecode } from '../src/jose/base64url.js';
import { thumbprint, thumbprintInput } from '../src/jose/jwk.js';
import { signJws } from '../src/jose/jws.js';
import { KEY_TYPES, keyAlgorithm, keyAlgorithms, parseKeyType, PrivateKey, type KeyType } from '../src/keys/index.js';
import { buildCsr } from '../src/x509/csr.js';
import { openssl, tmpFile } from './fixtures/openssl.js';

const EXPECTED: Record<string, { alg: string; kty: string; sigOid: string; nullParams: boolean }> = {
  'ec:P-256': { alg: 'ES256', kty: 'EC', sigOid: '1.2.840.10045.4.3.2', nullParams: false },
  'ec:P-384': { alg: 'ES384', kty: 'EC', sigOid: '1.2.840.10045.4.3.3', nullParams: false },
  'ec:P-521': { alg: 'ES512', kty: 'EC', sigOid: '1.2.840.10045.4.3.4', nullParams: false },
  'rsa:2048': { alg: 'RS256', kty: 'RSA', sigOid: '1.2.840.113549.1.1.11', nullParams: true },
  'rsa:3072': { alg: 'RS256', kty: 'RSA', sigOid: '1.2.840.113549.1.1.11', nullParams: true },
  'rsa:4096': { alg: 'RS256', kty: 'RSA', sigOid: '1.2.840.113549.1.1.11', nullParams: true },
  ed25519: { alg: 'EdDSA', kty: 'OKP', sigOid: '1.3.101.112', nullParams: false },
};
const JOSE_VERIFY: Record<string, { hash: string | null; p1363: boolean }> = {
  ES256: { hash: 'sha256', p1363: true },
  ES384: { hash: 'sha384', p1363: true },
  ES512: { hash: 'sha512', p1363: true },
  RS256: { hash: 'sha256', p1363: false },
  EdDSA: { hash: null, p1363: false },
};

describe('the key-algorithm table', () => {
  it('has one entry per key type, in KEY_TYPES order (the ML-DSA entries are checked in ml-dsa.test.ts)', () => {
    const types = keyAlgorithms().map((a) => a.keyType);
    assert.deepEqual(types, KEY_TYPES);
    assert.deepEqual(types.filter((t) => !t.startsWith('ml-dsa-')), Object.keys(EXPECTED));
    assert.throws(() => keyAlgorithm('ec:P-192' as KeyType), (e: unknown) => e instanceof UnsupportedError && e.message === "key type 'ec:P-192' is not supported");
  });

  it('every alias of an entry parses to its key type', () => {
    for (const a of keyAlgorithms()) for (const alias of a.aliases) assert.equal(parseKeyType(alias), a.keyType);
  });

  for (const [type, want] of Object.entries(EXPECTED)) {
    const t = type as KeyType;
    it(`${t}: alg ${want.alg}, ${want.kty} JWK of thumbprint members only, JWS and CSR signatures verify`, async () => {
      const entry = keyAlgorithm(t);
      assert.equal(entry.jwsAlgorithm, want.alg);
      assert.deepEqual(entry.signatureAlgorithm, { oid: want.sigOid, nullParams: want.nullParams });

      const key = await PrivateKey.generate(t);
      assert.equal(key.algorithm, entry);
      const jwk = key.publicJwk();
      assert.equal(jwk.kty, want.kty);
      // exactly the RFC 7638 members, in lexicographic order
      assert.equal(JSON.stringify(jwk), thumbprintInput(jwk));
      // the JWK is the key's public half
      const fromJwk = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
      assert.ok(fromJwk.equals(key.publicKeyDer()));

      const jws = signJws(key, { nonce: 'n', url: 'https://ca.test/x' }, { hello: 'world' });
      assert.equal(JSON.parse(b64uDecode(jws.protected).toString()).alg, want.alg);
      const v = JOSE_VERIFY[want.alg]!;
      const pub = createPublicKey(key.toPem());
      const ok = verify(v.hash, Buffer.from(`${jws.protected}.${jws.payload}`), v.p1363 ? { key: pub, dsaEncoding: 'ieee-p1363' } : pub, b64uDecode(jws.signature));
      assert.ok(ok, 'JWS signature verifies');

      const again = PrivateKey.fromPem(key.toPem());
      assert.equal(again.keyType, t);
      assert.equal(thumbprint(again.publicJwk()), thumbprint(jwk), 'PEM round trip keeps the key');

      const csr = await buildCsr({ key, identifiers: normalizeIdentifiers(['table.example.com']) });
      const out = openssl(['req', '-inform', 'DER', '-in', tmpFile('t.der', csr), '-noout', '-verify', '-text']);
      assert.match(out.stdout + out.stderr, /verify OK|Certificate request self-signature verify OK/);
    });
  }
});

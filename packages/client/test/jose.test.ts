import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, verify, createPrivateKey } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { b64u, b64uDecode } from '../src/jose/base64url.js';
import { dns01TxtValue, keyAuthorization, keyAuthorizationDigest } from '../src/jose/challenge.js';
import { eabJws, signJws } from '../src/jose/jws.js';
import { jwsAlgorithm, publicJwk, rfc9447Fingerprint, thumbprint, thumbprintBytes, thumbprintInput, type Jwk } from '../src/jose/jwk.js';
import { PrivateKey, type KeyType } from '../src/keys/index.js';
import { openssl, opensslStatus, tmpFile } from './fixtures/openssl.js';

// RFC 7638 §3.1 example key (standards.md §2.1), with the extra members that must be ignored.
const RFC7638_JWK: Jwk = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';

describe('RFC 7638 thumbprint and RFC 8555 key authorization vectors', () => {
  it('thumbprint of the RFC 7638 RSA key', () => {
    assert.equal(
      thumbprintInput(RFC7638_JWK),
      `{"e":"AQAB","kty":"RSA","n":"${RFC7638_JWK.n}"}`,
    );
    assert.equal(thumbprint(RFC7638_JWK), RFC7638_THUMBPRINT);
    assert.equal(thumbprintBytes(RFC7638_JWK).toString('hex').slice(0, 16), '3736cbb1787cb830');
  });

  it('the RFC 7638 JWK is a real RSA key and publicJwk-style export gives the same n/e', () => {
    const pub = createPublicKey({ key: { kty: 'RSA', n: RFC7638_JWK.n!, e: RFC7638_JWK.e! }, format: 'jwk' });
    const exported = pub.export({ format: 'jwk' });
    assert.equal(thumbprint({ kty: 'RSA', n: String(exported.n), e: String(exported.e) }), RFC7638_THUMBPRINT);
  });

  it('key authorization, dns-01 TXT value and tls-alpn-01 digest (standards.md §2.2)', () => {
    const ka = keyAuthorization(TOKEN, RFC7638_THUMBPRINT);
    assert.equal(ka, `${TOKEN}.${RFC7638_THUMBPRINT}`);
    assert.equal(dns01TxtValue(ka), 'ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8');
    assert.equal(keyAuthorizationDigest(ka).toString('hex'), '653471d42925d7eb4cd39a39cda8b34d3034c94cb90067ab78c8123560ba2e5f');
  });

  it('RFC 9447 fingerprint (standards.md §9.3)', () => {
    assert.equal(
      rfc9447Fingerprint(RFC7638_JWK),
      'SHA256 37:36:CB:B1:78:7C:B8:30:9C:77:EE:8C:37:05:C5:E1:6F:FB:9E:85:97:15:90:1F:1E:4C:59:B1:11:82:F5:7B',
    );
  });

  it('OKP and AKP thumbprint members', () => {
    assert.equal(thumbprintInput({ kty: 'OKP', crv: 'Ed25519', x: 'abc', d: 'secret' }), '{"crv":"Ed25519","kty":"OKP","x":"abc"}');
    assert.equal(thumbprintInput({ pub: 'p', kty: 'AKP', alg: 'ML-DSA-44' }), '{"alg":"ML-DSA-44","kty":"AKP","pub":"p"}');
    assert.throws(() => thumbprint({ kty: 'EC', crv: 'P-256', x: 'a' }), /missing required member 'y'/);
    assert.throws(() => thumbprint({ kty: 'XYZ' }), /kty 'XYZ'/);
  });
});

describe('publicJwk', () => {
  it('keeps P-256 coordinates at 32 bytes when they start with 0x00 (erratum 7565)', () => {
    let found: { jwk: Jwk; key: PrivateKey } | undefined;
    for (let i = 0; i < 3000 && !found; i++) {
      const key = PrivateKey.fromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
      const jwk = publicJwk(key);
      assert.equal(jwk.x!.length, 43);
      assert.equal(jwk.y!.length, 43);
      if (b64uDecode(jwk.x!)[0] === 0 || b64uDecode(jwk.y!)[0] === 0) found = { jwk, key };
    }
    assert.ok(found, 'a P-256 key with a leading-zero coordinate within 3000 tries');
    const { jwk, key } = found;
    assert.equal(b64uDecode(jwk.x!).length, 32);
    assert.equal(b64uDecode(jwk.y!).length, 32);
    // The fixed-length JWK describes the same public key (node parses it back to the same SPKI).
    const back = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    assert.deepEqual(back, key.publicKeyDer());
    assert.deepEqual(Object.keys(jwk), ['crv', 'kty', 'x', 'y']);
    assert.equal(thumbprint(jwk), b64u(thumbprintBytes(jwk)));
  });

  it('P-384 / P-521 coordinates are 48 / 66 bytes, RSA minimal, Ed25519 OKP', async () => {
    const p384 = publicJwk(await PrivateKey.generate('ec:P-384'));
    assert.equal(p384.crv, 'P-384');
    assert.equal(b64uDecode(p384.x!).length, 48);
    assert.equal(b64uDecode(p384.y!).length, 48);
    for (let i = 0; i < 4; i++) {
      const p521 = publicJwk(await PrivateKey.generate('ec:P-521'));
      assert.equal(p521.crv, 'P-521');
      assert.equal(b64uDecode(p521.x!).length, 66);
      assert.equal(b64uDecode(p521.y!).length, 66);
    }
    const rsa = publicJwk(await PrivateKey.generate('rsa:2048'));
    assert.deepEqual(Object.keys(rsa), ['e', 'kty', 'n']);
    assert.equal(rsa.e, 'AQAB');
    assert.equal(b64uDecode(rsa.n!).length, 256);
    assert.notEqual(b64uDecode(rsa.n!)[0], 0);
    const edKey = await PrivateKey.generate('ed25519');
    const ed = publicJwk(edKey);
    assert.deepEqual(Object.keys(ed), ['crv', 'kty', 'x']);
    assert.equal(ed.kty, 'OKP');
    assert.equal(ed.crv, 'Ed25519');
    assert.deepEqual(b64uDecode(ed.x!), edKey.publicKeyDer().subarray(-32));
    assert.equal(ed.d, undefined);
  });
});

describe('signJws', () => {
  const keys = new Map<KeyType, PrivateKey>();
  before(async () => {
    for (const t of ['ec:P-256', 'ec:P-384', 'ec:P-521', 'rsa:2048', 'rsa:3072', 'ed25519'] as const) {
      keys.set(t, await PrivateKey.generate(t));
    }
  });

  const expected: Record<string, { alg: string; sigLen: number; dgst?: string }> = {
    'ec:P-256': { alg: 'ES256', sigLen: 64, dgst: '-sha256' },
    'ec:P-384': { alg: 'ES384', sigLen: 96, dgst: '-sha384' },
    'ec:P-521': { alg: 'ES512', sigLen: 132, dgst: '-sha512' },
    'rsa:2048': { alg: 'RS256', sigLen: 256, dgst: '-sha256' },
    'rsa:3072': { alg: 'RS256', sigLen: 384, dgst: '-sha256' },
    ed25519: { alg: 'EdDSA', sigLen: 64 },
  };

  /** Raw r||s → DER Ecdsa-Sig-Value, so openssl can verify it. */
  function p1363ToDer(sig: Buffer): Buffer {
    const half = sig.length / 2;
    const int = (b: Buffer): Buffer => {
      let i = 0;
      while (i < b.length - 1 && b[i] === 0) i++;
      let v = b.subarray(i);
      if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
      return Buffer.concat([Buffer.from([0x02, v.length]), v]);
    };
    const body = Buffer.concat([int(sig.subarray(0, half)), int(sig.subarray(half))]);
    const len = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
    return Buffer.concat([Buffer.from([0x30]), len, body]);
  }

  it('uses the right alg per key type (RS256 for every RSA size)', async () => {
    for (const [t, key] of keys) assert.equal(jwsAlgorithm(key), expected[t]!.alg);
    assert.equal(jwsAlgorithm(await PrivateKey.generate('rsa:4096')), 'RS256');
  });

  for (const t of ['ec:P-256', 'ec:P-384', 'ec:P-521', 'rsa:2048', 'rsa:3072', 'ed25519'] as const) {
    it(`${t}: signature verified by openssl`, () => {
      const key = keys.get(t)!;
      const jwk = publicJwk(key);
      const jws = signJws(key, { nonce: 'n0nce', url: 'https://ca.test/new-acct', jwk }, { termsOfServiceAgreed: true });
      const header = JSON.parse(b64uDecode(jws.protected).toString('utf8')) as Record<string, unknown>;
      assert.deepEqual(header, { alg: expected[t]!.alg, nonce: 'n0nce', url: 'https://ca.test/new-acct', jwk });
      assert.deepEqual(Object.keys(header)[0], 'alg');
      assert.equal(b64uDecode(jws.payload).toString('utf8'), '{"termsOfServiceAgreed":true}');
      const sig = b64uDecode(jws.signature);
      assert.equal(sig.length, expected[t]!.sigLen);

      const input = Buffer.from(`${jws.protected}.${jws.payload}`, 'ascii');
      const data = tmpFile('input.txt', input);
      const pub = tmpFile('pub.pem', createPublicKey(key.toPem()).export({ type: 'spki', format: 'pem' }));
      if (t === 'ed25519') {
        const sigFile = tmpFile('sig.bin', sig);
        const r = openssl(['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', data, '-sigfile', sigFile]);
        assert.match(r.stdout, /Signature Verified Successfully/);
        const bad = tmpFile('bad.txt', Buffer.concat([input, Buffer.from('x')]));
        assert.notEqual(opensslStatus(['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', bad, '-sigfile', sigFile]), 0);
        assert.ok(verify(null, input, createPrivateKey(key.toPem()), sig));
      } else {
        const der = t.startsWith('ec:') ? p1363ToDer(sig) : sig;
        const sigFile = tmpFile('sig.der', der);
        const r = openssl(['dgst', expected[t]!.dgst!, '-verify', pub, '-signature', sigFile, data]);
        assert.match(r.stdout, /Verified OK/);
        const bad = tmpFile('bad.txt', Buffer.concat([input, Buffer.from('x')]));
        assert.notEqual(opensslStatus(['dgst', expected[t]!.dgst!, '-verify', pub, '-signature', sigFile, bad]), 0);
      }
    });
  }

  it('POST-as-GET has an empty payload; {} is e30; caller cannot override alg', () => {
    const key = keys.get('ec:P-256')!;
    const get = signJws(key, { alg: 'none', kid: 'https://ca.test/acct/1', nonce: 'a', url: 'https://ca.test/order/1' });
    assert.equal(get.payload, '');
    const h = JSON.parse(b64uDecode(get.protected).toString()) as Record<string, unknown>;
    assert.equal(h.alg, 'ES256');
    assert.equal(h.kid, 'https://ca.test/acct/1');
    assert.ok(verify('sha256', Buffer.from(`${get.protected}.`), { key: createPrivateKey(key.toPem()), dsaEncoding: 'ieee-p1363' }, b64uDecode(get.signature)));
    assert.equal(signJws(key, { nonce: 'a', url: 'u' }, {}).payload, 'e30');
    const inner = signJws(key, { url: 'u' }, { account: 'a' });
    const outer = signJws(key, { nonce: 'n', url: 'u' }, inner);
    assert.deepEqual(JSON.parse(b64uDecode(outer.payload).toString()), inner);
  });
});

describe('eabJws', () => {
  it('HMAC over protected.payload with HS256/384/512, recomputed by openssl', async () => {
    const jwk = publicJwk(await PrivateKey.generate('ec:P-256'));
    const hmacKey = b64uDecode('zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W');
    for (const [alg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
      const jws = eabJws({ kid: 'kid-1', hmacKey, alg, url: 'https://ca.test/new-acct', jwk });
      assert.deepEqual(JSON.parse(b64uDecode(jws.protected).toString()), { alg, kid: 'kid-1', url: 'https://ca.test/new-acct' });
      assert.deepEqual(JSON.parse(b64uDecode(jws.payload).toString()), jwk);
      const input = `${jws.protected}.${jws.payload}`;
      assert.equal(jws.signature, createHmac(hash, hmacKey).update(input).digest('base64url'));
      const out = openssl(['dgst', `-${hash}`, '-mac', 'HMAC', '-macopt', `hexkey:${hmacKey.toString('hex')}`, '-hex'], input).stdout;
      assert.equal(out.trim().split('= ')[1], b64uDecode(jws.signature).toString('hex'));
    }
  });
});

/**
 * ML-DSA interop between akamu's two engines and OpenSSL 3.5. OpenSSL is reached through node:crypto
 * on a Node that bundles it (Node 24; CI runs the suite there too). On Node 20 and 22, where OpenSSL
 * has no ML-DSA, the checks that need a live OpenSSL are skipped (their names say so) and the rest
 * run against keys and signatures OpenSSL 3.5 wrote (fixtures/ml-dsa-openssl.json), with noble.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyPairKeyObjectResult } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { KeyFormatError } from '../src/errors.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { b64uDecode } from '../src/jose/base64url.js';
import { signJws } from '../src/jose/jws.js';
import { PrivateKey, type KeyType } from '../src/keys/index.js';
import { loadNobleMlDsaEngine, nodeMlDsaEngine, pinMlDsaEngine } from '../src/keys/mlDsaEngines.js';
import { buildCsr } from '../src/x509/csr.js';
import {
  csrParts, derOf, NEEDS_OPENSSL, nobleVerifies, OPENSSL_FIXTURE, opensslVerifies, paramsOf, pem, pkcs8Forms, SKIP_WITHOUT_OPENSSL, withEngine,
} from './helpers/ml-dsa.js';

const TYPES = ['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87'] as const;
const noble = await loadNobleMlDsaEngine();
const node = nodeMlDsaEngine();
after(() => pinMlDsaEngine(undefined));

/** node:crypto's ML-DSA key generation (Node 24; @types/node 20 does not know the type names). */
const generateMlDsa = generateKeyPairSync as unknown as (type: string) => KeyPairKeyObjectResult;

const spkiPem = (spki: Buffer): string => createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();

describe(`akamu reads ML-DSA keys OpenSSL wrote (${OPENSSL_FIXTURE.writtenBy}, seed form) and verifies OpenSSL's signatures`, () => {
  for (const engine of node ? [node, noble] : [noble]) {
    for (const t of TYPES) {
      it(`${t} with ${engine.name}`, async () => {
        const p = paramsOf(t);
        const f = OPENSSL_FIXTURE.keys[t]!;
        const key = await withEngine(engine, () => PrivateKey.fromPemAsync(f.pkcs8Pem));
        assert.equal(key.keyType, t);
        assert.equal(key.publicKeyDer().toString('base64'), f.spki, "the public key OpenSSL derived");
        assert.deepEqual(derOf(key.toPem()), derOf(f.pkcs8Pem), 'written back in the same (seed) form');
        const pub = b64uDecode(key.publicJwk().pub!);
        assert.ok(engine.verify(p, pub, Buffer.from(OPENSSL_FIXTURE.message), Buffer.from(f.signature, 'base64')), "OpenSSL's signature verifies");
        assert.ok(!engine.verify(p, pub, Buffer.from(`${OPENSSL_FIXTURE.message}!`), Buffer.from(f.signature, 'base64')));
      });
    }
  }
});

describe(`OpenSSL now ${NEEDS_OPENSSL}`, { skip: SKIP_WITHOUT_OPENSSL }, () => {
  for (const t of TYPES) {
    it(`${t}: akamu (both engines) reads a key OpenSSL generates and writes now, with OpenSSL's public key`, async () => {
      const { privateKey, publicKey } = generateMlDsa(t);
      const written = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      const spki = publicKey.export({ format: 'der', type: 'spki' });
      assert.deepEqual(PrivateKey.fromPem(written).publicKeyDer(), spki);
      assert.deepEqual((await withEngine(noble, () => PrivateKey.fromPemAsync(written))).publicKeyDer(), spki);
      assert.deepEqual(PrivateKey.fromKeyObject(privateKey).publicKeyDer(), spki, 'and the KeyObject itself');
    });

    it(`${t}: OpenSSL loads the "both" and expandedKey forms built by noble with the same public key, and refuses disagreeing halves`, () => {
      const forms = pkcs8Forms(paramsOf(t), Uint8Array.from({ length: 32 }, (_, i) => 255 - i));
      for (const der of [forms.seed, forms.expanded, forms.both]) {
        const k = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        assert.deepEqual(createPublicKey(k).export({ format: 'der', type: 'spki' }).subarray(-paramsOf(t).publicKeyBytes), forms.publicKey);
      }
      const other = pkcs8Forms(paramsOf(t), new Uint8Array(32));
      const mixed = Buffer.from(forms.both);
      other.secretKey.copy(mixed, mixed.indexOf(forms.secretKey));
      assert.throws(() => createPrivateKey({ key: mixed, format: 'der', type: 'pkcs8' }));
    });

    it(`${t}: the same seed gives the same key in node:crypto and noble, and each verifies the other's signatures`, () => {
      const p = paramsOf(t);
      const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 5);
      const a = node!.fromSeed(p, seed);
      const b = noble.fromSeed(p, seed);
      assert.deepEqual(a.publicKey, b.publicKey);
      assert.deepEqual(a.pkcs8Der(), b.pkcs8Der());
      const m = Buffer.from('cross-signed');
      assert.ok(noble.verify(p, a.publicKey, m, a.sign(m)), 'noble verifies node:crypto');
      assert.ok(node!.verify(p, b.publicKey, m, b.sign(m)), 'node:crypto verifies noble');
    });
  }

  for (const engine of node ? [node, noble] : []) {
    const verifier = engine === noble ? 'OpenSSL' : 'noble';
    for (const t of TYPES) {
      it(`${t}: ${verifier} verifies the JWS and the CSR akamu signs with ${engine.name}, and OpenSSL reads akamu's PEM`, async () => {
        const p = paramsOf(t);
        const key = await withEngine(engine, () => PrivateKey.generate(t as KeyType));
        const spki = key.publicKeyDer();
        const pub = b64uDecode(key.publicJwk().pub!);
        const verifies = (m: Uint8Array, s: Uint8Array) => (engine === noble ? opensslVerifies(spki, m, s) : nobleVerifies(p, pub, m, s));

        const jws = signJws(key, { nonce: 'n', url: 'https://ca.test/acct', jwk: key.publicJwk() }, { termsOfServiceAgreed: true });
        assert.ok(verifies(Buffer.from(`${jws.protected}.${jws.payload}`), b64uDecode(jws.signature)), 'JWS');
        const csr = csrParts(await buildCsr({ key, identifiers: normalizeIdentifiers(['interop.example', '192.0.2.7']) }));
        assert.deepEqual(csr.spki, spki);
        assert.ok(verifies(csr.tbs, csr.signature), 'CSR');

        // the PEM akamu wrote: OpenSSL reads it and signs with it; the signature verifies with akamu's public key
        const read = createPrivateKey(key.toPem());
        assert.equal(read.asymmetricKeyType, t);
        assert.deepEqual(createPublicKey(read).export({ format: 'der', type: 'spki' }), spki);
        assert.ok(nobleVerifies(p, pub, Buffer.from('x'), sign(null, Buffer.from('x'), read)));
        assert.equal(createPublicKey(spkiPem(spki)).asymmetricKeyType, t);
      });
    }
  }

  it('a "both" key whose halves disagree is refused by akamu with either engine, as OpenSSL refuses it', async () => {
    const forms = pkcs8Forms(paramsOf('ml-dsa-87'), new Uint8Array(32).fill(9));
    const mixed = Buffer.from(forms.both);
    pkcs8Forms(paramsOf('ml-dsa-87'), new Uint8Array(32)).secretKey.copy(mixed, mixed.indexOf(forms.secretKey));
    for (const engine of [node!, noble]) await assert.rejects(withEngine(engine, () => PrivateKey.fromPemAsync(pem(mixed))), KeyFormatError);
  });
});

/** ML-DSA-44/65/87: the standards.md §10 vectors, the three table entries, the RFC 9881 private-key forms. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { KeyFormatError, UnsupportedError } from '../src/errors.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { b64uDecode } from '../src/jose/base64url.js';
import { thumbprint, thumbprintInput } from '../src/jose/jwk.js';
import { signJws } from '../src/jose/jws.js';
import { keyAlgorithm, parseKeyType, PrivateKey } from '../src/keys/index.js';
import { loadNobleMlDsaEngine, mlDsaEngine, pinMlDsaEngine, type MlDsaEngine } from '../src/keys/mlDsaEngines.js';
import { buildCsr } from '../src/x509/csr.js';
import {
  csrParts, derOf, NOBLE, nobleVerifies, OPENSSL_ML_DSA, opensslVerifies, paramsOf, pem, pkcs8Forms, withEngine,
} from './helpers/ml-dsa.js';

const ZERO_SEED = new Uint8Array(32);
/** standards.md §10.1: the AKP JWK of the all-zero seed. */
const VECTORS = {
  'ml-dsa-44': { pubStart: 'ba71f9f64e11baeb', kid: 'T4xl70S7MT6Zeq6r9V9fPJGVn76wfnXJ21-gyo0Gu6o' },
  'ml-dsa-65': { pubStart: '424b2f267e58d5b3', kid: 'Suiu29qbfuaBaR4Ats-c6XQBePB_OpAxAwcTR_0KXVM' },
  'ml-dsa-87': { pubStart: 'e45ffc8cc73db885', kid: 'tRn1JNIkgMsABVQBlXeDHxAIcclh-2IX0UdDEzPt5XU' },
} as const;
/** standards.md §10.2: SPKI sizes, and the ML-DSA-44 seed-form PKCS#8 of seed 00 01 … 1f. */
const SPKI_BYTES = { 'ml-dsa-44': 1334, 'ml-dsa-65': 1974, 'ml-dsa-87': 2614 } as const;
const EXAMPLE_44 = 'MDQCAQAwCwYJYIZIAWUDBAMRBCKAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f';
const TYPES = ['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87'] as const;

const runtimeEngine = await mlDsaEngine();
const noble = await loadNobleMlDsaEngine();
/** Every engine this runtime has (node:crypto on Node 24, noble everywhere). */
const ENGINES: MlDsaEngine[] = runtimeEngine === noble ? [noble] : [runtimeEngine, noble];
after(() => pinMlDsaEngine(undefined));

describe('ML-DSA vectors (standards.md §10)', () => {
  for (const t of TYPES) {
    it(`${t}: the all-zero seed gives pub ${VECTORS[t].pubStart}… and thumbprint ${VECTORS[t].kid}`, async () => {
      const key = await PrivateKey.fromPemAsync(pem(pkcs8Forms(paramsOf(t), ZERO_SEED).seed));
      const jwk = key.publicJwk();
      assert.deepEqual(Object.keys(jwk), ['alg', 'kty', 'pub']);
      assert.equal(jwk.alg, paramsOf(t).alg);
      assert.equal(jwk.kty, 'AKP');
      assert.equal(b64uDecode(jwk.pub!).subarray(0, 8).toString('hex'), VECTORS[t].pubStart);
      assert.equal(thumbprint(jwk), VECTORS[t].kid);
    });
  }

  it('the ML-DSA-44 seed-form PKCS#8 example reads as ML-DSA-44 and is written back byte for byte', async () => {
    const example = Buffer.from(EXAMPLE_44, 'base64');
    assert.equal(example.subarray(0, 22).toString('hex'), '3034020100300b06096086480165030403110422' + '8020');
    assert.deepEqual([...example.subarray(22)], [...Array(32).keys()]);
    const key = await PrivateKey.fromPemAsync(pem(example));
    assert.equal(key.keyType, 'ml-dsa-44');
    assert.deepEqual(derOf(key.toPem()), example);
    // the same key as the seed 00 01 … 1f gives noble directly
    const { publicKey } = NOBLE['ml-dsa-44'].keygen(Uint8Array.from([...Array(32).keys()]));
    assert.equal(key.publicJwk().pub, Buffer.from(publicKey).toString('base64url'));
  });

  for (const t of TYPES) {
    it(`${t}: SPKI is ${SPKI_BYTES[t]} bytes, the OID with parameters absent and the raw public key`, async () => {
      const p = paramsOf(t);
      const key = await PrivateKey.fromPemAsync(pem(pkcs8Forms(p, ZERO_SEED).seed));
      const spki = key.publicKeyDer();
      assert.equal(spki.length, SPKI_BYTES[t]);
      const lastArc = { 'ml-dsa-44': '11', 'ml-dsa-65': '12', 'ml-dsa-87': '13' }[t];
      assert.equal(spki.subarray(4, 17).toString('hex'), `300b06096086480165030403${lastArc}`);
      assert.deepEqual(spki.subarray(spki.length - p.publicKeyBytes), b64uDecode(key.publicJwk().pub!));
    });
  }

  it('the "both" and expandedKey forms start as standards.md says (ML-DSA-44)', () => {
    const forms = pkcs8Forms(paramsOf('ml-dsa-44'), ZERO_SEED);
    assert.equal(forms.both.subarray(20, 30).toString('hex'), '04820a2a30820a260420');
    assert.equal(forms.expanded.subarray(20, 28).toString('hex'), '04820a0404820a00');
  });
});

describe('the ML-DSA entries of the algorithm table', () => {
  for (const t of TYPES) {
    const p = paramsOf(t);
    it(`${t}: alg ${p.alg}, AKP JWK of thumbprint members only, JWS and CSR signatures verify, seed-form PEM round trip`, async () => {
      const entry = keyAlgorithm(t);
      assert.equal(entry.jwsAlgorithm, p.alg);
      assert.deepEqual(entry.signatureAlgorithm, { oid: p.oid, nullParams: false });
      assert.equal(parseKeyType(p.alg), t);

      const key = await PrivateKey.generate(t);
      assert.equal(key.algorithm, entry);
      const jwk = key.publicJwk();
      assert.equal(JSON.stringify(jwk), thumbprintInput(jwk), 'exactly alg, kty, pub in that order');
      const pub = b64uDecode(jwk.pub!);
      assert.equal(pub.length, p.publicKeyBytes);

      const jws = signJws(key, { nonce: 'n', url: 'https://ca.test/x' }, { hello: 'world' });
      assert.equal(JSON.parse(b64uDecode(jws.protected).toString()).alg, p.alg);
      const input = Buffer.from(`${jws.protected}.${jws.payload}`);
      const sig = b64uDecode(jws.signature);
      assert.equal(sig.length, p.signatureBytes);
      assert.ok(nobleVerifies(p, pub, input, sig), 'noble verifies the JWS');
      if (OPENSSL_ML_DSA) assert.ok(opensslVerifies(key.publicKeyDer(), input, sig), 'OpenSSL verifies the JWS');
      assert.ok(!nobleVerifies(p, pub, Buffer.concat([input, Buffer.from('x')]), sig), 'and not another message');

      const der = derOf(key.toPem());
      assert.equal(der.length, 54, 'the seed form');
      const again = await PrivateKey.fromPemAsync(key.toPem());
      assert.equal(again.keyType, t);
      assert.equal(thumbprint(again.publicJwk()), thumbprint(jwk), 'PEM round trip keeps the key');
      assert.ok(again.samePublicKey(key));

      const csr = csrParts(await buildCsr({ key, identifiers: normalizeIdentifiers(['table.example.com']) }));
      assert.equal(csr.sigOid, p.oid);
      assert.equal(csr.sigAlgDer.length, 13, 'AlgorithmIdentifier with parameters absent');
      assert.deepEqual(csr.spki, key.publicKeyDer());
      assert.ok(nobleVerifies(p, pub, csr.tbs, csr.signature), 'noble verifies the CSR');
      if (OPENSSL_ML_DSA) assert.ok(opensslVerifies(csr.spki, csr.tbs, csr.signature), 'OpenSSL verifies the CSR');
    });
  }

  it('does not show key material when inspected or serialised', async () => {
    const key = await PrivateKey.generate('ml-dsa-44');
    assert.equal(inspect(key), 'PrivateKey(ml-dsa-44)');
    assert.equal(JSON.stringify(key), '{"keyType":"ml-dsa-44"}');
  });
});

for (const engine of ENGINES) {
  describe(`reading the RFC 9881 private-key forms with ${engine.name}`, () => {
    const read = (der: Buffer) => withEngine(engine, () => PrivateKey.fromPemAsync(pem(der)));

    for (const t of TYPES) {
      it(`${t}: seed, expandedKey and both give the same key; seed and both are written as the seed, expandedKey as itself`, async () => {
        const p = paramsOf(t);
        const seed = Uint8Array.from({ length: 32 }, (_, i) => 7 * i + 3);
        const forms = pkcs8Forms(p, seed);
        for (const [name, der] of Object.entries({ seed: forms.seed, expandedKey: forms.expanded, both: forms.both })) {
          const key = await read(der);
          assert.equal(key.keyType, t, name);
          assert.deepEqual(b64uDecode(key.publicJwk().pub!), forms.publicKey, `${name}: the public key`);
          assert.deepEqual(derOf(key.toPem()), name === 'expandedKey' ? forms.expanded : forms.seed, `${name}: what toPem() writes`);
          const m = Buffer.from(`signed by a key read from the ${name} form`);
          assert.ok(nobleVerifies(p, forms.publicKey, m, key.signJws(m)), `${name}: it signs`);
        }
      });
    }

    it('refuses a "both" key whose seed and expanded key disagree', async () => {
      const p = paramsOf('ml-dsa-65');
      const a = pkcs8Forms(p, new Uint8Array(32).fill(1));
      const b = pkcs8Forms(p, new Uint8Array(32).fill(2));
      const mixed = Buffer.from(a.both);
      const at = mixed.indexOf(a.secretKey);
      b.secretKey.copy(mixed, at);
      await assert.rejects(read(mixed), KeyFormatError);
    });

    it('refuses malformed ML-DSA private keys with a KeyFormatError', async () => {
      const p = paramsOf('ml-dsa-44');
      const forms = pkcs8Forms(p, ZERO_SEED);
      const withParams = Buffer.concat([Buffer.from('3036020100300d0609608648016503040311050004228020', 'hex'), ZERO_SEED]);
      const shortSeed = Buffer.concat([Buffer.from('3033020100300b0609608648016503040311042180', 'hex'), Buffer.from([31]), ZERO_SEED.subarray(1)]);
      const wrongTag = Buffer.from(forms.seed);
      wrongTag[20] = 0x81; // [1] instead of [0]
      const shortExpanded = pkcs8Forms(p, ZERO_SEED).expanded.subarray(0, -1);
      for (const [name, der] of Object.entries({ withParams, shortSeed, wrongTag, shortExpanded })) {
        await assert.rejects(read(der), (e: unknown) => e instanceof KeyFormatError && /ML-DSA-44 private key/.test(e.message), name);
      }
    });
  });
}

describe('PrivateKey.fromPem (synchronous) and ML-DSA', () => {
  const index = fileURLToPath(new URL('../src/keys/index.ts', import.meta.url));
  const script = `
    const { PrivateKey } = await import(${JSON.stringify(index)});
    const pem = '-----BEGIN PRIVATE KEY-----\\n${EXAMPLE_44}\\n-----END PRIVATE KEY-----\\n';
    try { console.log('read ' + PrivateKey.fromPem(pem).keyType); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }
    console.log('async ' + (await PrivateKey.fromPemAsync(pem)).keyType);
    console.log('then sync ' + PrivateKey.fromPem(pem).keyType);`;

  it(OPENSSL_ML_DSA ? 'reads ML-DSA at once where node:crypto has it' : 'needs fromPemAsync first where Node has no ML-DSA (noble is loaded lazily)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [first, second, third] = r.stdout.trim().split('\n');
    if (OPENSSL_ML_DSA) assert.equal(first, 'read ml-dsa-44');
    else assert.equal(first, `${UnsupportedError.name}: ML-DSA on Node ${process.versions.node} uses @noble/post-quantum, which is loaded asynchronously: read the key with PrivateKey.fromPemAsync()`);
    assert.equal(second, 'async ml-dsa-44');
    assert.equal(third, 'then sync ml-dsa-44');
  });
});

/**
 * RFC 9799 pieces: the v3 onion address, Tor's expanded Ed25519 key (signed with directly, checked
 * against node:crypto's seed-based Ed25519 and openssl), and the onion-csr-01 CSR. The vectors are
 * standards.md §8.5/§8.6's.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { OnionCsr01Solver } from '../src/challenges/onionCsr01.js';
import type { ChallengeContext } from '../src/challenges/types.js';
import { ChallengeError, KeyFormatError, UnsupportedError, UsageError } from '../src/errors.js';
import { normalizeIdentifiers } from '../src/identifiers.js';
import { b64uDecode } from '../src/jose/base64url.js';
import { signJws } from '../src/jose/jws.js';
import { PrivateKey } from '../src/keys/index.js';
import { TOR_ED25519, expandEd25519Seed } from '../src/keys/torEd25519.js';
import { foreignOnionNames, onionAddress } from '../src/onion.js';
import { buildCsr } from '../src/x509/csr.js';
import { openssl, tmpFile } from './fixtures/openssl.js';

// standards.md §8.5 and §8.6 (tor-dev 2017 vector)
const SEED = Buffer.from('33a7e5c16e0308a3e6a0e7f4a621b3caad9ed1acdb3f78369b1377c5e6050278', 'hex');
const PUBKEY = '79bcc625184b05194975c28b66b66b0469f7f6556fb1ac3189a79b40dda32f1f';
const ONION = 'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion';
const EXPANDED = Buffer.from(
  '08e6cf8cc85de26ad2ebe512275fad24bd8299965109bd5533ad08645fad7f72' + '76ad82cabc3ca1693cfe46e9d622dfcdea91b542e16fc98a06f90ce377dd9750', 'hex');
const SIG_TEST = 'cc88c4d794d1bd80b8bc3ed92366a84aaac2f82b1be7c13b29b243c5c9b0b50b2ba5b90aec2d42c40ec4de08b264054ec34c3f20f798f4bd235ae735a5113608';
/** C-tor's hs_ed25519_secret_key header: 29 ASCII bytes and three NULs (standards.md §8.6). */
const TOR_HEADER = Buffer.concat([Buffer.from('== ed25519v1-secret: type0 =='), Buffer.alloc(3)]);

/** The PKCS#8 (RFC 8410) Ed25519 PEM of a seed, as standards.md §8.6 spells it. */
function seedPem(seed: Buffer): string {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
}

function torFile(expanded: Buffer): Buffer {
  return Buffer.concat([TOR_HEADER, expanded]);
}

describe('the v3 onion address (standards.md §8.5)', () => {
  it('the tor-dev vector: public key → checksum 2147 → address', () => {
    const pub = Buffer.from(PUBKEY, 'hex');
    assert.equal(onionAddress(pub), ONION);
    // base32 back to the 35 bytes: pubkey || checksum || version
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    const bits = [...ONION.slice(0, 56)].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('');
    const raw = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    assert.equal(raw.subarray(0, 32).toString('hex'), PUBKEY);
    assert.equal(raw.subarray(32, 34).toString('hex'), '2147');
    assert.equal(raw[34], 3);
  });

  it('from a private key: the PKCS#8 seed and the Tor file give the same address; other key types are refused', async () => {
    assert.equal(onionAddress(PrivateKey.fromPem(seedPem(SEED))), ONION);
    assert.equal(onionAddress(await PrivateKey.fromFileContent(torFile(EXPANDED))), ONION);
    assert.throws(() => onionAddress(Buffer.alloc(31)), UsageError);
    await assert.rejects(async () => onionAddress(await PrivateKey.generate('ec:P-256')), /Ed25519 key, not ec:P-256/);
    await assert.rejects(async () => onionAddress(await PrivateKey.generate('ml-dsa-44')), /Ed25519 key, not ml-dsa-44/);
  });

  it('names of another onion service: subdomains and wildcards belong to their last two labels', () => {
    const ids = normalizeIdentifiers([ONION, `www.${ONION}`, `*.${ONION}`, 'example.com', `x.${'a'.repeat(56)}.onion`, 'expyuzz4wqqyqhjn.onion']);
    assert.deepEqual(foreignOnionNames(ids, ONION), [`x.${'a'.repeat(56)}.onion`, 'expyuzz4wqqyqhjn.onion']);
  });
});

describe("Tor's expanded Ed25519 key (standards.md §8.6)", () => {
  it('the seed expands to the vector (a clamped || prefix)', () => {
    assert.ok(expandEd25519Seed(SEED).equals(EXPANDED));
  });

  it('signing "test" from the expanded key gives the vector, the same bytes node:crypto signs from the seed', async () => {
    const tor = await PrivateKey.fromFileContent(torFile(EXPANDED));
    assert.equal(tor.keyType, 'ed25519');
    assert.equal(tor.jwsAlgorithm, 'EdDSA');
    assert.equal(tor.signJws(Buffer.from('test')).toString('hex'), SIG_TEST);
    assert.equal(sign(null, Buffer.from('test'), createPrivateKey(seedPem(SEED))).toString('hex'), SIG_TEST);
    assert.equal(Buffer.from(b64uDecode(tor.publicJwk().x!)).toString('hex'), PUBKEY);
  });

  it('random seeds and messages: expanded-key signatures equal node:crypto seed signatures and verify', async () => {
    for (let i = 0; i < 12; i++) {
      const seed = randomBytes(32);
      const node = createPrivateKey(seedPem(seed));
      const tor = await PrivateKey.fromFileContent(torFile(expandEd25519Seed(seed)));
      assert.ok(tor.publicKeyDer().equals(createPublicKey(node).export({ format: 'der', type: 'spki' })), 'same SPKI');
      assert.deepEqual(tor.publicJwk(), PrivateKey.fromKeyObject(node).publicJwk());
      for (const length of [0, 1, 31, 64, 1000]) {
        const message = randomBytes(length);
        const sig = tor.signX509(message);
        assert.ok(sig.equals(sign(null, message, node)), `seed ${i}, ${length}-byte message`);
        assert.ok(verify(null, message, createPublicKey(node), sig));
      }
    }
  });

  it('a JWS and a CSR signed from the expanded key verify (node:crypto, openssl)', async () => {
    const tor = await PrivateKey.fromFileContent(torFile(EXPANDED));
    const jws = signJws(tor, { nonce: 'n', url: 'https://ca.test/x' }, { hello: 'world' });
    const pub = createPublicKey({ key: tor.publicKeyDer(), format: 'der', type: 'spki' });
    assert.ok(verify(null, Buffer.from(`${jws.protected}.${jws.payload}`), pub, b64uDecode(jws.signature)));
    const csr = await buildCsr({ key: tor, identifiers: normalizeIdentifiers([ONION]) });
    const out = openssl(['req', '-inform', 'DER', '-in', tmpFile('tor.der', csr), '-noout', '-verify']);
    assert.match(out.stdout + out.stderr, /verify OK/);
  });

  it('generate() makes a usable expanded key; it has no PKCS#8 form, so it is never written', async () => {
    const impl = await TOR_ED25519.generate();
    const pub = createPublicKey({ key: impl.spkiDer(), format: 'der', type: 'spki' });
    assert.ok(verify(null, Buffer.from('m'), pub, impl.signJws(Buffer.from('m'))));
    const tor = await PrivateKey.fromFileContent(torFile(EXPANDED));
    assert.throws(() => tor.toPem(), (e: unknown) => e instanceof UnsupportedError && /no PKCS#8 form/.test(e.message));
  });

  it('reads PEM as fromPem does, and refuses malformed Tor files with the reason', async () => {
    assert.equal(onionAddress(await PrivateKey.fromFileContent(Buffer.from(seedPem(SEED)))), ONION);
    const refused: [Buffer, RegExp][] = [
      [torFile(EXPANDED).subarray(0, 95), /is 96 bytes, not 95/],
      [Buffer.concat([torFile(EXPANDED), Buffer.from('\n')]), /is 96 bytes, not 97/],
      [Buffer.concat([Buffer.from('== ed25519v1-public: type0 =='), Buffer.alloc(3), Buffer.from(PUBKEY, 'hex')]), /public key file \(hs_ed25519_public_key\)/],
      [Buffer.concat([Buffer.from('== curve25519v1-secret: type0 =='), Buffer.alloc(64)]), /not a Tor Ed25519 secret key/],
      [torFile(Buffer.alloc(64)), /scalar is zero/],
    ];
    for (const [data, reason] of refused) {
      await assert.rejects(PrivateKey.fromFileContent(data), (e: unknown) => e instanceof KeyFormatError && reason.test(e.message), String(reason));
    }
    await assert.rejects(PrivateKey.fromFileContent(randomBytes(96)), KeyFormatError);
  });
});

function onionContext(value: string, challenge: Record<string, unknown>): ChallengeContext {
  const identifier = { type: 'dns', value };
  const ch = { type: 'onion-csr-01', url: `https://ca.test/chall/${value}`, status: 'pending' as const, ...challenge };
  return {
    authorization: { url: 'https://ca.test/authz/1', status: 'pending', identifier, challenges: [ch] },
    challenge: ch, identifier, keyAuthorization: '', accountUrl: 'https://ca.test/acct/1', thumbprint: 't', directory: {} as never,
  };
}

/** The single OCTET STRING value of a CSR attribute. */
function attribute(csr: CertificationRequest, oid: string): Buffer {
  const found = csr.certificationRequestInfo.attributes.filter((a) => a.type === oid);
  assert.equal(found.length, 1, `one ${oid} attribute`);
  assert.equal(found[0]!.values.length, 1, `${oid} has a single value`);
  return Buffer.from(AsnConvert.parse(found[0]!.values[0]!, OctetString).buffer);
}

describe('OnionCsr01Solver', () => {
  it("accepts only names of its key's onion service", async () => {
    const solver = new OnionCsr01Solver({ key: await PrivateKey.fromFileContent(torFile(EXPANDED)) });
    assert.equal(solver.address, ONION);
    solver.check(normalizeIdentifiers([ONION, `www.${ONION}`, `*.${ONION}`]));
    assert.throws(() => solver.check(normalizeIdentifiers([ONION, 'example.com'])), /can only validate \.onion names: example\.com/);
    const other = `${'b'.repeat(56)}.onion`;
    assert.throws(() => solver.check(normalizeIdentifiers([other])), new RegExp(`the key of ${ONION}; it cannot validate ${other}`));
    await assert.rejects(async () => new OnionCsr01Solver({ key: await PrivateKey.generate('ec:P-256') }), UsageError);
  });

  for (const form of ['PKCS#8 seed', 'Tor expanded key'] as const) {
    it(`${form}: the CSR has the onion key, is signed by it and carries both nonces as single OCTET STRINGs`, async () => {
      const key = form === 'Tor expanded key' ? await PrivateKey.fromFileContent(torFile(EXPANDED)) : PrivateKey.fromPem(seedPem(SEED));
      const solver = new OnionCsr01Solver({ key });
      const nonceBytes = randomBytes(16);
      const ctx = onionContext(`*.${ONION}`, { nonce: nonceBytes.toString('base64'), authKey: { kty: 'OKP', crv: 'Ed25519', x: 'AA' } });
      await solver.prepare(ctx);
      const payload = (await solver.responsePayload(ctx)) as { csr: string };
      assert.deepEqual(Object.keys(payload), ['csr']);
      const der = b64uDecode(payload.csr);
      const out = openssl(['req', '-inform', 'DER', '-in', tmpFile('onion.der', der), '-noout', '-verify']);
      assert.match(out.stdout + out.stderr, /verify OK/);
      const csr = AsnConvert.parse(der, CertificationRequest);
      const spki = Buffer.from(AsnConvert.serialize(csr.certificationRequestInfo.subjectPKInfo));
      assert.ok(spki.equals(Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(PUBKEY, 'hex')])));
      assert.equal(csr.signatureAlgorithm.algorithm, '1.3.101.112');
      assert.equal(csr.signatureAlgorithm.parameters, undefined);
      assert.ok(attribute(csr, '2.23.140.41').equals(nonceBytes), 'caSigningNonce = the raw nonce bytes');
      const applicant = attribute(csr, '2.23.140.42');
      assert.equal(applicant.length, 16);
      await solver.cleanup(ctx);

      // a second response has fresh applicant randomness
      const again = AsnConvert.parse(b64uDecode(((await solver.responsePayload(ctx)) as { csr: string }).csr), CertificationRequest);
      assert.ok(!attribute(again, '2.23.140.42').equals(applicant));
    });
  }

  it('a missing, non-standard-base64 or short nonce fails in prepare, before anything is triggered', async () => {
    const solver = new OnionCsr01Solver({ key: PrivateKey.fromPem(seedPem(SEED)) });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /has no nonce/],
      [{ nonce: 42 }, /has no nonce/],
      [{ nonce: 'bI6_MRqV4gw=' }, /not padded standard base64/],
      [{ nonce: 'bI6/MRqV4gw' }, /not padded standard base64/],
      [{ nonce: 'AAAAAA==' }, /nonce of 32 bits/],
    ];
    for (const [challenge, reason] of cases) {
      await assert.rejects(solver.prepare(onionContext(ONION, challenge)), (e: unknown) => e instanceof ChallengeError && reason.test(e.message));
    }
    await solver.prepare(onionContext(ONION, { nonce: 'bI6/MRqV4gw=' })); // RFC 9799's example nonce (64 bits)
  });
});

import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { KeyFormatError, UsageError } from '../src/errors.js';
import { KEY_TYPES, parseKeyType, PrivateKey, type KeyType } from '../src/keys/index.js';
import { openssl, opensslBytes, tmpFile } from './fixtures/openssl.js';

const CLASSICAL: KeyType[] = ['ec:P-256', 'ec:P-384', 'ec:P-521', 'rsa:2048', 'rsa:3072', 'rsa:4096', 'ed25519'];

/** SPKI DER of a PEM private key computed by openssl (independent of node:crypto). */
function opensslSpki(pem: string): Buffer {
  return opensslBytes(['pkey', '-in', tmpFile('k.pem', pem), '-pubout', '-outform', 'DER']);
}

describe('parseKeyType', () => {
  it('accepts every canonical key type', () => {
    assert.deepEqual(KEY_TYPES, [
      'ec:P-256', 'ec:P-384', 'ec:P-521', 'rsa:2048', 'rsa:3072', 'rsa:4096', 'ed25519', 'ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87',
    ]);
    for (const t of KEY_TYPES) assert.equal(parseKeyType(t), t);
  });

  it('accepts the aliases', () => {
    const aliases: Record<string, KeyType> = {
      'P-256': 'ec:P-256', 'P-384': 'ec:P-384', 'P-521': 'ec:P-521',
      rsa2048: 'rsa:2048', rsa3072: 'rsa:3072', rsa4096: 'rsa:4096',
      'ML-DSA-44': 'ml-dsa-44', 'ML-DSA-65': 'ml-dsa-65', 'ML-DSA-87': 'ml-dsa-87',
    };
    for (const [alias, t] of Object.entries(aliases)) assert.equal(parseKeyType(alias), t);
  });

  it('rejects unknown types with a UsageError listing the valid ones', () => {
    for (const bad of ['rsa:1024', 'secp256k1', 'ec:p-256', 'toString', '']) {
      assert.throws(() => parseKeyType(bad), (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.code, 'usage');
        assert.equal(e.message, `unknown key type '${bad}'; valid: ${KEY_TYPES.join(', ')}`);
        return true;
      });
    }
  });
});

describe('PrivateKey.generate', () => {
  for (const t of CLASSICAL) {
    it(`generates ${t} and round-trips it through PKCS#8 PEM (checked by openssl)`, async () => {
      const key = await PrivateKey.generate(t);
      assert.equal(key.keyType, t);
      const pem = key.toPem();
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
      const again = PrivateKey.fromPem(pem);
      assert.equal(again.keyType, t);
      assert.deepEqual(again.publicKeyDer(), key.publicKeyDer());
      assert.deepEqual(opensslSpki(pem), key.publicKeyDer());
      const text = openssl(['pkey', '-in', tmpFile('k.pem', pem), '-noout', '-text']).stdout;
      if (t.startsWith('ec:')) assert.match(text, new RegExp(`NIST CURVE: ${t.slice(3)}`));
      if (t.startsWith('rsa:')) {
        assert.match(text, new RegExp(`Private-Key: \\(${t.slice(4)} bit`));
        assert.match(text, /publicExponent: 65537 \(0x10001\)/);
        assert.equal(key.rsaBits, Number(t.slice(4)));
      }
      if (t === 'ed25519') assert.match(text, /ED25519 Private-Key/);
    });
  }

  it('generates ML-DSA keys and writes them in the RFC 9881 seed form', async () => {
    for (const t of ['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87'] as const) {
      const key = await PrivateKey.generate(t);
      assert.equal(key.keyType, t);
      assert.equal(Buffer.from(key.toPem().replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').length, 54);
    }
  });

  it('does not show key material when inspected or serialised', async () => {
    const key = await PrivateKey.generate('ec:P-256');
    assert.equal(inspect(key), 'PrivateKey(ec:P-256)');
    assert.equal(JSON.stringify(key), '{"keyType":"ec:P-256"}');
  });
});

describe('PrivateKey.fromPem with openssl-made keys', () => {
  for (const [curve, t] of [['prime256v1', 'ec:P-256'], ['secp384r1', 'ec:P-384'], ['secp521r1', 'ec:P-521']] as const) {
    it(`reads SEC1 from openssl ecparam -genkey (${curve})`, () => {
      const pem = openssl(['ecparam', '-genkey', '-name', curve]).stdout;
      assert.match(pem, /BEGIN EC PARAMETERS[\s\S]*BEGIN EC PRIVATE KEY/);
      const key = PrivateKey.fromPem(pem);
      assert.equal(key.keyType, t);
      assert.deepEqual(key.publicKeyDer(), opensslSpki(pem));
      const pkcs8 = key.toPem();
      assert.match(pkcs8, /BEGIN PRIVATE KEY/);
      assert.deepEqual(opensslSpki(pkcs8), opensslSpki(pem));
    });
  }

  it('reads SEC1 written by openssl pkey -traditional', () => {
    const pkcs8 = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']).stdout;
    const sec1 = openssl(['pkey', '-in', tmpFile('k.pem', pkcs8), '-traditional']).stdout;
    assert.match(sec1, /BEGIN EC PRIVATE KEY/);
    const key = PrivateKey.fromPem(Buffer.from(sec1));
    assert.equal(key.keyType, 'ec:P-384');
    assert.deepEqual(key.publicKeyDer(), opensslSpki(pkcs8));
  });

  it('reads PKCS#1 from openssl genrsa -traditional', () => {
    const pem = openssl(['genrsa', '-traditional', '2048']).stdout;
    assert.match(pem, /BEGIN RSA PRIVATE KEY/);
    const key = PrivateKey.fromPem(pem);
    assert.equal(key.keyType, 'rsa:2048');
    assert.equal(key.rsaBits, 2048);
    assert.deepEqual(key.publicKeyDer(), opensslSpki(pem));
    assert.deepEqual(opensslSpki(key.toPem()), opensslSpki(pem));
  });

  it('reads PKCS#8 RSA and Ed25519 from openssl genpkey', () => {
    const rsa = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']).stdout;
    assert.equal(PrivateKey.fromPem(rsa).keyType, 'rsa:3072');
    const ed = openssl(['genpkey', '-algorithm', 'ed25519']).stdout;
    const key = PrivateKey.fromPem(ed);
    assert.equal(key.keyType, 'ed25519');
    assert.deepEqual(key.publicKeyDer(), opensslSpki(ed));
  });

  it('reports odd RSA sizes as the nearest listed type and keeps rsaBits', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2560 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const key = PrivateKey.fromPem(pem);
    assert.equal(key.keyType, 'rsa:2048');
    assert.equal(key.rsaBits, 2560);
  });

  it('picks the key block out of a file with other blocks', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const pub = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    const mixed = `${pub}\n${key.export({ type: 'pkcs8', format: 'pem' }).toString()}`;
    assert.equal(PrivateKey.fromPem(mixed).keyType, 'ec:P-256');
  });
});

describe('PrivateKey.fromPem rejects what it cannot use', () => {
  function rejects(pem: string | Buffer, pattern: RegExp): void {
    assert.throws(() => PrivateKey.fromPem(pem), (e: unknown) => {
      assert.ok(e instanceof KeyFormatError, `expected KeyFormatError, got ${String(e)}`);
      assert.equal(e.code, 'key-format');
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'message is one line');
      return true;
    });
  }

  it('garbage', () => {
    rejects('hello world', /not a PEM private key/);
    rejects(Buffer.from([0x30, 0x82, 0x01, 0x00, 0xff]), /not a PEM private key/);
    rejects('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /cannot read PRIVATE KEY block/);
    rejects('-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n', /invalid base64/);
  });

  it('encrypted PKCS#8 and encrypted traditional keys', () => {
    const plain = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).stdout;
    const path = tmpFile('k.pem', plain);
    const enc8 = openssl(['pkey', '-in', path, '-aes256', '-passout', 'pass:secret']).stdout;
    assert.match(enc8, /BEGIN ENCRYPTED PRIVATE KEY/);
    rejects(enc8, /encrypted private keys are not supported/);
    const encTrad = openssl(['pkey', '-in', path, '-traditional', '-aes256', '-passout', 'pass:secret']).stdout;
    assert.match(encTrad, /Proc-Type: 4,ENCRYPTED/);
    rejects(encTrad, /encrypted private keys are not supported/);
  });

  it('public keys', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    rejects(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(), /expected a private key, found a PEM PUBLIC KEY block/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    rejects(rsa.export({ type: 'pkcs1', format: 'pem' }).toString(), /found a PEM RSA PUBLIC KEY block/);
  });

  it('unsupported curves and algorithms', () => {
    rejects(openssl(['ecparam', '-genkey', '-name', 'secp256k1']).stdout, /unsupported EC curve 'secp256k1'/);
    rejects(openssl(['genpkey', '-algorithm', 'ed448']).stdout, /unsupported key algorithm 'ed448'/);
    rejects(openssl(['genpkey', '-algorithm', 'x25519']).stdout, /unsupported key algorithm 'x25519'/);
  });

  it('RSA keys under 2048 bits', () => {
    rejects(openssl(['genrsa', '-traditional', '1024']).stdout, /RSA key of 1024 bits is too small/);
  });

  it('ML-DSA PKCS#8 (RFC 9881 seed form) reads as its key type', async () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMDQCAQAwCwYJYIZIAWUDBAMRBCKAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n-----END PRIVATE KEY-----\n';
    assert.equal((await PrivateKey.fromPemAsync(pem)).keyType, 'ml-dsa-44');
  });
});

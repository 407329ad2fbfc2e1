/**
 * TSIG (RFC 8945) with HMAC-SHA256 and HMAC-SHA512: signing a request, and verifying the signed
 * answer (its MAC covers the request's MAC, so an answer cannot be replayed for another request).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Message, encodeTsigRecord, readName, sameName, wireName } from './packet.js';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512';

/** A TSIG key as BIND's `key "name" { algorithm …; secret "…"; };` gives it. */
export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha512'];
const HASH: Record<TsigAlgorithm, string> = { 'hmac-sha256': 'sha256', 'hmac-sha512': 'sha512' };
/** Seconds of clock difference allowed (RFC 8945 §10 recommends 300). */
const FUDGE = 300;
const CLASS_ANY = 255;

/** TSIG error codes (RFC 8945 §3). */
export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u48 = (n: number): Buffer => {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
};

/** The TSIG variables (RFC 8945 §4.3.3) that follow the message in the MAC's input. */
function variables(key: TsigKey, algorithm: string, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    wireName(key.name), u16(CLASS_ANY), Buffer.alloc(4),
    wireName(algorithm), u48(timeSigned), u16(fudge), u16(error), u16(other.length), other,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(HASH[key.algorithm], key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Appends a TSIG record to `message` (ARCOUNT raised); returns the signed message and its MAC. */
export function signMessage(message: Buffer, key: TsigKey, nowSeconds: number): { message: Buffer; mac: Buffer } {
  const time = Math.floor(nowSeconds);
  const mac = hmac(key, [message, variables(key, key.algorithm, time, FUDGE, 0, Buffer.alloc(0))]);
  const rdata = Buffer.concat([
    wireName(key.algorithm), u48(time), u16(FUDGE), u16(mac.length), mac, u16(message.readUInt16BE(0)), u16(0), u16(0),
  ]);
  const signed = Buffer.concat([message, encodeTsigRecord(key.name, rdata)]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

interface TsigFields {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

function readTsig(rdata: Buffer): TsigFields {
  const { name: algorithm, bytes } = readName(rdata, 0);
  let o = bytes;
  const timeSigned = rdata.readUIntBE(o, 6);
  const fudge = rdata.readUInt16BE(o + 6);
  const macSize = rdata.readUInt16BE(o + 8);
  o += 10;
  const mac = rdata.subarray(o, o + macSize);
  o += macSize;
  const originalId = rdata.readUInt16BE(o);
  const error = rdata.readUInt16BE(o + 2);
  const otherLen = rdata.readUInt16BE(o + 4);
  const other = rdata.subarray(o + 6, o + 6 + otherLen);
  if (mac.length !== macSize || other.length !== otherLen) throw new Error('truncated TSIG record');
  return { algorithm, timeSigned, fudge, mac, originalId, error, other };
}

/** What the answer's TSIG says: verified, unsigned, a TSIG error the server reports, or a bad MAC. */
export type TsigVerdict =
  | { kind: 'verified' }
  | { kind: 'unsigned' }
  | { kind: 'server-error'; error: string }
  | { kind: 'invalid'; why: string };

/**
 * Checks the TSIG record of an answer to a request signed with `key` whose MAC was `requestMac`
 * (RFC 8945 §5.3): same key and algorithm, a MAC over request MAC + answer + variables, and a
 * signing time within the fudge of `nowSeconds`.
 */
export function verifyAnswer(raw: Buffer, message: Message, key: TsigKey, requestMac: Buffer, nowSeconds: number): TsigVerdict {
  const tsig = message.tsig;
  if (!tsig) return { kind: 'unsigned' };
  let f: TsigFields;
  try {
    f = readTsig(tsig.rdata);
  } catch (err) {
    return { kind: 'invalid', why: (err as Error).message };
  }
  if (f.error !== 0) return { kind: 'server-error', error: TSIG_ERRORS[f.error] ?? `TSIG error ${f.error}` };
  if (!sameName(tsig.keyName, key.name)) return { kind: 'invalid', why: `signed with another key (${tsig.keyName})` };
  if (!sameName(f.algorithm, key.algorithm)) return { kind: 'invalid', why: `signed with another algorithm (${f.algorithm})` };
  const unsigned = Buffer.from(raw.subarray(0, tsig.start));
  unsigned.writeUInt16BE(f.originalId, 0);
  unsigned.writeUInt16BE(raw.readUInt16BE(10) - 1, 10);
  const expected = hmac(key, [u16(requestMac.length), requestMac, unsigned, variables(key, f.algorithm, f.timeSigned, f.fudge, f.error, f.other)]);
  if (f.mac.length !== expected.length || !timingSafeEqual(f.mac, expected)) return { kind: 'invalid', why: 'the MAC does not match' };
  if (Math.abs(nowSeconds - f.timeSigned) > f.fudge) return { kind: 'invalid', why: `signed at a time more than ${f.fudge} s from ours` };
  return { kind: 'verified' };
}

/**
 * DNS messages through dns-packet: queries, RFC 2136 UPDATE messages, and decoding an answer with
 * the offset of its trailing TSIG record (RFC 8945 signs the bytes before it). dns-packet writes
 * names uncompressed, so encoded lengths add up and a record's fields can be located by offset.
 */
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Question } from 'dns-packet';

/** The codecs dns-packet exports beside encode/decode (not in its type declarations). */
interface Codec<T> {
  encode(value: T, buf?: Buffer, offset?: number): Buffer;
  decode(buf: Buffer, offset?: number): T;
  encodingLength(value: T): number;
}
interface Codecs {
  name: Codec<string> & { encode: { bytes: number }; decode: { bytes: number } };
  question: Codec<Question> & { decode: { bytes: number } };
  answer: Codec<Answer> & { decode: { bytes: number } };
}
const codecs = dnsPacket as unknown as Codecs;

const OPCODE_UPDATE = 5;
const CLASS_NONE = 254;

/** Response codes by number (RFC 1035, RFC 2136, RFC 8945). */
export const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};

/** A name as DNS wants it for comparison and signing: lower case, with a trailing dot. */
export function fqdn(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n : `${n}.`;
}

/** A name without the trailing dot (dns-packet's form). */
export const bare = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name);

/** Names equal ignoring case and a trailing dot. */
export const sameName = (a: string, b: string): boolean => fqdn(a) === fqdn(b);

/** A value as TXT character-strings (at most 255 octets each, RFC 1035 §3.3.14). */
export function txtStrings(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) parts.push(bytes.subarray(i, i + 255));
  return parts.length > 0 ? parts : [Buffer.alloc(0)];
}

/** The TXT values of an answer section for `name` (character-strings joined, as a CA reads them). */
export function txtValues(answers: readonly Answer[] | undefined, name: string): string[] {
  return (answers ?? [])
    .filter((a) => a.type === 'TXT' && sameName(a.name, name))
    .map((a) => {
      const data = (a as { data: unknown }).data;
      const parts = Array.isArray(data) ? data : [data];
      return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(String(p))))).toString('utf8');
    });
}

export const newId = (): number => randomInt(0, 0x10000);

/** A query for one name and type; `recursive` sets RD. */
export function encodeQuery(name: string, type: 'SOA' | 'NS' | 'TXT' | 'A' | 'AAAA', opts: { id?: number; recursive?: boolean } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? newId(),
    flags: opts.recursive ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type, class: 'IN', name: bare(name) }],
  });
}

/** One change of an UPDATE: add a TXT record, delete one (class NONE), or delete the whole set (class ANY). */
export interface TxtChange {
  op: 'add' | 'delete' | 'delete-all';
  name: string;
  value?: string;
  ttl?: number;
}

/**
 * An RFC 2136 UPDATE for `zone`: the zone section (SOA question), no prerequisites, the changes in
 * the update section. With no changes it is a probe: the server checks the zone and the key's
 * right to update it, and changes nothing.
 */
export function encodeUpdate(zone: string, changes: readonly TxtChange[], id: number = newId()): Buffer {
  const zoneQuestion: Question = { type: 'SOA', class: 'IN', name: bare(zone) };
  const records: Answer[] = changes.map((c) => ({
    type: 'TXT',
    name: bare(c.name),
    class: c.op === 'delete-all' ? 'ANY' : 'IN',
    ttl: c.op === 'add' ? (c.ttl ?? 60) : 0,
    data: c.op === 'delete-all' ? [] : txtStrings(c.value ?? ''),
  }));
  const buf = dnsPacket.encode({ type: 'query', id, flags: OPCODE_UPDATE << 11, questions: [zoneQuestion], authorities: records });
  // dns-packet has no class NONE: write it into the class field of each single-record delete
  let offset = 12 + codecs.question.encodingLength(zoneQuestion);
  changes.forEach((c, i) => {
    const rr = records[i]!;
    if (c.op === 'delete') buf.writeUInt16BE(CLASS_NONE, offset + codecs.name.encodingLength(rr.name) + 2);
    offset += codecs.answer.encodingLength(rr);
  });
  return buf;
}

/** A decoded message, with where its last additional record starts when that is a TSIG record. */
export interface Message {
  packet: DecodedPacket;
  id: number;
  opcode: number;
  rcode: number;
  /** The TSIG record's owner name, start offset and RDATA (undefined: unsigned). */
  tsig?: { keyName: string; start: number; rdata: Buffer };
}

/** Decodes a message; throws on a malformed one. */
export function decodeMessage(buf: Buffer): Message {
  const packet = dnsPacket.decode(buf);
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o)) as [number, number, number, number];
  let offset = 12;
  for (let i = 0; i < counts[0]; i++) {
    codecs.question.decode(buf, offset);
    offset += codecs.question.decode.bytes;
  }
  const rrs = counts[1] + counts[2] + counts[3];
  let last = offset;
  for (let i = 0; i < rrs; i++) {
    last = offset;
    codecs.answer.decode(buf, offset);
    offset += codecs.answer.decode.bytes;
  }
  const message: Message = { packet, id: buf.readUInt16BE(0), opcode: (flags >> 11) & 0xf, rcode: flags & 0xf };
  const final = packet.additionals?.[packet.additionals.length - 1];
  if (counts[3] > 0 && final && final.type === 'TSIG') {
    const keyName = codecs.name.decode(buf, last);
    message.tsig = { keyName, start: last, rdata: (final as { data: Buffer }).data };
  }
  return message;
}

/** A name in uncompressed wire form, lower case (the canonical form TSIG signs). */
export function wireName(name: string): Buffer {
  const buf = codecs.name.encode(bare(name.toLowerCase()));
  return buf.subarray(0, codecs.name.encode.bytes);
}

/** Reads a wire-form name at `offset` of `buf`: the name and its length. */
export function readName(buf: Buffer, offset: number): { name: string; bytes: number } {
  const name = codecs.name.decode(buf, offset);
  return { name, bytes: codecs.name.decode.bytes };
}

/** A TSIG resource record (owner = key name, class ANY, TTL 0) with the given RDATA. */
export function encodeTsigRecord(keyName: string, rdata: Buffer): Buffer {
  return codecs.answer.encode({ type: 'TSIG', name: bare(keyName.toLowerCase()), class: 'ANY', ttl: 0, data: rdata } as unknown as Answer);
}

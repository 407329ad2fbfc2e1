/** Minimal RFC 7468 PEM handling shared by keys/ and x509/ (no ASN.1 dependency). */
import { AkamuError } from '../errors.js';

export interface PemBlock {
  label: string;
  /** Encapsulated headers (RFC 1421 style, e.g. `Proc-Type`), lower-cased names. */
  headers: Record<string, string>;
  der: Buffer;
  /** Offsets of the whole block in the source text. */
  start: number;
  end: number;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n?([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Parses every PEM block in `text`; throws on a block whose END label differs or whose body is not base64. */
export function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const [whole, label = '', body = '', endLabel = ''] = m;
    if (label !== endLabel) throw new AkamuError(`PEM block BEGIN ${label} ends with END ${endLabel}`, 'bad-pem');
    const headers: Record<string, string> = {};
    let b64 = body;
    const headerEnd = /\r?\n\r?\n/.exec(body);
    if (headerEnd && /^[A-Za-z-]+:/.test(body)) {
      for (const line of body.slice(0, headerEnd.index).split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      b64 = body.slice(headerEnd.index + headerEnd[0].length);
    }
    const compact = b64.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
      throw new AkamuError(`PEM block ${label} has invalid base64 content`, 'bad-pem');
    }
    blocks.push({ label, headers, der: Buffer.from(compact, 'base64'), start: m.index, end: m.index + whole.length });
  }
  return blocks;
}

/** Encodes DER as a PEM block with 64-character lines and a trailing newline. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Just enough TLS ClientHello parsing to find the ALPN protocols a client offers before the TLS
 * stack answers with a certificate (node:tls does not call ALPNCallback when a client sends no
 * ALPN extension at all, so that case has to be caught before the handshake).
 */

export type ClientHelloPeek =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'hello'; alpn: string[] | undefined; serverName: string | undefined };

/** Largest prefix worth buffering: one full TLS record (2^14 + 2048 + header). */
export const CLIENT_HELLO_MAX = 5 + 16384 + 2048;

class Reader {
  constructor(
    private readonly b: Buffer,
    public pos = 0,
    private readonly end = b.length,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.b.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  sub(n: number): Reader {
    this.need(n);
    const r = new Reader(this.b, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  get left(): number {
    return this.end - this.pos;
  }
}

/**
 * Inspects the first bytes of a TLS connection (buffer more and retry on `incomplete`);
 * a ClientHello fragmented over several records is reassembled.
 */
export function peekClientHello(data: Buffer): ClientHelloPeek {
  // Reassemble handshake bytes from consecutive handshake records.
  const parts: Buffer[] = [];
  let pos = 0;
  let have = 0;
  let needed: number | undefined;
  while (needed === undefined || have < needed) {
    if (data.length < pos + 5) return { kind: 'incomplete' };
    const type = data[pos]!;
    const major = data[pos + 1]!;
    const len = data.readUInt16BE(pos + 3);
    if (type !== 0x16 || major !== 3) return { kind: 'invalid', reason: 'not a TLS handshake record' };
    if (len === 0 || len > 16384 + 2048) return { kind: 'invalid', reason: 'bad TLS record length' };
    if (data.length < pos + 5 + len) return { kind: 'incomplete' };
    parts.push(data.subarray(pos + 5, pos + 5 + len));
    have += len;
    pos += 5 + len;
    if (needed === undefined && have >= 4) {
      const hs = Buffer.concat(parts);
      if (hs[0] !== 0x01) return { kind: 'invalid', reason: 'first handshake message is not a ClientHello' };
      needed = 4 + hs.readUIntBE(1, 3);
      if (needed > 65536) return { kind: 'invalid', reason: 'ClientHello too large' };
    }
  }
  const hs = Buffer.concat(parts).subarray(4, needed);
  try {
    const r = new Reader(hs);
    r.u16(); // legacy_version
    r.bytes(32); // random
    r.bytes(r.u8()); // session id
    r.bytes(r.u16()); // cipher suites
    r.bytes(r.u8()); // compression methods
    let alpn: string[] | undefined;
    let serverName: string | undefined;
    if (r.left === 0) return { kind: 'hello', alpn, serverName };
    const exts = r.sub(r.u16());
    while (exts.left > 0) {
      const type = exts.u16();
      const body = exts.sub(exts.u16());
      if (type === 16) {
        alpn = [];
        const list = body.sub(body.u16());
        while (list.left > 0) alpn.push(list.bytes(list.u8()).toString('latin1'));
      } else if (type === 0) {
        const list = body.sub(body.u16());
        while (list.left > 0) {
          const nameType = list.u8();
          const name = list.bytes(list.u16()).toString('latin1');
          if (nameType === 0) serverName = name;
        }
      }
    }
    return { kind: 'hello', alpn, serverName };
  } catch {
    return { kind: 'invalid', reason: 'malformed ClientHello' };
  }
}

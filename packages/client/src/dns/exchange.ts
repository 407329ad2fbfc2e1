/**
 * One DNS exchange with one server: UDP first (one retry on silence), TCP when the answer is
 * truncated or the message is too large for UDP; every attempt bounded by a timeout and an abort
 * signal. Failures are ChallengeErrors that name the server.
 */
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { ChallengeError } from '../errors.js';
import { abortedError } from '../transport/errors.js';

/** Where a DNS server listens. */
export interface DnsServerAddress {
  host: string;
  port: number;
}

export interface ExchangeOptions {
  /** Per attempt; default 5 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Start with TCP (e.g. a message larger than 512 octets). */
  tcp?: boolean;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const UDP_LIMIT = 512;
const TC_FLAG = 1 << 9;

/** `host:port`, with brackets for IPv6. */
export function serverText(s: DnsServerAddress): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

/**
 * Parses `HOST[:PORT]` (`[v6]:port` for IPv6 with a port); the port defaults to 53. Throws a
 * plain Error naming what is wrong, for the caller to word.
 */
export function parseServerAddress(text: string, defaultPort = 53): DnsServerAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const plainV6 = m === null && net.isIPv6(text);
  const host = plainV6 ? text : m?.[1];
  const port = plainV6 || m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`expected HOST[:PORT], got '${text}'`);
  return { host, port };
}

/** Sends `query` and resolves with the answer whose ID matches. A host name is resolved first. */
export async function exchange(named: DnsServerAddress, query: Buffer, opts: ExchangeOptions = {}): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  opts.signal?.throwIfAborted();
  const server = net.isIP(named.host) ? named : { host: await address(named), port: named.port };
  if (!opts.tcp && query.length <= UDP_LIMIT) {
    let answer: Buffer | undefined;
    for (let attempt = 0; attempt < 2 && !answer; attempt++) answer = await udp(server, query, timeoutMs, opts.signal);
    if (!answer) throw new ChallengeError(`no answer from DNS server ${serverText(server)} within ${timeoutMs / 1000} s (UDP, 2 tries)`);
    if ((answer.readUInt16BE(2) & TC_FLAG) === 0) return answer;
  }
  return tcp(server, query, timeoutMs, opts.signal);
}

async function address(server: DnsServerAddress): Promise<string> {
  try {
    return (await lookup(server.host)).address;
  } catch (err) {
    throw new ChallengeError(`cannot resolve DNS server ${serverText(server)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

function udp(server: DnsServerAddress, query: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const done = (err: Error | undefined, answer?: Buffer): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve(answer);
    };
    const onAbort = (): void => done(abortedError(`DNS query to ${serverText(server)}`, signal));
    const timer = setTimeout(() => done(undefined, undefined), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => done(unreachable(server, err)));
    // only an answer from the server asked, with the query's ID, is taken
    socket.on('message', (msg, rinfo) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id && rinfo.port === server.port) done(undefined, msg);
    });
    socket.send(query, server.port, server.host);
  });
}

function tcp(server: DnsServerAddress, query: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let data = Buffer.alloc(0);
    const done = (err: Error | undefined, answer?: Buffer): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const onAbort = (): void => done(abortedError(`DNS query to ${serverText(server)}`, signal));
    const timer = setTimeout(() => done(new ChallengeError(`no answer from DNS server ${serverText(server)} within ${timeoutMs / 1000} s (TCP)`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => done(unreachable(server, err)));
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) done(undefined, data.subarray(2, 2 + data.readUInt16BE(0)));
    });
    socket.on('end', () => done(new ChallengeError(`DNS server ${serverText(server)} closed the TCP connection without an answer`)));
  });
}

function unreachable(server: DnsServerAddress, err: NodeJS.ErrnoException): ChallengeError {
  return new ChallengeError(`cannot reach DNS server ${serverText(server)}: ${err.code ?? err.message}`, { cause: err });
}

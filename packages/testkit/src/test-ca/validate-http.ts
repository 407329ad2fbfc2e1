// http-01 (RFC 8555 §8.3): GET the key authorization from the configured address and port, with
// the identifier as Host. Redirects are not followed (the test CA cannot leave loopback).

import * as http from 'node:http';
import { isIP } from 'node:net';
import { AcmeProblem } from './problem.js';
import type { Identifier } from './problem.js';

export async function validateHttp01(id: Identifier, token: string, keyAuth: string,
  target: { address: string; port: number }): Promise<void> {
  const host = isIP(id.value) === 6 ? `[${id.value}]` : id.value;
  const where = `http://${host}/.well-known/acme-challenge/${token}`;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({
      host: target.address, port: target.port, method: 'GET', path: `/.well-known/acme-challenge/${token}`,
      headers: { host: `${host}:${target.port}`, 'user-agent': 'akamu-test-ca' }, agent: false, timeout: 5000,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size > 1024) req.destroy(new Error('response larger than 1 KiB'));
        else chunks.push(b);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout after 5 s')));
    req.on('error', reject);
    req.end();
  }).catch((e: Error) => {
    throw new AcmeProblem('connection', `${where} (fetched from ${target.address}:${target.port}): ${e.message}`);
  });
  if (status !== 200) throw new AcmeProblem('unauthorized', `${where} answered HTTP ${status}`);
  if (body.trimEnd() !== keyAuth) {
    throw new AcmeProblem('incorrectResponse', `${where}: the key authorization does not match (got ${JSON.stringify(body.slice(0, 100))})`);
  }
}

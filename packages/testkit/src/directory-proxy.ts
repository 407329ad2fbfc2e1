/**
 * A small HTTPS front for Pebble's directory that rewrites it (e.g. strips `renewalInfo`), so tests
 * can play a CA without a feature Pebble has. Only the directory passes through here: the URLs in it
 * still point at Pebble itself.
 */
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Pebble } from './pebble.js';

export interface DirectoryProxy {
  directoryUrl: string;
  stop(): Promise<void>;
}

export async function startDirectoryProxy(pebble: Pebble, rewrite: (dir: Record<string, unknown>) => Record<string, unknown>): Promise<DirectoryProxy> {
  const server = https.createServer({
    cert: readFileSync(path.join(pebble.dir, 'tls-cert.pem')),
    key: readFileSync(path.join(pebble.dir, 'tls-key.pem')),
  }, (req, res) => {
    if (req.method !== 'GET' || req.url !== '/dir') {
      res.writeHead(404).end();
      return;
    }
    pebble.httpsGet(pebble.directoryUrl).then(
      (r) => {
        const body = JSON.stringify(rewrite(JSON.parse(r.body) as Record<string, unknown>));
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      },
      (err: Error) => res.writeHead(502).end(err.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    directoryUrl: `https://127.0.0.1:${port}/dir`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

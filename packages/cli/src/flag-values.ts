/** Checking numeric flag values (`--http-port`, `--tls-port`, `--poll-timeout`). */
import { UsageError } from 'akamu-client';

export function parsePort(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a port number (0–65535), got '${value}'`);
  const n = Number(value);
  if (n > 65535) throw new UsageError(`${flag} must be a port number (0–65535), got '${value}'`);
  return n;
}

export function parsePositiveSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new UsageError(`${flag} must be a positive number of seconds, got '${value}'`);
  return Number(value);
}

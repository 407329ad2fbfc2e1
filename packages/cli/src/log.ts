/**
 * The CLI's stderr logger. Default level `warn`; `-v` turns on debug for the client (`akamu_client`),
 * `-vv` adds HTTP and TLS details (`http`). `AKAMU_LOG` (or its alias `RUST_LOG`) gives fine control:
 * a level (`info`) or comma-separated `target=level` pairs; it is applied over the -v flags.
 */
import { styleText } from 'node:util';
import type { Logger, LogLevel } from 'akamu-client';
import { escapeControls } from './render/safe-text.js';

const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];
const rank = (l: LogLevel): number => LEVELS.indexOf(l);

export interface LogConfig {
  defaultLevel: LogLevel;
  targets: Map<string, LogLevel>;
}

function parseLevel(text: string): LogLevel | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'off') return 'error';
  return (LEVELS as readonly string[]).includes(t) ? (t as LogLevel) : undefined;
}

/** Map target names used by the original (Rust) tool onto ours, so documented RUST_LOG lines keep working. */
function canonicalTarget(target: string): string {
  const t = target.trim();
  if (t === 'akamu_cli' || t === 'akamu-cli') return 'akamu_cli';
  if (t === 'hyper_util' || t === 'hyper' || t === 'rustls' || t === 'reqwest') return 'http';
  if (t === 'akamu-client') return 'akamu_client';
  return t;
}

export function logConfig(verbosity: number, env: NodeJS.ProcessEnv = process.env): LogConfig {
  const config: LogConfig = { defaultLevel: 'warn', targets: new Map() };
  if (verbosity >= 1) {
    config.targets.set('akamu_client', 'debug');
    config.targets.set('akamu_cli', 'debug');
  }
  if (verbosity >= 2) config.targets.set('http', 'debug');
  const spec = env.AKAMU_LOG ?? env.RUST_LOG;
  if (spec) {
    for (const part of spec.split(',')) {
      if (!part.trim()) continue;
      const eq = part.indexOf('=');
      if (eq < 0) {
        const level = parseLevel(part);
        if (level) {
          config.defaultLevel = level;
          // a bare level raises (or lowers) every target that -v did not set more verbosely
          for (const [t, l] of config.targets) if (rank(l) < rank(level)) config.targets.set(t, level);
        }
      } else {
        const level = parseLevel(part.slice(eq + 1));
        if (level) config.targets.set(canonicalTarget(part.slice(0, eq)), level);
      }
    }
  }
  return config;
}

function formatFields(fields?: Record<string, unknown>): string {
  if (!fields) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return parts.length ? ` ${parts.join(' ')}` : '';
}

export function createLogger(config: LogConfig, target = 'akamu_cli', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const colour = process.stderr.isTTY === true && !process.env.NO_COLOR;
  const threshold = rank(config.targets.get(target) ?? config.defaultLevel);
  const emit = (level: LogLevel) => (message: string, fields?: Record<string, unknown>): void => {
    if (rank(level) > threshold) return;
    let tag = level.toUpperCase().padEnd(5);
    if (colour) tag = styleText(level === 'error' ? 'red' : level === 'warn' ? 'yellow' : 'dim', tag);
    // one entry, one line: what the message quotes (server text, hook output) cannot forge lines or escapes
    write(`${tag} ${target}: ${escapeControls(`${message}${formatFields(fields)}`)}\n`);
  };
  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    trace: emit('trace'),
    child: (t: string) => createLogger(config, t, write),
  };
}

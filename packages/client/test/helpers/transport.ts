/** Test doubles for the transport tests: a sleep that records instead of waiting, a logger that keeps lines. */
import type { Logger } from '../../src/log.js';

export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

/** Lines as `<level> <message>`, or `<level> <target>: <message>` through child(target). */
export function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  const log: Logger = { error: rec('error'), warn: rec('warn'), info: rec('info'), debug: rec('debug'), trace: rec('trace') };
  log.child = (target: string) => {
    const c: Logger = {
      error: (m) => lines.push(`error ${target}: ${m}`),
      warn: (m) => lines.push(`warn ${target}: ${m}`),
      info: (m) => lines.push(`info ${target}: ${m}`),
      debug: (m) => lines.push(`debug ${target}: ${m}`),
      trace: (m) => lines.push(`trace ${target}: ${m}`),
    };
    return c;
  };
  return { log, lines };
}

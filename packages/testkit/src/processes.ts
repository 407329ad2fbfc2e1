/** Watching processes from a test: is a pid still running, wait for a condition, a DNS hook that takes its time. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** True while the process exists and is not a zombie waiting to be reaped (Linux /proc). */
export function processAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `ok` every 20 ms; fails (naming `what`) after `timeoutMs` (default 30 s, a safety net only). */
export async function waitUntil(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 20) {
    if (ok()) return;
    await delay(20);
  }
  throw new Error(`gave up waiting for ${what}`);
}

export interface SlowDnsHook {
  /** The hook program (a /bin/sh script), for --dns-hook or HookDnsPublisher. */
  path: string;
  /** Its environment: MARKS = the folder where it leaves its marks. */
  env: Record<string, string>;
  /** Resolves once `add` runs, with the pids of the hook and of the child it waits for. */
  added(): Promise<{ hookPid: number; childPid: number }>;
  /** What `remove` was called for (AKAMU_RECORD_NAME per line), '' before any call. */
  removed(): string;
}

/**
 * A DNS hook whose `add` starts a child of its own (`sleep 60`) and waits for it, recording both
 * pids; its `remove` records the record name. For tests that interrupt an issuance mid-hook.
 */
export function writeSlowDnsHook(dir: string): SlowDnsHook {
  const path = join(dir, 'slow-hook.sh');
  writeFileSync(path, [
    '#!/bin/sh',
    'case "$1" in',
    '  add) echo $$ > "$MARKS/add.pid"; sleep 60 & echo $! > "$MARKS/sleep.pid.tmp"; mv "$MARKS/sleep.pid.tmp" "$MARKS/sleep.pid"; wait ;;',
    '  remove) echo "$AKAMU_RECORD_NAME" >> "$MARKS/removed" ;;',
    'esac',
    '',
  ].join('\n'));
  chmodSync(path, 0o755);
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  return {
    path,
    env: { MARKS: dir },
    added: async () => {
      await waitUntil('the hook\'s add to start its child', () => read('sleep.pid') !== '');
      return { hookPid: Number(read('add.pid')), childPid: Number(read('sleep.pid')) };
    },
    removed: () => read('removed'),
  };
}

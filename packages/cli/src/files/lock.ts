/**
 * One run at a time per certificate: a lock file (`<out>.lock`) holding the owner's pid, host, start
 * time and a random token. It is created complete, in one step (written to a temporary file, then
 * hard-linked to the lock's name, which fails if a lock exists), and removed when the run ends,
 * also on process.exit(). A lock whose process is gone (or whose pid now belongs to a process that
 * started later) is stale and is taken over; a live one makes the run stop at once.
 */
import { randomBytes } from 'node:crypto';
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { AkamuError, type Logger } from 'akamu-client';
import { prepareWrite } from './atomic.js';
import { processAlive } from './temps.js';

export interface Lock {
  readonly path: string;
  /** Remove the lock (only if it is still ours). */
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
  /** When the lock was taken (ISO). */
  since: string;
  /** The holder's process start time in clock ticks since boot (Linux), to tell a reused pid. */
  procStart?: string;
  token: string;
}

/** Thrown when another live run holds the lock. */
export class LockedError extends AkamuError {
  constructor(readonly lockPath: string, what: string, holder: Holder | undefined) {
    const who = holder ? `pid ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}, since ${holder.since}` : 'unknown process';
    super(`another akamu-cli run (${who}) is working on ${what}; nothing was done (lock file ${lockPath})`);
  }
}

/** Take the lock at `path` for `what` (the certificate chain), or throw LockedError at once. */
export async function acquireLock(path: string, what: string, log?: Logger): Promise<Lock> {
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), procStart: procStart(process.pid), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(path, me)) return held(path, me.token);
    const holder = await readHolder(path);
    if (holder === null) continue; // released meanwhile: try again
    if (!isStale(holder)) throw new LockedError(path, what, holder);
    if (await breakStale(path, holder)) log?.info(`removed the stale lock ${path} of pid ${holder!.pid}, which is gone`);
  }
  throw new LockedError(path, what, (await readHolder(path)) ?? undefined);
}

/** Create `path` with `holder` as its whole content, or return false when it exists. */
async function createExclusive(path: string, holder: Holder): Promise<boolean> {
  const w = await prepareWrite(path, `${JSON.stringify(holder)}\n`, { follow: false });
  try {
    await link(w.tempPath, path);
    return true;
  } catch (err) {
    // EEXIST: someone holds it; ENOENT: our temporary file went (a holder cleaning up) — not ours either way
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') return false;
    throw err;
  } finally {
    await w.abort();
  }
}

/** The lock's holder; null when there is no lock; undefined when the content is unreadable. */
async function readHolder(path: string): Promise<Holder | null | undefined> {
  let text: string;
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new AkamuError(`the lock file ${path} is a symbolic link; remove it`);
    throw new AkamuError(`cannot read the lock file ${path}: ${(err as Error).message}`);
  }
  try {
    const h = JSON.parse(text) as Holder;
    return Number.isInteger(h.pid) && typeof h.token === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** A lock is stale when its process is gone; locks of other hosts and unreadable ones are never judged so. */
function isStale(h: Holder | undefined): boolean {
  if (!h || h.host !== hostname()) return false;
  if (!processAlive(h.pid)) return true;
  const start = procStart(h.pid);
  return h.procStart !== undefined && start !== undefined && start !== h.procStart;
}

/**
 * Remove a stale lock. Breakers take `<lock>.break` first, so that two runs finding the same stale
 * lock cannot remove each other's new one: under it the lock is read again and removed only if it
 * is still the stale one.
 */
async function breakStale(path: string, stale: Holder | undefined): Promise<boolean> {
  const breaker = `${path}.break`;
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), procStart: procStart(process.pid), token: randomBytes(8).toString('hex') };
  if (!(await createExclusive(breaker, me))) {
    const other = await readHolder(breaker);
    // a breaker that crashed (a tiny window) is removed; the next attempt starts over
    if (other !== null && isStale(other)) await unlink(breaker).catch(() => {});
    return false;
  }
  try {
    const now = await readHolder(path);
    if (now && stale && now.token === stale.token) {
      await unlink(path);
      return true;
    }
    return false;
  } finally {
    await unlink(breaker).catch(() => {});
  }
}

function held(path: string, token: string): Lock {
  let released = false;
  const releaseSync = () => {
    if (released) return;
    released = true;
    try {
      if ((JSON.parse(readFileSync(path, 'utf8')) as Holder).token === token) unlinkSync(path);
    } catch {
      // gone already, or not ours any more
    }
  };
  process.once('exit', releaseSync);
  return {
    path,
    async release() {
      if (released) return;
      process.off('exit', releaseSync);
      released = true;
      const h = await readHolder(path).catch(() => undefined);
      if (h && h.token === token) await unlink(path).catch(() => {});
    },
  };
}

/** Field 22 of /proc/<pid>/stat (start time since boot); undefined where there is no /proc. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * A certificate's files as one set: the chain (`<out>`), its key and `<out>.renewal.toml`, with the
 * lock (`<out>.lock`) and the commit journal (`<out>.commit`) beside the chain. Opening the set takes
 * the lock, completes a commit a crash interrupted and removes temporary files crashed runs left;
 * committing writes the new files as one set (set-commit.ts). Close it when the run ends.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'akamu-client';
import { acquireLock, type Lock } from './lock.js';
import { resolveWriteTarget } from './links.js';
import { commitSet, recoverSet, type Recovery, type SetFile } from './set-commit.js';
import { removeStaleTemps } from './temps.js';

export interface CertificateSetPaths {
  chain: string;
  key: string;
  config: string;
}

export interface CertificateSet {
  readonly paths: CertificateSetPaths;
  /** What the opening repaired, when a crash had interrupted a commit. */
  readonly recovered?: Recovery;
  /** Write the new files (a new key only when there is one) as one set. */
  commit(files: { chain: string; config: string; key?: string }): Promise<void>;
  /** Release the lock. */
  close(): Promise<void>;
}

export const lockPath = (chain: string): string => `${chain}.lock`;
export const journalPath = (chain: string): string => `${chain}.commit`;

export async function openCertificateSet(paths: CertificateSetPaths, log: Logger): Promise<CertificateSet> {
  const chain = resolve(paths.chain);
  // a path of the set that may not be written (a directory, a FIFO, a foreign link) is refused
  // before the lock, so a refused run leaves nothing behind
  for (const p of [chain, resolve(paths.key), resolve(paths.config)]) await resolveWriteTarget(p);
  await mkdir(dirname(chain), { recursive: true, mode: 0o700 });
  const lock = await acquireLock(lockPath(chain), chain, log);
  try {
    const recovered = await recoverSet(journalPath(chain));
    if (recovered) report(recovered, chain, log);
    await removeTemps([paths.chain, paths.key, paths.config, ...(recovered?.targets ?? [])], chain, log);
    return openSet(paths, lock, recovered);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

function report(r: Recovery, chain: string, log: Logger): void {
  if (r.completed.length > 0) {
    log.warn(`completed the interrupted write of ${chain} from ${r.written} (${r.completed.join(', ')})`);
  }
  if (r.lost.length > 0) {
    log.warn(`the interrupted write of ${chain} from ${r.written} could not be completed: the new ${r.lost.join(', ')} is missing`);
  }
}

/**
 * Temporary files beside the set's files and the journal: under the lock, every one is stale. The
 * lock's own temporary files are not: a competing run may be writing one this moment to try the
 * lock, so only those of processes that are gone are removed.
 */
async function removeTemps(targets: string[], chain: string, log: Logger): Promise<void> {
  // the usual case, no temporary file anywhere: one listing per directory says so (renew --all
  // opens a thousand sets in a run)
  const dirs = new Set([dirname(chain), ...targets.map((t) => dirname(resolve(t)))]);
  let any = false;
  for (const d of dirs) any ||= (await readdir(d).catch(() => [] as string[])).some((n) => n.startsWith('.') && n.endsWith('.tmp'));
  if (!any && !(await linkedTargets(targets))) return;
  for (const f of [lockPath(chain), `${lockPath(chain)}.break`]) {
    for (const removed of await removeStaleTemps(f)) log.info(`removed ${removed}, left by an interrupted run`);
  }
  const files = new Set([journalPath(chain)]);
  for (const t of targets) {
    files.add(resolve(t));
    // a link's temporary files are beside the file it points to; a bad link is reported by the plan
    const real = await resolveWriteTarget(t).catch(() => undefined);
    if (real) files.add(real.file);
  }
  for (const f of files) {
    for (const removed of await removeStaleTemps(f, { all: true })) log.info(`removed ${removed}, left by an interrupted run`);
  }
}

/** Does any target go through a link (its temporary files are elsewhere)? */
async function linkedTargets(targets: string[]): Promise<boolean> {
  for (const t of targets) {
    const real = await resolveWriteTarget(t).catch(() => undefined);
    if (real && real.file !== resolve(t)) return true;
  }
  return false;
}

function openSet(paths: CertificateSetPaths, lock: Lock, recovered: Recovery | undefined): CertificateSet {
  return {
    paths,
    recovered,
    async commit(files) {
      const set: SetFile[] = [];
      if (files.key !== undefined) set.push({ path: paths.key, data: files.key });
      set.push({ path: paths.chain, data: files.chain, mode: 'keep' }, { path: paths.config, data: files.config });
      await commitSet(journalPath(resolve(paths.chain)), set);
    },
    close: () => lock.release(),
  };
}

/**
 * Files that must change together, even across a crash (a certificate's key, chain and renewal
 * config). The commit:
 *
 *   1. every new file is written to its temporary file and fsynced (atomic.ts);
 *   2. a journal naming each target, its temporary file and the SHA-256 of its new content is
 *      written atomically: this is the commit point;
 *   3. the temporary files are renamed over their targets, one after another;
 *   4. the journal is removed.
 *
 * A crash before 2 leaves the old files and some temporary files (removed by the next run: the
 * commit is rolled back). A crash after 2 leaves a journal: the next run (recoverSet) renames what
 * is left to rename, so the set is completed. The journal holds no secret, only paths and hashes.
 * Kill points for the crash tests are named by the `commitSteps` list.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute } from 'node:path';
import { AkamuError } from 'akamu-client';
import { failpoint } from './failpoint.js';
import { prepareWrite, syncDir, type PreparedWrite } from './atomic.js';
import { isTempOf } from './temps.js';

export interface SetFile {
  path: string;
  data: string | Uint8Array;
  /** `keep` for a certificate chain (it keeps the mode it had); keys and sidecars are `private`. */
  mode?: 'private' | 'keep';
}

interface JournalEntry {
  /** The file replaced (after following links). */
  target: string;
  /** Its fully written temporary file, beside it. */
  temp: string;
  sha256: string;
}

interface Journal {
  version: 1;
  pid: number;
  written: string;
  files: JournalEntry[];
}

/** The kill points of a commit of `n` files, in the order they are reached (for the crash tests). */
export function commitSteps(n: number): string[] {
  const steps: string[] = [];
  for (let i = 0; i < n; i++) steps.push(`set-temp-${i}-open`, `set-temp-${i}-written`, `set-temp-${i}-synced`);
  steps.push('set-journal-open', 'set-journal-written', 'set-journal-synced', 'set-journal-committed');
  for (let i = 0; i < n; i++) steps.push(`set-renamed-${i}`);
  steps.push('set-journal-removed');
  return steps;
}

/** Kill points of a recovery that completes `n` renames. */
export function recoverySteps(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `recover-renamed-${i}`);
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Commit `files` as one set, recorded in the journal at `journalPath` while the renames happen. */
export async function commitSet(journalPath: string, files: SetFile[]): Promise<void> {
  const prepared: PreparedWrite[] = [];
  let journal: PreparedWrite | undefined;
  try {
    for (const [i, f] of files.entries()) {
      prepared.push(await prepareWrite(f.path, f.data, { mode: f.mode ?? 'private', failpoints: `set-temp-${i}` }));
    }
    const record: Journal = {
      version: 1,
      pid: process.pid,
      written: new Date().toISOString(),
      files: prepared.map((p, i) => ({ target: p.file, temp: p.tempPath, sha256: sha256(files[i]!.data) })),
    };
    journal = await prepareWrite(journalPath, `${JSON.stringify(record, null, 1)}\n`, { follow: false, failpoints: 'set-journal' });
    await journal.commit();
  } catch (err) {
    await journal?.abort();
    for (const p of prepared) await p.abort();
    throw err;
  }
  failpoint('set-journal-committed');
  try {
    for (const [i, p] of prepared.entries()) {
      await p.commit();
      failpoint(`set-renamed-${i}`);
    }
  } catch (err) {
    // past the commit point nothing is rolled back: the journal stays and the next run completes it
    throw new AkamuError(`the new files could not all be moved into place (${(err as Error).message}); the next run completes the commit recorded in ${journalPath}`, 'akamu', { cause: err });
  }
  await unlink(journalPath);
  await syncDir(dirname(journalPath));
  failpoint('set-journal-removed');
}

export interface Recovery {
  /** When the interrupted commit was written. */
  written: string;
  /** Targets renamed into place now. */
  completed: string[];
  /** Targets whose new content could not be found (neither its temporary file nor in place). */
  lost: string[];
  /** Every target the journal named. */
  targets: string[];
}

/** Complete the commit recorded at `journalPath`, if a crash interrupted one; undefined when none was. */
export async function recoverSet(journalPath: string): Promise<Recovery | undefined> {
  let text: string;
  try {
    text = await readNoFollow(journalPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AkamuError(`cannot read the commit journal ${journalPath}: ${(err as Error).message}`);
  }
  const journal = parseJournal(text, journalPath);
  const recovery: Recovery = { written: journal.written, completed: [], lost: [], targets: journal.files.map((f) => f.target) };
  for (const f of journal.files) {
    const temp = await readFile(f.temp).catch(() => undefined);
    if (temp !== undefined && sha256(temp) === f.sha256) {
      await rename(f.temp, f.target);
      await syncDir(dirname(f.target));
      failpoint(`recover-renamed-${recovery.completed.length}`);
      recovery.completed.push(f.target);
      continue;
    }
    if (temp !== undefined) await unlink(f.temp).catch(() => {});
    const inPlace = await readFile(f.target).catch(() => undefined);
    if (inPlace === undefined || sha256(inPlace) !== f.sha256) recovery.lost.push(f.target);
  }
  await unlink(journalPath);
  await syncDir(dirname(journalPath));
  return recovery;
}

/** A journal only names absolute targets and temporary files of the atomic writer beside them. */
function parseJournal(text: string, path: string): Journal {
  const bad = (): never => {
    throw new AkamuError(`the commit journal ${path} is damaged; move it away and check the files it belongs to`);
  };
  let j: Journal;
  try {
    j = JSON.parse(text) as Journal;
  } catch {
    return bad();
  }
  if (j?.version !== 1 || !Array.isArray(j.files) || typeof j.written !== 'string') return bad();
  for (const f of j.files) {
    const ok = typeof f?.target === 'string' && typeof f.temp === 'string' && typeof f.sha256 === 'string'
      && isAbsolute(f.target) && dirname(f.temp) === dirname(f.target) && isTempOf(f.target, basename(f.temp));
    if (!ok) bad();
  }
  return j;
}

async function readNoFollow(path: string): Promise<string> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

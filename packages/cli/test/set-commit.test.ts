/** In-process checks of the commit journal, the lock and the link rules (no CA needed). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { commitSet, recoverSet } from '../src/files/set-commit.js';
import { acquireLock, LockedError } from '../src/files/lock.js';
import { resolveWriteTarget } from '../src/files/links.js';
import { newTempPath, tempDone } from '../src/files/temps.js';
import { tempDir } from './helpers.js';

const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', '0']);
  return new Promise((resolve) => child.on('exit', () => resolve(child.pid!)));
};

describe('commit journal', () => {
  it('commits a set, leaving no journal and no temporary file', async () => {
    const dir = tempDir();
    const files = ['a', 'b', 'c'].map((n) => join(dir, n));
    writeFileSync(files[0]!, 'old a');
    await commitSet(join(dir, 'set.commit'), files.map((path) => ({ path, data: `new ${path}` })));
    for (const f of files) assert.equal(readFileSync(f, 'utf8'), `new ${f}`);
    assert.equal(existsSync(join(dir, 'set.commit')), false);
    assert.equal((await import('node:fs')).readdirSync(dir).filter((n) => n.endsWith('.tmp')).length, 0);
  });

  it('recovery completes what a journal names and reports what it cannot find', async () => {
    const dir = tempDir();
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, 'old a');
    writeFileSync(b, 'old b');
    const tempA = newTempPath(a);
    writeFileSync(tempA, 'new a');
    tempDone(tempA);
    const { createHash } = await import('node:crypto');
    const h = (s: string) => createHash('sha256').update(s).digest('hex');
    const journal = join(dir, 'set.commit');
    writeFileSync(journal, JSON.stringify({
      version: 1, pid: 1, written: '2020-01-01T00:00:00.000Z',
      files: [{ target: a, temp: tempA, sha256: h('new a') }, { target: b, temp: newTempPath(b), sha256: h('new b') }],
    }));
    const r = await recoverSet(journal);
    assert.deepEqual(r?.completed, [a]);
    assert.deepEqual(r?.lost, [b]);
    assert.equal(readFileSync(a, 'utf8'), 'new a');
    assert.equal(readFileSync(b, 'utf8'), 'old b');
    assert.equal(existsSync(journal), false);
    assert.equal(await recoverSet(journal), undefined, 'nothing to do the second time');
  });

  it('a journal that names anything but temporary files beside their targets is refused, and nothing is renamed', async () => {
    const dir = tempDir();
    const victim = join(dir, 'victim');
    const elsewhere = join(dir, 'sub');
    mkdirSync(elsewhere);
    writeFileSync(victim, 'precious');
    writeFileSync(join(elsewhere, 'evil'), 'evil');
    for (const temp of [join(elsewhere, 'evil'), join(dir, 'evil'), join(elsewhere, '.victim.0123456789abcdef.tmp')]) {
      const journal = join(dir, 'set.commit');
      writeFileSync(journal, JSON.stringify({ version: 1, pid: 1, written: 'x', files: [{ target: victim, temp, sha256: 'x' }] }));
      await assert.rejects(recoverSet(journal), /the commit journal \S+ is damaged/);
      assert.equal(readFileSync(victim, 'utf8'), 'precious');
    }
  });
});

describe('lock', () => {
  it('a second lock on the same file fails at once; after release it can be taken again', async () => {
    const path = join(tempDir(), 'x.lock');
    const lock = await acquireLock(path, 'x');
    await assert.rejects(acquireLock(path, 'x'), (err: unknown) => err instanceof LockedError && /pid \d+, since /.test(err.message));
    await lock.release();
    assert.equal(existsSync(path), false);
    const again = await acquireLock(path, 'x');
    await again.release();
  });

  it('a stale lock with a stale breaker left beside it is still taken over', async () => {
    const path = join(tempDir(), 'x.lock');
    const stale = { host: hostname(), since: '2020-01-01T00:00:00.000Z' };
    writeFileSync(path, JSON.stringify({ ...stale, pid: await deadPid(), token: 'a' }));
    writeFileSync(`${path}.break`, JSON.stringify({ ...stale, pid: await deadPid(), token: 'b' }));
    const lock = await acquireLock(path, 'x');
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
    assert.equal(existsSync(`${path}.break`), false);
    await lock.release();
  });

  it('a lock of another host or with unreadable content is never taken as stale', async () => {
    const path = join(tempDir(), 'x.lock');
    writeFileSync(path, JSON.stringify({ pid: await deadPid(), host: 'elsewhere.example', since: 'x', token: 'a' }));
    await assert.rejects(acquireLock(path, 'x'), /pid \d+ on elsewhere\.example/);
    writeFileSync(path, 'garbage');
    await assert.rejects(acquireLock(path, 'x'), /unknown process/);
  });
});

describe('link rules', () => {
  it('follows a chain of trusted links to the file; refuses a loop', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'real'), 'x');
    symlinkSync('real', join(dir, 'one'));
    symlinkSync(join(dir, 'one'), join(dir, 'two'));
    const t = await resolveWriteTarget(join(dir, 'two'));
    assert.equal(t.file, join(dir, 'real'));
    assert.ok(t.existing?.isFile());
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    await assert.rejects(resolveWriteTarget(join(dir, 'loop-a')), /more than 8 symbolic links in a row/);
    assert.equal((await resolveWriteTarget(join(dir, 'two'), { follow: false })).file, join(dir, 'two'));
  });
});

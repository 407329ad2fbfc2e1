/**
 * http-01 through a web server that already owns port 80 (`--webroot DIR`, certbot's webroot):
 * each token is written to `<webroot>/.well-known/acme-challenge/<token>` (mode 0644) and removed
 * again by the issuance's cleanup, which also runs after a failure or an interrupt. The two
 * directories are created when absent (mode 0755, so that a web server running as another user can
 * read them) and removed at the end when this run created them and they are empty.
 *
 * Lives in the CLI because it writes files (the library never does). Paths are never followed out
 * of the webroot: an existing `.well-known` or `acme-challenge` that is a symbolic link must lead
 * to a directory inside the webroot, and a token file is created with O_EXCL | O_NOFOLLOW, so a
 * symbolic link planted at the token's name is never written through. Tokens are checked to be
 * base64url (RFC 8555 §8.3), so they cannot name another path.
 */
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, open, realpath, rmdir, stat, unlink } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute, sep } from 'node:path';
import { AkamuError, UsageError, identifierFromName, type ChallengeContext, type Identifier, type Logger, type Solver } from 'akamu-client';

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const CHALLENGE_PATH = ['.well-known', 'acme-challenge'] as const;
export const WEBROOT_DIR_MODE = 0o755;
export const WEBROOT_FILE_MODE = 0o644;

export interface WebrootSolverOptions {
  /** The webroot of every name that `map` does not list. */
  webroot?: string;
  /** Per-name webroots (certbot's `webroot_map`): name → directory. */
  map?: Record<string, string>;
  log: Logger;
}

/** A webroot in use: its challenge directory and the directories this run created in it. */
interface Root {
  dir: string;
  real: string;
  challengeDir: string;
  created: string[];
}

const within = (real: string, base: string): boolean => {
  const rel = relative(base, real);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EROFS':
      return 'read-only file system';
    default:
      return e.message;
  }
}

/** The webroot map with its names normalised as identifiers are (lower case, IDNA, canonical IPs). */
export function normaliseWebrootMap(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!map) return undefined;
  const out: Record<string, string> = {};
  for (const [name, dir] of Object.entries(map)) {
    let key: string;
    try {
      key = identifierFromName(name).value;
    } catch (err) {
      throw new UsageError(`webroot_map: ${(err as Error).message}`);
    }
    if (typeof dir !== 'string' || dir === '') throw new UsageError(`webroot_map: the webroot of ${name} must be a directory path`);
    out[key] = dir;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** http-01 answered by files in a webroot served by the operator's own web server. */
export class WebrootSolver implements Solver {
  readonly type = 'http-01';
  private readonly opts: WebrootSolverOptions;
  private readonly map: Record<string, string>;
  /** Webroots (as given, absolute) of the names checked so far. */
  private readonly wanted = new Set<string>();
  private readonly roots = new Map<string, Root>();
  private starting: Promise<void> | undefined;

  constructor(opts: WebrootSolverOptions) {
    this.opts = opts;
    this.map = normaliseWebrootMap(opts.map) ?? {};
  }

  /** The webroot for one name, or undefined. */
  webrootOf(id: Identifier): string | undefined {
    const name = id.value.toLowerCase();
    const dir = Object.hasOwn(this.map, name) ? this.map[name] : this.opts.webroot;
    return dir === undefined ? undefined : resolve(dir);
  }

  check(identifiers: Identifier[]): void {
    const wild = identifiers.filter((i) => i.value.includes('*')).map((i) => i.value);
    if (wild.length > 0) {
      throw new UsageError(`http-01 cannot validate wildcard identifiers: ${wild.join(', ')}`, { hint: { code: 'wildcard-needs-dns' } });
    }
    const missing = identifiers.filter((i) => this.webrootOf(i) === undefined).map((i) => i.value);
    if (missing.length > 0) {
      throw new UsageError(`no webroot for ${missing.join(', ')}: add ${missing.length === 1 ? 'it' : 'them'} to webroot_map or pass --webroot DIR`);
    }
    for (const id of identifiers) this.wanted.add(this.webrootOf(id)!);
  }

  /** How a webroot is named in messages: `--webroot DIR`, or `webroot_map entry DIR` for a per-name one. */
  private label(dir: string): string {
    return this.opts.webroot !== undefined && resolve(this.opts.webroot) === dir ? `--webroot ${dir}` : `webroot_map entry ${dir}`;
  }

  /** Checks every webroot in use and creates its challenge directory: before anything is ordered. */
  start(): Promise<void> {
    this.starting ??= this.prepareRoots().catch(async (err: unknown) => {
      this.starting = undefined;
      await this.removeCreated();
      throw err;
    });
    return this.starting;
  }

  private async prepareRoots(): Promise<void> {
    for (const dir of this.wanted) {
      if (this.roots.has(dir)) continue;
      const root: Root = { dir, real: '', challengeDir: join(dir, ...CHALLENGE_PATH), created: [] };
      this.roots.set(dir, root);
      const st = await stat(dir).catch((err: unknown) => {
        throw new UsageError(`${this.label(dir)}: ${fsReason(err)}`);
      });
      if (!st.isDirectory()) throw new UsageError(`${this.label(dir)}: not a directory`);
      root.real = await realpath(dir);
      let current = dir;
      for (const part of CHALLENGE_PATH) {
        current = join(current, part);
        await this.ensureDir(root, current);
      }
      await access(root.challengeDir, constants.W_OK).catch((err: unknown) => {
        throw new UsageError(`${this.label(dir)}: cannot write to ${root.challengeDir}: ${fsReason(err)}`);
      });
    }
  }

  /** `path` is (or now is) a directory inside the webroot; a link leading out of it is refused. */
  private async ensureDir(root: Root, path: string): Promise<void> {
    const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new UsageError(`${this.label(root.dir)}: cannot use ${path}: ${fsReason(err)}`);
    });
    if (!st) {
      try {
        await mkdir(path, { mode: WEBROOT_DIR_MODE });
      } catch (err) {
        throw new UsageError(`${this.label(root.dir)}: cannot create ${path}: ${fsReason(err)}`);
      }
      root.created.push(path);
      // the umask must not make it unreadable for the web server
      await chmod(path, WEBROOT_DIR_MODE);
      this.opts.log.debug(`created ${path} (mode 0755) for http-01 tokens`);
      return;
    }
    const real = await realpath(path).catch((err: unknown) => {
      throw new UsageError(`${this.label(root.dir)}: cannot use ${path}: ${fsReason(err)}`);
    });
    if (!within(real, root.real)) throw new UsageError(`${this.label(root.dir)}: ${path} leads outside the webroot (to ${real}); refusing to write there`);
    if (!(await stat(real)).isDirectory()) throw new UsageError(`${this.label(root.dir)}: ${path} is not a directory`);
  }

  private root(ctx: ChallengeContext): Root {
    const dir = this.webrootOf(ctx.identifier);
    const root = dir === undefined ? undefined : this.roots.get(dir);
    if (!root) throw new AkamuError(`http-01 for ${ctx.identifier.value}: its webroot was not prepared`, 'challenge');
    return root;
  }

  private tokenPath(ctx: ChallengeContext): string {
    const token = ctx.challenge.token;
    if (typeof token !== 'string' || !TOKEN.test(token)) {
      throw new AkamuError(`http-01 challenge ${ctx.challenge.url} has no usable token (base64url expected)`, 'challenge');
    }
    return join(this.root(ctx).challengeDir, token);
  }

  async prepare(ctx: ChallengeContext): Promise<void> {
    await this.start();
    const root = this.root(ctx);
    // the directory may have been swapped for a link since start(): check again
    const real = await realpath(root.challengeDir).catch(() => '');
    if (!within(real, root.real)) throw new AkamuError(`${root.challengeDir} no longer leads to a directory inside the webroot ${root.dir}; refusing to write there`, 'challenge');
    const path = this.tokenPath(ctx);
    await this.writeToken(path, ctx.keyAuthorization);
    this.opts.log.debug(`http-01 token for ${ctx.identifier.value} written to ${path}`);
  }

  private async writeToken(path: string, content: string, retry = true): Promise<void> {
    let fh;
    try {
      fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, WEBROOT_FILE_MODE);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && retry) {
        // a file or link left at the token's name (a crashed run): remove it, never write through it
        const st = await lstat(path);
        if (st.isDirectory()) throw new AkamuError(`cannot write http-01 token file ${path}: a directory is in the way`, 'challenge');
        await unlink(path);
        return this.writeToken(path, content, false);
      }
      throw new AkamuError(`cannot write http-01 token file ${path}: ${fsReason(e)}`, 'challenge', { cause: e });
    }
    try {
      await fh.writeFile(content, 'ascii');
      await fh.chmod(WEBROOT_FILE_MODE);
    } finally {
      await fh.close();
    }
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    const path = this.tokenPath(ctx);
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw new AkamuError(`cannot remove http-01 token file ${path}: ${fsReason(err)}`, 'challenge');
    });
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    await starting?.catch(() => undefined);
    await this.removeCreated();
  }

  /** Removes the directories this run created, deepest first, when they are empty. */
  private async removeCreated(): Promise<void> {
    for (const root of this.roots.values()) {
      for (const dir of [...root.created].reverse()) {
        try {
          await rmdir(dir);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') this.opts.log.warn(`cannot remove ${dir}: ${fsReason(err)}`);
        }
      }
      root.created = [];
    }
    this.roots.clear();
  }
}

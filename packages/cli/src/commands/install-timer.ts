/**
 * `akamu-cli install timer DIR`: a systemd service that runs `renew --all DIR` and an hourly timer
 * for it (`RandomizedDelaySec`, `Persistent=true`). System units go to /etc/systemd/system,
 * `--user` units to `$XDG_CONFIG_HOME/systemd/user` (`~/.config/systemd/user`); `--print-only`
 * prints them instead. Both files are written atomically and together; a unit already there with
 * other content is not replaced without `--force` (an identical one is left as it is). akamu runs
 * no systemctl itself: it prints the command that enables the timer.
 */
import { constants } from 'node:fs';
import { access, open, readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { AkamuError, UsageError } from 'akamu-client';
import type { InstallTimerOptions } from '../program.js';
import type { InstallTimerResult, SystemdUnitFile } from '../results.js';
import type { Runtime } from '../runtime.js';
import { writeFilesAtomic } from '../files/atomic.js';
import { describeFsError } from '../files/read-input.js';
import { escapeControls } from '../render/safe-text.js';
import { renewalConfigsBelow } from './list.js';

/** The PATH systemd gives a service (systemd.exec(5)): where `#!/usr/bin/env node` looks for node. */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Spread over the hour, so a fleet of machines does not reach the CA at the same minute. */
const RANDOMIZED_DELAY = '15min';
const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+$/;

/** One ExecStart word, quoted for systemd (systemd.service(5) "Command lines"): `%` and `$` are escaped too. */
function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && !/[\s"'\\;\x00-\x1f\x7f]/.test(escaped)) return escaped;
  const c = (ch: string): string => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\x00-\x1f\x7f]/g, c)}"`;
}

/** Free text (a Description, a comment) for a unit file: one line, `%` escaped (systemd.unit(5) specifiers). */
function unitText(text: string): string {
  return escapeControls(text).replace(/%/g, '%%');
}

/** Can `#!/usr/bin/env node` in the launcher find this very node under systemd's PATH? */
async function envFindsThisNode(): Promise<boolean> {
  const self = await realpath(process.execPath).catch(() => process.execPath);
  for (const dir of SYSTEMD_PATH.split(delimiter)) {
    const candidate = join(dir, 'node');
    try {
      await access(candidate, constants.X_OK);
    } catch {
      continue;
    }
    return (await realpath(candidate).catch(() => candidate)) === self;
  }
  return false;
}

/**
 * The command that runs akamu: the launcher this run was started from (an executable script), or,
 * when systemd's PATH would not find this node for its `#!/usr/bin/env node` line (nvm, a node
 * outside /usr), this node with the launcher as its argument.
 */
async function akamuCommand(): Promise<string[]> {
  const launcher = resolve(process.argv[1] ?? '');
  let executable = false;
  try {
    await access(launcher, constants.X_OK);
    const fh = await open(launcher, 'r');
    try {
      const head = Buffer.alloc(2);
      await fh.read(head, 0, 2, 0);
      executable = head.toString('latin1') === '#!';
    } finally {
      await fh.close();
    }
  } catch {
    executable = false;
  }
  return executable && (await envFindsThisNode()) ? [launcher] : [process.execPath, launcher];
}

/** `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`. */
function userUnitDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.config'), 'systemd', 'user');
}

function serviceUnit(dir: string, execStart: string[]): string {
  const directory = unitText(dir);
  return [
    `# written by akamu-cli install timer: renews the certificates below ${directory}`,
    '[Unit]',
    `Description=Renew the ACME certificates below ${directory} (akamu)`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${execStart.map(systemdWord).join(' ')}`,
    '',
  ].join('\n');
}

function timerUnit(dir: string, service: string): string {
  const directory = unitText(dir);
  return [
    `# written by akamu-cli install timer: starts ${service} every hour`,
    '[Unit]',
    `Description=Hourly renewal check for the ACME certificates below ${directory} (akamu)`,
    '',
    '[Timer]',
    'OnCalendar=hourly',
    `RandomizedDelaySec=${RANDOMIZED_DELAY}`,
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** `path` when it is a readable regular file (checked now, so the timer does not fail every hour). */
async function readableFile(path: string, flag: string): Promise<string> {
  try {
    if (!(await stat(path)).isFile()) throw new UsageError(`${flag} ${path} is not a regular file`);
    await access(path, constants.R_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${flag} ${path}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  return path;
}

/** The unit's current content; undefined when there is none. */
async function currentContent(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new UsageError(`${path} exists and is not a regular file`);
    return await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return undefined;
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${path}: ${describeFsError(e)}`);
  }
}

export async function installTimer(dir: string, opts: InstallTimerOptions, rt: Runtime): Promise<InstallTimerResult> {
  const name = opts.unitName;
  if (!UNIT_NAME.test(name) || /\.(service|timer)$/.test(name)) {
    throw new UsageError(`--unit-name '${name}' must be a plain unit name (letters, digits, ':', '_', '.', '-'), without .service or .timer`);
  }
  const directory = resolve(dir);
  // a typo in DIR must not become an hourly job that renews nothing
  const configs = await renewalConfigsBelow(directory, rt);
  const scope = opts.user ? 'user' : 'system';
  const unitDir = resolve(opts.unitDir ?? (scope === 'user' ? userUnitDir() : '/etc/systemd/system'));
  // --server-ca is never stored in a renewal config: a fleet of a private CA needs it on the command line
  const serverCa = opts.serverCa !== undefined ? [`--server-ca`, await readableFile(resolve(opts.serverCa), '--server-ca')] : [];
  const execStart = [...(await akamuCommand()), 'renew', '--all', directory, ...serverCa];
  const units: SystemdUnitFile[] = [
    { name: `${name}.service`, path: join(unitDir, `${name}.service`), content: serviceUnit(directory, execStart), action: 'printed' },
    { name: `${name}.timer`, path: join(unitDir, `${name}.timer`), content: timerUnit(directory, `${name}.service`), action: 'printed' },
  ];
  const systemctl = scope === 'user' ? 'systemctl --user' : 'systemctl';
  const enableCommands = [`${systemctl} daemon-reload`, `${systemctl} enable --now ${name}.timer`];
  const result: InstallTimerResult = { command: 'install timer', scope, directory, execStart, units, enableCommands, noRenewalConfigs: configs.length === 0 };
  if (opts.printOnly) return result;

  // every unit is checked before either is written: a refusal leaves both as they were
  for (const u of units) {
    const old = await currentContent(u.path);
    if (old === undefined) u.action = 'written';
    else if (old === u.content) u.action = 'unchanged';
    else if (opts.force) u.action = 'replaced';
    else throw new UsageError(`${u.path} already exists with other content; use --force to replace it, or --unit-name NAME for another timer`);
  }
  const changed = units.filter((u) => u.action !== 'unchanged');
  try {
    // units hold no secret, but akamu's writer makes every new file 0600 (a replaced one keeps its mode)
    await writeFilesAtomic(changed.map((u) => ({ path: u.path, data: u.content })), { mkdir: true, mode: 'keep' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EACCES' || e.code === 'EPERM' ? (scope === 'system' ? ' (run as root, or use --user)' : '') : '';
    throw new AkamuError(`cannot write the units to ${dirname(units[0]!.path)}: ${describeFsError(e)}${hint}`);
  }
  return result;
}

/**
 * The progress line on a terminal (issue 12, item 7): the line itself with an injected clock, and
 * the built CLI in a real pseudo-terminal (util-linux `script`) against Pebble — the line appears
 * with its counts and is erased; nothing extra without a terminal, with NO_COLOR or with --json.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Authorization, Order } from 'akamu-client';
import { createProgress, ERASE, FRAME_MS, SPINNER, type Interval } from '../src/render/progress.js';
import { cliBin, freePort } from '../../testkit/src/index.js';
import { writeSlowDnsHook } from '../../testkit/src/processes.js';
import { setupWithAccount, runCli, assertSuccess, type AccountEnv } from './helpers.js';

/** A clock the test advances by hand. */
function manualInterval(): Interval & { tick(): void; periods: number[]; running: number } {
  const ticks = new Set<() => void>();
  const clock = ((ms: number, tick: () => void) => {
    clock.periods.push(ms);
    ticks.add(tick);
    clock.running = ticks.size;
    return () => {
      ticks.delete(tick);
      clock.running = ticks.size;
    };
  }) as Interval & { tick(): void; periods: number[]; running: number };
  clock.periods = [];
  clock.running = 0;
  clock.tick = () => {
    for (const t of ticks) t();
  };
  return clock;
}

const order = (urls: string[]): Order => ({ url: 'https://ca/order/1', status: 'pending', authorizations: urls, identifiers: [], finalize: '' } as unknown as Order);
const authz = (url: string, status: string): Authorization =>
  ({ url, status, identifier: { type: 'dns', value: url.slice(-1) }, challenges: [] } as unknown as Authorization);

describe('the progress line', () => {
  function line(columns?: number) {
    let written = '';
    const clock = manualInterval();
    const p = createProgress({ write: (t) => { written += t; }, interval: clock, ...(columns !== undefined ? { columns } : {}) });
    return { p, clock, take: () => { const w = written; written = ''; return w; } };
  }

  it('shows nothing before an order is placed, then counts the authorizations and spins on the clock', () => {
    const { p, clock, take } = line();
    assert.equal(take(), '');
    assert.equal(clock.running, 0, 'no timer before there is something to wait for');
    p.events.onOrderPlaced(order(['u/a', 'u/b', 'u/c']));
    assert.equal(take(), `${ERASE}${SPINNER[0]} validating: 0 valid, 3 pending, 0 failed`);
    assert.deepEqual(clock.periods, [FRAME_MS]);
    p.events.onAuthorization(authz('u/a', 'valid'));
    assert.equal(take(), `${ERASE}${SPINNER[0]} validating: 1 valid, 2 pending, 0 failed`);
    clock.tick();
    assert.equal(take(), `${ERASE}${SPINNER[1]} validating: 1 valid, 2 pending, 0 failed`);
    p.events.onAuthorizationDone(authz('u/b', 'invalid'));
    assert.equal(take(), `${ERASE}${SPINNER[1]} validating: 1 valid, 1 pending, 1 failed`);
    for (let i = 0; i < SPINNER.length; i++) clock.tick();
    assert.ok(take().endsWith(`${SPINNER[1]} validating: 1 valid, 1 pending, 1 failed`), 'the frames go round');
    p.stop();
    assert.equal(take(), ERASE, 'erased at the end');
    assert.equal(clock.running, 0, 'the timer is cancelled');
    clock.tick();
    p.events.onAuthorizationDone(authz('u/c', 'valid'));
    assert.equal(take(), '', 'nothing after stop');
  });

  it('turns to "issuing" with every authorization valid once the order is ready', () => {
    const { p, take } = line();
    p.events.onOrderPlaced(order(['u/a', 'u/b']));
    p.events.onOrderReady({ ...order(['u/a', 'u/b']), status: 'ready' } as Order);
    assert.ok(take().endsWith(`${SPINNER[0]} issuing: 2 valid, 0 pending, 0 failed`));
    p.stop();
  });

  it('other output erases the line first and draws it again after its newline; a line without newline is not overwritten', () => {
    const { p, clock, take } = line();
    let other = '';
    const write = p.around((t) => { other += t; take(); other += '|'; });
    p.events.onOrderPlaced(order(['u/a']));
    take();
    write('INFO  akamu_cli: a log line\n');
    assert.equal(other, 'INFO  akamu_cli: a log line\n|');
    assert.equal(take(), `${ERASE}${SPINNER[0]} validating: 0 valid, 1 pending, 0 failed`, 'drawn again below the text');
    // the erase came before the text (take() inside the writer saw it)
    const order2: string[] = [];
    const spy = createProgress({ write: (t) => order2.push(`progress:${JSON.stringify(t)}`), interval: manualInterval() });
    spy.events.onOrderPlaced(order(['x']));
    spy.around((t) => order2.push(`other:${JSON.stringify(t)}`))('text\n');
    assert.deepEqual(order2.slice(1, 3), [`progress:${JSON.stringify(ERASE)}`, 'other:"text\\n"']);
    spy.stop();

    write('Press Enter: ');
    take();
    clock.tick();
    assert.equal(take(), '', 'an open line is not drawn over');
    write('done\n');
    assert.match(take(), /validating/);
    p.stop();
  });

  it('pause hides the line (a prompt) until resume', () => {
    const { p, clock, take } = line();
    p.events.onOrderPlaced(order(['u/a']));
    take();
    p.pause();
    assert.equal(take(), ERASE);
    clock.tick();
    p.events.onAuthorizationDone(authz('u/a', 'valid'));
    assert.equal(take(), '');
    p.resume();
    assert.match(take(), /1 valid, 0 pending, 0 failed$/);
    p.stop();
  });

  it('is cut to the terminal width, so erasing it erases all of it', () => {
    const { p, take } = line(12);
    p.events.onOrderPlaced(order(['u/a']));
    assert.equal(take(), `${ERASE}${SPINNER[0]} validatin`);
    p.stop();
  });
});

/** The lines a terminal shows after `text`: characters overwrite at the cursor; CR, LF and erase-to-end-of-line move or cut. */
function screen(text: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  for (const part of text.split(/(\r|\n|\x1b\[K)/)) {
    if (part === '\r') col = 0;
    else if (part === '\n') {
      row++;
      col = 0;
      lines[row] ??= [];
    } else if (part === '\x1b[K') lines[row]!.length = Math.min(lines[row]!.length, col);
    else for (const ch of part) lines[row]![col++] = ch;
  }
  return lines.map((l) => Array.from(l, (c) => c ?? ' ').join(''));
}

/** Start the built CLI in a pseudo-terminal (util-linux `script`); `done` has everything the terminal received. */
function startInTerminal(args: string[], env: Record<string, string | undefined> = {}): { done: Promise<{ code: number | null; output: string }> } {
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, cliBin, ...args].map(quote).join(' ');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', SHELL: '/bin/sh' };
  delete childEnv.NO_COLOR;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  // -q quiet, -f flush at once, -e the command's exit status, -c the command; the typescript goes nowhere
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => { output += b.toString('utf8'); });
  child.stderr.on('data', (b: Buffer) => { output += b.toString('utf8'); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const done = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  return { done };
}

const inTerminal = (args: string[], env: Record<string, string | undefined> = {}) => startInTerminal(args, env).done;

/** The parent of a process (Linux). */
const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);

describe('the progress line in a real terminal, against Pebble', () => {
  let env: AccountEnv;
  before(async () => {
    env = await setupWithAccount();
  });
  after(async () => env.pebble.stop());

  const issueArgs = (name: string, port = env.pebble.httpPort) =>
    ['issue', ...env.server, '--account-key', env.key, '--http-port', String(port), '-d', name, '-d', `www.${name}`, '--out', join(env.dir, name, 'c.pem')];

  it('shows the counts while the issuance waits and erases the line before the results', async () => {
    const r = await inTerminal(issueArgs('tty.example'));
    assert.equal(r.code, 0, r.output);
    assert.ok(r.output.includes(`${ERASE}${SPINNER[0]} validating: 0 valid, 2 pending, 0 failed`), JSON.stringify(r.output));
    assert.ok(r.output.includes(' issuing: 2 valid, 0 pending, 0 failed'), JSON.stringify(r.output));
    // the last drawing is erased before the results are printed, and nothing of it is left on the screen
    const last = r.output.lastIndexOf(' issuing: ');
    const results = r.output.indexOf('Certificate written to');
    assert.ok(last >= 0 && results > last, JSON.stringify(r.output));
    assert.ok(r.output.slice(last, results).includes(ERASE), 'erased before the results');
    const shown = screen(r.output);
    assert.deepEqual(shown.filter((l) => /validating|issuing|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(l)), [], shown.join('\n'));
    assert.ok(shown.some((l) => l.startsWith('Certificate written to ')), shown.join('\n'));
  });

  it('shows a failed authorization in the counts, then erases the line before the error', async () => {
    const r = await inTerminal(issueArgs('tty-fail.example', await freePort()));
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, / validating: \d valid, \d pending, [12] failed/, JSON.stringify(r.output));
    const shown = screen(r.output);
    assert.deepEqual(shown.filter((l) => /validating|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(l)), [], shown.join('\n'));
    assert.ok(shown.some((l) => l.startsWith('error: authorization for ')), shown.join('\n'));
  });

  it('is erased when the run is interrupted (SIGINT while the DNS hook runs)', async () => {
    const marks = join(env.dir, 'tty-marks');
    mkdirSync(marks);
    const hook = writeSlowDnsHook(marks);
    const run = startInTerminal(['issue', ...env.server, '--account-key', env.key, '-d', 'tty-int.example', '--challenge', 'dns-01',
      '--dns-hook', hook.path, '--out', join(env.dir, 'tty-int', 'c.pem')], hook.env);
    const { hookPid } = await hook.added();
    process.kill(parentOf(hookPid), 'SIGINT'); // the CLI runs the hook
    const r = await run.done;
    assert.equal(r.code, 130, r.output);
    assert.ok(r.output.includes(' validating: 0 valid, 1 pending, 0 failed'), JSON.stringify(r.output));
    const shown = screen(r.output);
    assert.deepEqual(shown.filter((l) => /validating|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(l)), [], shown.join('\n'));
    assert.ok(shown.includes('error: interrupted by SIGINT'), shown.join('\n'));
  });

  it('prints nothing extra with NO_COLOR, with --json, or when stderr is not a terminal', async () => {
    const plain = await inTerminal(issueArgs('tty-nocolor.example'), { NO_COLOR: '1' });
    assert.equal(plain.code, 0, plain.output);
    assert.doesNotMatch(plain.output, /\x1b|validating|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, JSON.stringify(plain.output));
    const json = await inTerminal(['--json', ...issueArgs('tty-json.example')]);
    assert.equal(json.code, 0, json.output);
    assert.doesNotMatch(json.output, /\x1b|validating/, JSON.stringify(json.output));
    assert.equal(JSON.parse(json.output).command, 'issue');
    const piped = await runCli(issueArgs('tty-pipe.example'));
    assertSuccess(piped);
    assert.equal(piped.stderr, '', 'stderr stays empty without a terminal');
    assert.doesNotMatch(piped.stdout, /\x1b|validating/);
  });
});

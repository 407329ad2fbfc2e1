/**
 * The live status line on a terminal: while an issuance waits for the CA (validation, then
 * finalization and download), one line on stderr with a spinner and the authorizations counted by
 * status, redrawn in place and erased when the run ends:
 *
 *   ⠋ validating: 1 valid, 2 pending, 0 failed
 *
 * It is fed by the library's issuance events (order placed, each authorization as fetched and as it
 * settles, order ready) and knows what the flow knows: the flow polls the order, not each
 * authorization, so the counts move when the order turns ready (all valid) or invalid (each
 * failure, as it is fetched). Any other output to the terminal goes through `around`: the line is
 * erased first and drawn again after the text's newline, so log lines and results never mix with
 * it. main.ts shows it only when stderr is a terminal, NO_COLOR is not set and --json is not given.
 */
import type { Authorization, IssueEvents, Order } from 'akamu-client';

/** Calls `tick` every `ms` until the returned function is called (the spinner's clock; tests pass their own). */
export type Interval = (ms: number, tick: () => void) => () => void;

/** The real clock: an unref'd setInterval, so the spinner never keeps the process alive. */
export const realInterval: Interval = (ms, tick) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;
export const FRAME_MS = 80;
/** Carriage return and "erase to the end of the line". */
export const ERASE = '\r\x1b[K';

export interface ProgressOptions {
  /** Writes raw text to the terminal (stderr). */
  write(text: string): void;
  interval?: Interval;
  /** The terminal's width, when known: the line is cut to fit, so erasing it erases all of it. */
  columns?: number;
}

/** The issuance events the line listens to. */
export type ProgressEvents = Required<Pick<IssueEvents, 'onOrderPlaced' | 'onAuthorization' | 'onAuthorizationDone' | 'onOrderReady'>>;

export interface ProgressLine {
  readonly events: ProgressEvents;
  /** A writer for other output to the same terminal: erases the line before `write` and draws it again after. */
  around(write: (text: string) => void): (text: string) => void;
  /** Hide the line (a question is asked on the terminal) until resume(). */
  pause(): void;
  resume(): void;
  /** Erase the line for good (the run ended, failed or was interrupted). */
  stop(): void;
}

type Phase = 'validating' | 'issuing';

export function createProgress(opts: ProgressOptions): ProgressLine {
  const interval = opts.interval ?? realInterval;
  const statuses = new Map<string, string>();
  let phase: Phase | undefined;
  let frame = 0;
  let shown = false;
  let paused = false;
  let stopped = false;
  /** Text without its newline was written (a prompt, a partial line): drawing would overwrite it. */
  let midLine = false;
  let cancelTimer: (() => void) | undefined;

  const text = (): string => {
    let valid = 0;
    let pending = 0;
    let failed = 0;
    for (const s of statuses.values()) {
      if (s === 'valid') valid++;
      else if (s === 'pending' || s === 'processing') pending++;
      else failed++;
    }
    const line = `${SPINNER[frame % SPINNER.length]} ${phase}: ${valid} valid, ${pending} pending, ${failed} failed`;
    return opts.columns !== undefined && opts.columns > 1 ? [...line].slice(0, opts.columns - 1).join('') : line;
  };
  const erase = (): void => {
    if (!shown) return;
    opts.write(ERASE);
    shown = false;
  };
  let drawn = '';
  const draw = (): void => {
    if (stopped || paused || midLine || phase === undefined) return;
    const next = text();
    if (shown && next === drawn) return; // on screen already
    opts.write(`${ERASE}${next}`);
    drawn = next;
    shown = true;
  };
  const begin = (next: Phase): void => {
    if (stopped) return;
    phase = next;
    cancelTimer ??= interval(FRAME_MS, () => {
      frame++;
      draw();
    });
    draw();
  };
  const record = (a: Authorization): void => {
    statuses.set(a.url, a.status);
    draw();
  };

  return {
    events: {
      onOrderPlaced: (order: Order) => {
        // not yet fetched: counted as pending until the first look at each authorization
        for (const url of order.authorizations) if (!statuses.has(url)) statuses.set(url, 'pending');
        begin('validating');
      },
      onAuthorization: record,
      onAuthorizationDone: record,
      onOrderReady: () => {
        // the order is ready (or further): every authorization is valid
        for (const url of statuses.keys()) statuses.set(url, 'valid');
        begin('issuing');
      },
    },
    around: (write) => (chunk) => {
      erase();
      write(chunk);
      midLine = chunk.length > 0 ? !chunk.endsWith('\n') : midLine;
      draw();
    },
    pause: () => {
      erase();
      paused = true;
    },
    resume: () => {
      paused = false;
      midLine = false; // the operator's Enter ended the prompt's line
      draw();
    },
    stop: () => {
      erase();
      stopped = true;
      cancelTimer?.();
      cancelTimer = undefined;
    },
  };
}

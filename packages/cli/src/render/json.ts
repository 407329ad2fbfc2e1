/**
 * The JSON renderer (`--json`): one document on stdout per run, built from the command's result
 * object as it is — generic, no case per command: a new result type in results.ts is serialised
 * the day it is added. Dates become ISO-8601 strings, paths stay as given, absent fields are left
 * out.
 *
 *   success: {"version":1,"command":"issue",<the result's fields>,"events":[…],"notes":[…]}
 *   failure: {"version":1,"command":"issue","error":{"type","detail",…},"events":[…],"notes":[…]}
 *
 * `events` are the milestones the text renderer prints as they happen (results.ts), so a failed
 * run still says what it did (a key generated, an account registered). `notes` are the lines text
 * mode prints on stderr for the result and the events (notes and warnings, exactly their text),
 * and the free-text notes of the run. Log lines stay on stderr. `error` is there exactly when the
 * exit code is not 0.
 */
import type { CommandEvent, CommandResult } from '../results.js';
import { renderEvent, renderResult, type TextOutput } from './text.js';

/** The schema version: raised only when a field changes meaning or goes away (new fields do not raise it). */
export const JSON_VERSION = 1;

/** Top-level names the document keeps for itself: no result may have a field of these names. */
type Reserved = 'version' | 'events' | 'notes' | 'error';
type KeysOf<T> = T extends unknown ? keyof T : never;
// a compile error here means a result in results.ts has a top-level field the document reserves: rename it
const noReservedField: [Extract<KeysOf<CommandResult>, Reserved>] extends [never] ? true : never = true;
void noReservedField;

/** A value as plain JSON data: Dates as ISO strings, Maps as objects, Sets as arrays, bytes as base64url, bigints as strings. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64url');
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (value instanceof Set) return [...value].map(plain);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[k] = plain(v);
  return out;
}

// JSON.stringify leaves these raw; escaped, a document printed on a terminal cannot reorder or
// hide text (bidi overrides) or start an escape sequence (C1 controls). Still valid JSON, same data.
const RAW_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The document as one line of JSON (and its newline). */
export function serialise(doc: Record<string, unknown>): string {
  return `${JSON.stringify(doc).replace(RAW_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** What a run collects for its document while it runs: its events and its notes. */
export class JsonCollector {
  readonly events: CommandEvent[] = [];
  readonly notes: string[] = [];
  /** The text renderer's lines: stdout's are facts the document already holds; stderr's are notes. */
  private readonly lines: TextOutput = { out: () => {}, err: (line) => this.notes.push(line) };

  event(e: CommandEvent): void {
    this.events.push(e);
    renderEvent(e, this.lines);
  }

  note(line: string): void {
    this.notes.push(line);
  }

  /** The document of a command that finished; `error` when a signal came after it had finished. */
  result(r: CommandResult, error?: Record<string, unknown>): string {
    renderResult(r, this.lines);
    const { command, ...fields } = r;
    return serialise({ version: JSON_VERSION, command, ...(plain(fields) as object), ...(error ? { error } : {}), ...this.tail() });
  }

  /** The document of a run that failed (`command` when the failure came after the command line was parsed). */
  failure(command: string | undefined, error: Record<string, unknown>): string {
    return serialise({ version: JSON_VERSION, ...(command !== undefined ? { command } : {}), error, ...this.tail() });
  }

  private tail(): { events: unknown; notes: string[] } {
    return { events: plain(this.events), notes: this.notes };
  }
}

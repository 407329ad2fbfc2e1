/**
 * Text from outside (file content, flag values, server messages) made safe to print on a
 * terminal: control characters (C0, DEL, C1) and the Unicode bidirectional overrides are shown
 * escaped (`\x1b`, `\n`, `\u202e`), never sent raw, and long text is cut to an excerpt.
 */

// C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, line and paragraph separators
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Every control character escaped: the result is one printable line. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** At most `max` characters of `text` (escaped first), with `…` where it was cut. */
export function excerpt(text: string, max = 60): string {
  // escape only what can be shown: a megabyte of input is never scanned whole
  const head = escapeControls(text.slice(0, max + 1));
  return head.length > max || text.length > max + 1 ? `${head.slice(0, max)}…` : head;
}

/** Longest line the error printer shows, and how many lines at most. */
export const MAX_LINE = 500;
export const MAX_LINES = 50;

/**
 * An error message ready for stderr: with `keepLines` (messages that are lists of lines by
 * construction, like ACME problems with their subproblems) each line is escaped on its own, else
 * the whole message becomes one escaped line. Lines are cut to MAX_LINE characters and the
 * message to MAX_LINES lines.
 */
export function safeMessage(message: string, keepLines: boolean): string {
  const lines = keepLines ? message.split('\n') : [message];
  const shown = lines.slice(0, MAX_LINES).map((line) => {
    const safe = escapeControls(line.length > MAX_LINE * 2 ? line.slice(0, MAX_LINE * 2) : line);
    return safe.length > MAX_LINE ? `${safe.slice(0, MAX_LINE)}… (cut from ${line.length} characters)` : safe;
  });
  if (lines.length > MAX_LINES) shown.push(`… (${lines.length - MAX_LINES} more lines)`);
  return shown.join('\n');
}

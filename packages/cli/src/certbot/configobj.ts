/**
 * A small reader for the ConfigObj INI dialect certbot writes its `renewal/*.conf` files in:
 * top-level `key = value` lines, `[section]`, nested `[[subsection]]` (e.g. `[[webroot_map]]` inside
 * `[renewalparams]`), `#` comments (whole-line and after unquoted values), single/double/triple
 * quoted values, and comma lists (`pref_challs = dns-01,` is a one-element list; `a, b` two).
 * Values stay strings; `configBool` reads certbot's `True`/`False`. Errors quote the file's text
 * as a short excerpt with control characters escaped.
 */

import { excerpt } from '../render/safe-text.js';

export type ConfigValue = string | string[];

export interface ConfigSection {
  readonly name: string;
  readonly values: Map<string, ConfigValue>;
  readonly sections: Map<string, ConfigSection>;
}

export class ConfigObjError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'ConfigObjError';
  }
}

function newSection(name: string): ConfigSection {
  return { name, values: new Map(), sections: new Map() };
}

/** Parse ConfigObj text; throws ConfigObjError (with the line number) for lines it cannot read. */
export function parseConfigObj(text: string): ConfigSection {
  const root = newSection('');
  const stack: ConfigSection[] = [root];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;

    if (line.startsWith('[')) {
      const m = /^(\[+)\s*(.*?)\s*(\]+)\s*(#.*)?$/.exec(line);
      if (!m) throw new ConfigObjError(`malformed section header '${excerpt(line)}'`, lineNo);
      const depth = m[1]!.length;
      if (m[3]!.length !== depth) throw new ConfigObjError(`unbalanced brackets in section header '${excerpt(line)}'`, lineNo);
      if (depth > stack.length) throw new ConfigObjError(`section '${excerpt(line)}' is nested too deeply`, lineNo);
      const name = unquote(m[2]!, lineNo);
      if (name === '') throw new ConfigObjError('empty section name', lineNo);
      stack.length = depth; // parent is stack[depth - 1]
      const parent = stack[depth - 1]!;
      let section = parent.sections.get(name);
      if (!section) {
        section = newSection(name);
        parent.sections.set(name, section);
      }
      stack.push(section);
      continue;
    }

    const { key, rest } = splitKey(line, lineNo);
    let value: ConfigValue;
    const triple = /^('''|""")/.exec(rest);
    if (triple) {
      const q = triple[1]!;
      // as ConfigObj reads it: the value ends at the triple quote after which only a comment
      // follows, so `'''a 'b''''` is `a 'b'` (certbot writes hooks with quotes in them this way)
      const closing = new RegExp(`^(.*?)${q}\\s*(#.*)?$`);
      let body = rest.slice(3);
      let end = closing.exec(body);
      const parts: string[] = [];
      while (!end) {
        if (body.includes(q)) throw new ConfigObjError(`unexpected text after ${q} value for '${excerpt(key)}'`, i + 1);
        parts.push(body);
        i++;
        if (i >= lines.length) throw new ConfigObjError(`unterminated ${q} value for '${excerpt(key)}'`, lineNo);
        body = lines[i]!;
        end = closing.exec(body);
      }
      parts.push(end[1]!);
      value = parts.join('\n');
    } else {
      value = parseValue(rest, key, lineNo);
    }
    stack[stack.length - 1]!.values.set(key, value);
  }
  return root;
}

function splitKey(line: string, lineNo: number): { key: string; rest: string } {
  let key: string;
  let pos: number;
  const q = line[0];
  if (q === '"' || q === "'") {
    const end = line.indexOf(q, 1);
    if (end < 0) throw new ConfigObjError(`unterminated quoted key in '${excerpt(line)}'`, lineNo);
    key = line.slice(1, end);
    pos = end + 1;
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
    if (line[pos] !== '=') throw new ConfigObjError(`expected '=' after key in '${excerpt(line)}'`, lineNo);
  } else {
    pos = line.indexOf('=');
    if (pos < 0) throw new ConfigObjError(`expected 'key = value', got '${excerpt(line)}'`, lineNo);
    key = line.slice(0, pos).trim();
    if (key === '') throw new ConfigObjError(`missing key in '${excerpt(line)}'`, lineNo);
  }
  return { key, rest: line.slice(pos + 1).trim() };
}

/** One value: a single (possibly quoted) item, or a comma list; a trailing `# comment` is dropped. */
function parseValue(text: string, key: string, lineNo: number): ConfigValue {
  const items: string[] = [];
  let sawComma = false;
  let pos = 0;
  const n = text.length;
  const skipWs = () => {
    while (pos < n && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  for (;;) {
    skipWs();
    if (pos >= n || text[pos] === '#') break;
    let item: string;
    const q = text[pos];
    if (q === '"' || q === "'") {
      const end = text.indexOf(q, pos + 1);
      if (end < 0) throw new ConfigObjError(`unterminated quoted value for '${excerpt(key)}'`, lineNo);
      item = text.slice(pos + 1, end);
      pos = end + 1;
    } else if (q === ',') {
      // an empty item before a comma: `key = ,` is an empty list
      if (items.length > 0 || sawComma) throw new ConfigObjError(`empty list item in value of '${excerpt(key)}'`, lineNo);
      sawComma = true;
      pos++;
      continue;
    } else {
      const start = pos;
      while (pos < n && text[pos] !== ',' && text[pos] !== '#' && text[pos] !== '"' && text[pos] !== "'") pos++;
      if (pos < n && (text[pos] === '"' || text[pos] === "'")) {
        // a quote inside an unquoted value: keep it literally up to the next comma or comment
        while (pos < n && text[pos] !== ',' && text[pos] !== '#') pos++;
      }
      item = text.slice(start, pos).trim();
    }
    items.push(item);
    skipWs();
    if (pos >= n || text[pos] === '#') break;
    if (text[pos] !== ',') throw new ConfigObjError(`unexpected text after value of '${excerpt(key)}'`, lineNo);
    sawComma = true;
    pos++;
  }
  if (sawComma) return items;
  return items[0] ?? '';
}

function unquote(s: string, lineNo: number): string {
  const q = s[0];
  if (q === '"' || q === "'") {
    if (s.length < 2 || s[s.length - 1] !== q) throw new ConfigObjError(`unterminated quoted name '${excerpt(s)}'`, lineNo);
    return s.slice(1, -1);
  }
  return s;
}

/** A single string value (a one-element list counts; longer lists are joined with ', '). */
export function configString(section: ConfigSection | undefined, key: string): string | undefined {
  const v = section?.values.get(key);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A list value; a single string is one item, split on commas as certbot does when it reads it. */
export function configList(section: ConfigSection | undefined, key: string): string[] {
  const v = section?.values.get(key);
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : v.split(',');
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** certbot writes `True` / `False`; ConfigObj also accepts yes/no, on/off, 1/0. */
export function configBool(section: ConfigSection | undefined, key: string): boolean | undefined {
  const v = configString(section, key);
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(t)) return true;
  if (['false', 'no', 'off', '0'].includes(t)) return false;
  return undefined;
}

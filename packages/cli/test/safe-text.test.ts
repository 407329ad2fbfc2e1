/** The error printer's text rules: control characters escaped, long text cut, ACME problem lines kept. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControls, excerpt, safeMessage, MAX_LINE, MAX_LINES } from '../src/render/safe-text.js';
import { main } from '../src/main.js';
import { tempDir } from '../../testkit/src/index.js';
import { join } from 'node:path';

describe('safe text', () => {
  it('escapes C0, DEL, C1 and bidi controls; leaves printable text and non-ASCII alone', () => {
    assert.equal(escapeControls('a\x1b[31mb\x07c\rd\te\nf\x7fg\u009bh'), 'a\\x1b[31mb\\x07c\\rd\\te\\nf\\x7fg\\x9bh');
    assert.equal(escapeControls('evil\u202etxt.exe \u2066x\u2069'), 'evil\\u202etxt.exe \\u2066x\\u2069');
    assert.equal(escapeControls('bücher.example — ok'), 'bücher.example — ok');
  });

  it('cuts an excerpt without scanning the whole input', () => {
    assert.equal(excerpt('short'), 'short');
    assert.equal(excerpt('x'.repeat(60)), 'x'.repeat(60));
    assert.equal(excerpt('x'.repeat(61)), `${'x'.repeat(60)}…`);
    assert.equal(excerpt(`\x1b${'y'.repeat(10_000_000)}`, 10), '\\x1byyyyyy…');
  });

  it('keeps the lines of an ACME problem only when asked, and bounds lines and their number', () => {
    const problem = 'ACME error t: d\n  a.example: t2: d2\n  b.example: t3: \x1b[2Jd3';
    assert.equal(safeMessage(problem, true), 'ACME error t: d\n  a.example: t2: d2\n  b.example: t3: \\x1b[2Jd3');
    assert.equal(safeMessage(problem, false), 'ACME error t: d\\n  a.example: t2: d2\\n  b.example: t3: \\x1b[2Jd3');
    const long = safeMessage('z'.repeat(5_000_000), false);
    assert.equal(long, `${'z'.repeat(MAX_LINE)}… (cut from 5000000 characters)`);
    const many = safeMessage(Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n'), true).split('\n');
    assert.equal(many.length, MAX_LINES + 1);
    assert.equal(many.at(-1), `… (${200 - MAX_LINES} more lines)`);
  });

  it('the one error printer escapes what a command echoes', async () => {
    let stderr = '';
    const dir = tempDir();
    const code = await main(['node', 'akamu-cli', 'issue', '--server', 'http://127.0.0.1:9/dir', '--account-key', join(dir, 'k.pem'),
      '-d', 'a\nerror: forged line\x1b[0m.example', '--out', join(dir, 'c.pem')], { out: () => {}, err: (t) => { stderr += t; } });
    assert.equal(code, 2);
    assert.equal(stderr.split('\n').length, 2, `one line: ${stderr}`);
    assert.match(stderr, /^error: invalid domain 'a\\nerror: forged line\\x1b\[0m\.example': /);
  });
});

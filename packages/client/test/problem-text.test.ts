/** ACME problem messages: one line per subproblem and per failed authorization, whatever the server's text holds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcmeProblemError } from '../src/errors.js';

describe('ACME problem message lines', () => {
  it('keeps one line per subproblem, indented', () => {
    const e = new AcmeProblemError({
      type: 'urn:ietf:params:acme:error:rejectedIdentifier',
      detail: 'two names refused',
      subproblems: [
        { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'blocked', identifier: { type: 'dns', value: 'a.example' } },
        { type: 'urn:ietf:params:acme:error:caa', detail: 'CAA forbids', identifier: { type: 'dns', value: 'b.example' } },
      ],
    }, 400);
    assert.equal(e.message, [
      'ACME error urn:ietf:params:acme:error:rejectedIdentifier: two names refused',
      '  a.example: urn:ietf:params:acme:error:rejectedIdentifier: blocked',
      '  b.example: urn:ietf:params:acme:error:caa: CAA forbids',
    ].join('\n'));
  });

  it("a line break in the server's text cannot pass for a line of the message", () => {
    const e = new AcmeProblemError({
      type: 'urn:ietf:params:acme:error:malformed',
      detail: 'bad\n  forged.example: urn:ietf:params:acme:error:caa: looks like a subproblem\r\nend',
      subproblems: [{ type: 'x\ny', detail: 'd\ne', identifier: { type: 'dns', value: 'c\n.example' } }],
    }, 400);
    const lines = e.message.split('\n');
    assert.equal(lines.length, 2, e.message);
    assert.equal(lines[0], 'ACME error urn:ietf:params:acme:error:malformed: bad   forged.example: urn:ietf:params:acme:error:caa: looks like a subproblem end');
    assert.equal(lines[1], '  c .example: x y: d e');
  });
});

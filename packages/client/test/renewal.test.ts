import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RenewalInfo } from '../src/acme/ari.js';
import { problemError } from '../src/acme/errors.js';
import { ariDecisionTime, expiryRenewalTime, renewalDecision } from '../src/acme/renewal.js';
import { fromPino } from '../src/log.js';

const DAY = 86400_000;
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date(notBefore.getTime() + 90 * DAY);
const info: RenewalInfo = {
  certId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
  window: { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-03T00:00:00Z') },
  explanationURL: 'https://ca.example/why',
};

describe('renewalDecision', () => {
  it('with ARI: due from the deterministic point inside the window, with the window and explanation as data', () => {
    const at = ariDecisionTime(info);
    assert.ok(at >= info.window.start && at < info.window.end);
    const before = renewalDecision({ notBefore, notAfter, renewalInfo: info, now: new Date(at.getTime() - 1) });
    assert.deepEqual(before, { due: false, reason: 'ari', at, window: info.window, explanationUrl: 'https://ca.example/why', notAfter });
    assert.equal(renewalDecision({ notBefore, notAfter, renewalInfo: info, now: at }).due, true);
  });

  it('without ARI: the expiry rule (a third of the lifetime; half under ten days)', () => {
    const at = expiryRenewalTime(notBefore, notAfter);
    assert.equal(at.getTime(), notAfter.getTime() - 30 * DAY);
    const d = renewalDecision({ notBefore, notAfter, now: new Date(at.getTime() - 1) });
    assert.deepEqual(d, { due: false, reason: 'expiry', at, notAfter });
    const short = new Date(notBefore.getTime() + 6 * DAY);
    assert.equal(expiryRenewalTime(notBefore, short).getTime(), notBefore.getTime() + 3 * DAY);
  });

  it('force renews at once and still says when it would have been due', () => {
    const d = renewalDecision({ notBefore, notAfter, renewalInfo: info, force: true, now: notBefore });
    assert.equal(d.due, true);
    assert.equal(d.reason, 'forced');
    assert.deepEqual(d.at, ariDecisionTime(info));
  });
});

describe('errors and logging seams', () => {
  it('a rate limit carries retryAfter as a Date and says when it lifts, set at construction', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    const e = problemError({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many' }, 429, 90_000, now);
    assert.deepEqual(e.retryAfter, new Date(now + 90_000));
    assert.equal(e.message, 'ACME error urn:ietf:params:acme:error:rateLimited: too many (retry after 2026-12-01T10:01:30Z)');
    const other = problemError({ type: 'urn:ietf:params:acme:error:malformed', detail: 'x' }, 400, 5_000, now);
    assert.equal(other.retryAfter, undefined, 'only rate limits record a retry time');
  });

  it('fromPino passes fields first and the message second, and targets become child bindings', () => {
    const calls: unknown[][] = [];
    const make = (bindings: object): Parameters<typeof fromPino>[0] => ({
      error: (f, m) => calls.push(['error', bindings, f, m]),
      warn: (f, m) => calls.push(['warn', bindings, f, m]),
      info: (f, m) => calls.push(['info', bindings, f, m]),
      debug: (f, m) => calls.push(['debug', bindings, f, m]),
      child: (b) => make({ ...bindings, ...b }),
    });
    const log = fromPino(make({}));
    log.info('hello', { a: 1 });
    log.child!('http').trace('deep');
    assert.deepEqual(calls, [['info', {}, { a: 1 }, 'hello'], ['debug', { target: 'http' }, {}, 'deep']]);
  });
});

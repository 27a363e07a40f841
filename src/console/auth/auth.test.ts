import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../core/errors.ts';
import { createAttemptLimiter } from './attempts.ts';
import { createSessions } from './sessions.ts';
import { hashToken, verifyToken } from './token-hash.ts';
import { parseUserEntries } from './users.ts';

describe('console sign-in parts', () => {
  it('verifies a token against its scrypt hash and nothing else', () => {
    const hash = hashToken('s3cret-token');
    assert.match(hash, /^scrypt\$16384\$8\$1\$/);
    assert.equal(verifyToken('s3cret-token', hash), true);
    assert.equal(verifyToken('s3cret-tokeN', hash), false);
    assert.equal(verifyToken('s3cret-token', 'scrypt$1$x'), false);
  });

  it('reads name:role:hash entries and names every bad one without echoing it', () => {
    const hash = hashToken('t');
    const users = parseUserEntries(
      `ada:operator:${hash},\n# comment\nvic:viewer:${hash}`,
      'MM_CONSOLE_USERS',
    );
    assert.deepEqual(
      users.map((u) => `${u.name}:${u.role}`),
      ['ada:operator', 'vic:viewer'],
    );
    assert.throws(
      () =>
        parseUserEntries(
          `ada:admin:${hash},bob:viewer:plain-token,ada:viewer:${hash},ada:viewer:${hash}`,
          'X',
        ),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 3 &&
        !error.message.includes('plain-token') &&
        /role must be viewer or operator/.test(error.message),
    );
  });

  it('expires sessions', () => {
    let now = 1_000;
    const sessions = createSessions({ ttlMs: 60_000, now: () => now });
    const session = sessions.create('ada', 'operator');
    assert.equal(sessions.get(session.id)?.user, 'ada');
    assert.notEqual(session.csrf, session.id);
    now += 60_000;
    assert.equal(sessions.get(session.id), undefined);
  });

  it('blocks a client after 5 failures until the window has passed', () => {
    let now = 0;
    const limiter = createAttemptLimiter({ max: 5, windowMs: 900_000, now: () => now });
    for (let i = 0; i < 5; i += 1) {
      assert.equal(limiter.blockedFor('a'), 0);
      limiter.failed('a');
      now += 1_000;
    }
    assert.ok(limiter.blockedFor('a') > 0);
    assert.equal(limiter.blockedFor('b'), 0, 'other clients are not blocked');
    now += 900_000;
    assert.equal(limiter.blockedFor('a'), 0);
  });
});

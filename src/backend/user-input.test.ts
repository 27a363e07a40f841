import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../core/errors.ts';
import { parseNewUser, parseUserPatch } from './user-input.ts';

const problemsOf = (run: () => unknown): readonly string[] => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ValidationError);
    return error.problems;
  }
  throw new Error('expected a ValidationError');
};

describe('users API input', () => {
  it('accepts a valid new user and trims it', () => {
    assert.deepEqual(parseNewUser({ email: ' a@example.com ', display_name: ' Ann ' }), {
      email: 'a@example.com',
      displayName: 'Ann',
    });
  });

  it('defaults the display name to the mailbox', () => {
    assert.equal(parseNewUser({ email: 'bob@example.com' }).displayName, 'bob');
  });

  it('names every problem', () => {
    const problems = problemsOf(() =>
      parseNewUser({ email: 'x'.repeat(300), display_name: 7, role: 'admin' }),
    );
    assert.deepEqual(problems, [
      'unknown field "role"',
      'email is longer than 254 characters',
      'display_name must be a string',
    ]);
    assert.deepEqual(
      problemsOf(() => parseNewUser({})),
      ['email is required'],
    );
    assert.deepEqual(
      problemsOf(() => parseNewUser([])),
      ['body must be a JSON object'],
    );
  });

  it('needs something to change in a patch', () => {
    assert.deepEqual(
      problemsOf(() => parseUserPatch({})),
      ['nothing to change: give email and/or display_name'],
    );
    assert.deepEqual(parseUserPatch({ display_name: 'New' }), { displayName: 'New' });
  });
});

describe('users API input: text both stores keep alike', () => {
  it('refuses NUL and lone surrogates in every field', () => {
    assert.deepEqual(
      problemsOf(() => parseNewUser({ email: 'a\u0000b@example.com', display_name: 'x\ud800y' })),
      ['email must not contain NUL (\\u0000)', 'display_name contains a lone surrogate (not valid Unicode)'],
    );
    assert.deepEqual(
      problemsOf(() => parseUserPatch({ display_name: '\udc00' })),
      ['display_name contains a lone surrogate (not valid Unicode)'],
    );
    assert.deepEqual(parseUserPatch({ display_name: 'ok \ud83d\ude00' }), { displayName: 'ok \ud83d\ude00' });
  });

  it('counts characters, not UTF-16 units: 200 emoji are a valid name, 201 are not', () => {
    const emoji = '\ud83d\ude00';
    assert.equal(parseUserPatch({ display_name: emoji.repeat(200) }).displayName, emoji.repeat(200));
    assert.deepEqual(
      problemsOf(() => parseUserPatch({ display_name: emoji.repeat(201) })),
      ['display_name is longer than 200 characters'],
    );
  });
});

// The CSRF checks of the console's guard, mounted as the console mounts them: a signed-in POST needs
// its own session's token (form field or header), the sign-in form needs the token its page set;
// and no sign-in with an empty token.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Context, Hono } from 'hono';
import { createAttemptLimiter } from './attempts.ts';
import {
  type ConsoleEnv,
  type Guard,
  mountSignIn,
  requireCsrf,
  requireSession,
  SESSION_COOKIE,
  signOut,
} from './guard.ts';
import { createSessions } from './sessions.ts';
import { hashToken } from './token-hash.ts';

const ADA_TOKEN = 'ada-token-0123456789';

const guardedApp = () => {
  const guard: Guard = {
    users: [{ name: 'ada', role: 'operator', hash: hashToken(ADA_TOKEN) }],
    startToken: 'start-token-0123456789',
    sessions: createSessions({ ttlMs: 60_000 }),
    limiter: createAttemptLimiter({ max: 100, windowMs: 60_000 }),
    secureCookies: false,
    sessionTtlMs: 60_000,
  };
  const done: string[] = [];
  const app = new Hono<ConsoleEnv>();
  mountSignIn(app, guard);
  app.use('*', requireSession(guard));
  app.use('*', requireCsrf);
  signOut(app, guard);
  app.get('/page', (c) => c.text('page'));
  // The action reads the form again after the guard did: the note must still be there.
  const act = async (c: Context<ConsoleEnv>) => {
    const note = String((await c.req.parseBody()).note ?? '');
    done.push(`${c.get('session').user}: ${note}`);
    return c.text(`done: ${note}`);
  };
  app.post('/act', act);
  app.on(['PUT', 'PATCH', 'DELETE'], '/act', act);
  return { app, guard, done };
};

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';

const post = (
  app: Hono<ConsoleEnv>,
  cookie: string,
  body: Record<string, string>,
  headers: Record<string, string> = {},
  method = 'POST',
) =>
  app.request('/act', {
    method,
    headers: { cookie, 'content-type': FORM, ...headers },
    body: form(body),
  });

describe('console guard: CSRF tokens and sign-in', () => {
  it('refuses a POST without a CSRF token, and one with a wrong token, with 403', async () => {
    const { app, guard, done } = guardedApp();
    const session = guard.sessions.create('ada', 'operator');
    const cookie = `${SESSION_COOKIE}=${session.id}`;
    const refused = [
      await post(app, cookie, { note: 'none' }),
      await post(app, cookie, { note: 'empty', _csrf: '' }),
      await post(app, cookie, { note: 'wrong', _csrf: `${session.csrf.slice(0, -1)}x` }),
      await post(app, cookie, { note: 'longer', _csrf: `${session.csrf}x` }),
      await post(app, cookie, { note: 'session id', _csrf: session.id }),
      await post(app, cookie, { note: 'header' }, { 'x-csrf-token': 'not-the-token' }),
    ];
    for (const response of refused) {
      assert.equal(response.status, 403);
      assert.match(await response.text(), /CSRF token/);
    }
    assert.deepEqual(done, [], 'no refused request reached the action');
  });

  it("refuses another session's token", async () => {
    const { app, guard, done } = guardedApp();
    const mine = guard.sessions.create('vic', 'viewer');
    const theirs = guard.sessions.create('ada', 'operator');
    const response = await post(app, `${SESSION_COOKIE}=${mine.id}`, { note: 'x', _csrf: theirs.csrf });
    assert.equal(response.status, 403);
    assert.deepEqual(done, []);
  });

  it('passes a POST with the right token, in the form or in the x-csrf-token header', async () => {
    const { app, guard, done } = guardedApp();
    const session = guard.sessions.create('ada', 'operator');
    const cookie = `${SESSION_COOKIE}=${session.id}`;
    const inForm = await post(app, cookie, { note: 'from the form', _csrf: session.csrf });
    assert.equal(inForm.status, 200);
    assert.equal(await inForm.text(), 'done: from the form');
    const inHeader = await post(app, cookie, { note: 'from a script' }, { 'x-csrf-token': session.csrf });
    assert.equal(inHeader.status, 200);
    const multipart = new FormData();
    multipart.set('_csrf', session.csrf);
    multipart.set('note', 'multipart');
    const asMultipart = await app.request('/act', { method: 'POST', headers: { cookie }, body: multipart });
    assert.equal(asMultipart.status, 200);
    assert.deepEqual(done, ['ada: from the form', 'ada: from a script', 'ada: multipart']);
  });

  it('checks every method that changes something, not only POST; reads need no token', async () => {
    const { app, guard, done } = guardedApp();
    const session = guard.sessions.create('ada', 'operator');
    const cookie = `${SESSION_COOKIE}=${session.id}`;
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      assert.equal((await post(app, cookie, { note: method }, {}, method)).status, 403, method);
      const right = await post(app, cookie, { note: method }, { 'x-csrf-token': session.csrf }, method);
      assert.equal(right.status, 200, method);
    }
    assert.deepEqual(done, ['ada: PUT', 'ada: PATCH', 'ada: DELETE']);
    assert.equal((await app.request('/page', { headers: { cookie } })).status, 200);
    assert.equal((await app.request('/page', { method: 'HEAD', headers: { cookie } })).status, 200);
  });

  it('signs out only with the token: a forged sign-out leaves the session alive', async () => {
    const { app, guard } = guardedApp();
    const session = guard.sessions.create('ada', 'operator');
    const cookie = `${SESSION_COOKIE}=${session.id}`;
    const forged = await app.request('/sign-out', { method: 'POST', headers: { cookie } });
    assert.equal(forged.status, 403);
    assert.equal(guard.sessions.get(session.id)?.user, 'ada');
    const real = await app.request('/sign-out', {
      method: 'POST',
      headers: { cookie, 'content-type': FORM },
      body: form({ _csrf: session.csrf }),
    });
    assert.equal(real.status, 303);
    assert.equal(guard.sessions.get(session.id), undefined);
  });

  it('takes a sign-in only with the token its form set in a cookie', async () => {
    const { app } = guardedApp();
    const page = await app.request('/sign-in');
    const preCookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
    const formToken = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    assert.ok(preCookie.endsWith(`=${formToken}`) && formToken !== '', 'the form and its cookie agree');
    const signIn = (cookie: string | undefined, csrf: string | undefined) =>
      app.request('/sign-in', {
        method: 'POST',
        headers: { 'content-type': FORM, ...(cookie ? { cookie } : {}) },
        body: form({ name: 'ada', token: ADA_TOKEN, ...(csrf === undefined ? {} : { _csrf: csrf }) }),
      });
    for (const [cookie, csrf] of [
      [undefined, formToken],
      [preCookie, undefined],
      [preCookie, `${formToken}x`],
      [preCookie.replace(formToken, 'another-browsers-token'), formToken],
    ] as const) {
      const refused = await signIn(cookie, csrf);
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('set-cookie'), null, 'no session for a refused sign-in');
    }
    const accepted = await signIn(preCookie, formToken);
    assert.equal(accepted.status, 303);
    assert.match(accepted.headers.get('set-cookie') ?? '', new RegExp(`${SESSION_COOKIE}=`));
  });

  it('lets nobody in with an empty token, even when an entry holds the hash of one', async () => {
    const { guard } = guardedApp();
    const app = new Hono<ConsoleEnv>();
    mountSignIn(app, { ...guard, users: [{ name: 'eve', role: 'operator', hash: hashToken('') }] });
    const page = await app.request('/sign-in');
    const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const response = await app.request('/sign-in', {
      method: 'POST',
      headers: { 'content-type': FORM, cookie },
      body: form({ _csrf: csrf, name: 'eve', token: '' }),
    });
    assert.equal(response.status, 401);
    assert.doesNotMatch(response.headers.get('set-cookie') ?? '', new RegExp(`${SESSION_COOKIE}=`));
  });
});

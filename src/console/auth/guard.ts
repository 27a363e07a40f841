// Sign-in and the checks in front of every console route: a session cookie (HttpOnly, SameSite=Strict,
// Secure behind TLS), a CSRF token on every POST, sign-in attempts limited per client, operators only
// for actions. The start token (`/?token=…`) signs in as an operator for the life of the process.

import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SignInPage } from '../pages/sign-in.tsx';
import type { AttemptLimiter } from './attempts.ts';
import { type Session, type Sessions, sameSecret } from './sessions.ts';
import { verifyToken } from './token-hash.ts';
import type { ConsoleUser } from './users.ts';

export const SESSION_COOKIE = 'mm_console_session';
const PRE_COOKIE = 'mm_console_signin';
/** Who signed in with the start token, as the audit trail names them. */
export const START_TOKEN_USER = 'console-start-token';

export type ConsoleEnv = { Variables: { session: Session } };

export type Guard = {
  readonly users: readonly ConsoleUser[];
  readonly startToken: string;
  readonly sessions: Sessions;
  readonly limiter: AttemptLimiter;
  readonly secureCookies: boolean;
  readonly sessionTtlMs: number;
};

const clientOf = (c: Context): string => {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
};

const isSecure = (c: Context, guard: Guard): boolean =>
  guard.secureCookies ||
  c.req.header('x-forwarded-proto') === 'https' ||
  new URL(c.req.url).protocol === 'https:';

const startSession = (c: Context, guard: Guard, user: string, role: ConsoleUser['role']): void => {
  const session = guard.sessions.create(user, role);
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isSecure(c, guard),
    path: '/',
    maxAge: Math.floor(guard.sessionTtlMs / 1000),
  });
};

const tooMany = (c: Context, waitMs: number): Response => {
  c.header('retry-after', String(Math.ceil(waitMs / 1000)));
  return c.text('Too many sign-in attempts: wait and try again.', 429);
};

/** Every user's hash is checked (the right name or not), so timing does not tell which names exist. */
const checkUser = (users: readonly ConsoleUser[], name: string, token: string): ConsoleUser | undefined => {
  // add-user refuses an empty token; an entry hashed from one elsewhere must not let a blank form in.
  if (token === '') return undefined;
  let found: ConsoleUser | undefined;
  for (const user of users) if (verifyToken(token, user.hash) && user.name === name) found = user;
  return found;
};

const signInForm = (c: Context, guard: Guard, status: 200 | 401, error?: string, name?: string) => {
  // One token per browser until it signs in: a second tab (or a favicon fetch sent here) must not
  // invalidate the form already shown.
  const csrf = getCookie(c, PRE_COOKIE) ?? randomBytes(18).toString('base64url');
  setCookie(c, PRE_COOKIE, csrf, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isSecure(c, guard),
    path: '/sign-in',
  });
  return c.html(SignInPage({ csrf, ...(error ? { error } : {}), ...(name ? { name } : {}) }), status);
};

export const mountSignIn = (app: Hono<ConsoleEnv>, guard: Guard): void => {
  // The start token: checked, limited like any sign-in, then dropped from the address bar.
  app.use('*', async (c, next) => {
    const token = c.req.query('token');
    if (c.req.method !== 'GET' || token === undefined) return next();
    const client = clientOf(c);
    const wait = guard.limiter.blockedFor(client);
    if (wait > 0) return tooMany(c, wait);
    if (!sameSecret(token, guard.startToken)) {
      guard.limiter.failed(client);
      return signInForm(
        c,
        guard,
        401,
        'That sign-in link is not valid (the console prints a new one each start).',
      );
    }
    guard.limiter.succeeded(client);
    startSession(c, guard, START_TOKEN_USER, 'operator');
    const url = new URL(c.req.url);
    url.searchParams.delete('token');
    return c.redirect(`${url.pathname}${url.search}`, 303);
  });

  app.get('/sign-in', (c) => signInForm(c, guard, 200));

  app.post('/sign-in', async (c) => {
    const client = clientOf(c);
    const wait = guard.limiter.blockedFor(client);
    if (wait > 0) return tooMany(c, wait);
    const form = await c.req.parseBody();
    const pre = getCookie(c, PRE_COOKIE);
    if (!pre || typeof form._csrf !== 'string' || !sameSecret(form._csrf, pre)) {
      return c.text(
        'Forbidden: the sign-in form has expired or did not come from this console; reload it.',
        403,
      );
    }
    const name = typeof form.name === 'string' ? form.name.trim() : '';
    const token = typeof form.token === 'string' ? form.token : '';
    const user = checkUser(guard.users, name, token);
    if (!user) {
      guard.limiter.failed(client);
      return signInForm(c, guard, 401, 'Unknown name or wrong token.', name);
    }
    guard.limiter.succeeded(client);
    deleteCookie(c, PRE_COOKIE, { path: '/sign-in' });
    startSession(c, guard, user.name, user.role);
    return c.redirect('/', 303);
  });
};

/** No session: pages go to the sign-in form, anything else gets 401. */
export const requireSession =
  (guard: Guard): MiddlewareHandler<ConsoleEnv> =>
  async (c, next) => {
    const session = guard.sessions.get(getCookie(c, SESSION_COOKIE));
    if (!session) {
      if (c.req.method === 'GET') return c.redirect('/sign-in', 303);
      return c.text('Unauthorized: sign in first.', 401);
    }
    c.set('session', session);
    return next();
  };

// Reads. Anything else may change something: POST today, and whatever method a later route takes.
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Every POST (every request but a read) carries the session's CSRF token in `_csrf` (form) or
 * `x-csrf-token` (script). */
export const requireCsrf: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) return next();
  const session = c.get('session');
  const type = c.req.header('content-type') ?? '';
  const form = type.includes('form') ? await c.req.parseBody() : {};
  const given = c.req.header('x-csrf-token') ?? (typeof form._csrf === 'string' ? form._csrf : '');
  if (!given || !sameSecret(given, session.csrf))
    return c.text('Forbidden: missing or wrong CSRF token.', 403);
  return next();
};

/** Actions are for operators; a viewer gets 403 whatever they send. */
export const requireOperator: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (c.get('session').role !== 'operator') return c.text('Forbidden: this needs the operator role.', 403);
  return next();
};

export const signOut = (app: Hono<ConsoleEnv>, guard: Guard): void => {
  app.post('/sign-out', (c) => {
    guard.sessions.destroy(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/sign-in', 303);
  });
};

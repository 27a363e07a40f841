// Who may change users: mutating routes of the users API want `Authorization: Bearer <token>` when
// tokens are configured. Tokens are compared in constant time, so timing reveals nothing of them.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Parser } from '../core/settings.ts';
import { problem } from '../http/problem.ts';

/** Comma-separated plain tokens; blanks dropped; each at least 16 characters would be wise, 1 is the floor. */
export const apiTokenList: Parser<readonly string[]> = {
  parse: (raw) => {
    const tokens = raw
      .split(',')
      .map((token) => token.trim())
      .filter((token) => token !== '');
    return tokens.every((token) => /^[\x21-\x7e]+$/.test(token)) ? tokens : undefined;
  },
  accepts: 'comma-separated tokens of printable ASCII without spaces',
};

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * True when `given` is one of `tokens`. Both sides are hashed to one length first (timingSafeEqual
 * needs equal lengths), and every token is compared, so the time taken says nothing about which.
 */
export const isKnownToken = (tokens: readonly string[], given: string): boolean => {
  const presented = digest(given);
  let found = false;
  for (const token of tokens) found = timingSafeEqual(digest(token), presented) || found;
  return found;
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Mutating requests without a known bearer token get 401; reads pass. No tokens: everything passes. */
export const requireBearer =
  (tokens: readonly string[]): MiddlewareHandler =>
  async (c, next) => {
    if (tokens.length === 0 || !MUTATING.has(c.req.method)) return next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    if (match?.[1] && isKnownToken(tokens, match[1])) return next();
    c.header('www-authenticate', 'Bearer realm="mm users API"');
    return problem(
      c,
      401,
      match
        ? 'the bearer token is not one of MM_API_TOKENS'
        : 'this route needs Authorization: Bearer <token>',
    );
  };

/** Addresses only this machine can reach; anything else (0.0.0.0, ::, a LAN address) is public. */
export const isLoopbackHost = (host: string): boolean => {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
};

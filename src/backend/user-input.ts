// Validates the JSON bodies of the users API; every problem is named at once.
import { ValidationError } from '../core/errors.ts';
import type { UserPatch } from '../ports/users.ts';

export const limits = { email: 254, displayName: 200 } as const;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type NewUserInput = { readonly email: string; readonly displayName: string };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const checkUnknown = (
  body: Record<string, unknown>,
  allowed: readonly string[],
  problems: string[],
): void => {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) problems.push(`unknown field "${key}"`);
};

/** Characters as a person counts them (code points), not UTF-16 units: an emoji is one. */
const characters = (text: string): number => {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
};

// A surrogate without its partner is no character at all: Postgres cannot store it as UTF-8 and
// SQLite would, so it is refused before either sees it (both modes the same).
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** NUL and lone surrogates, which no text column takes the same way in both stores. */
const unstorable = (field: string, text: string, problems: string[]): boolean => {
  if (text.includes('\u0000')) problems.push(`${field} must not contain NUL (\\u0000)`);
  else if (loneSurrogate.test(text)) problems.push(`${field} contains a lone surrogate (not valid Unicode)`);
  else return false;
  return true;
};

const checkEmail = (value: unknown, problems: string[]): string | undefined => {
  if (typeof value !== 'string') {
    problems.push('email must be a string');
    return undefined;
  }
  const email = value.trim();
  if (unstorable('email', email, problems)) return email;
  if (characters(email) > limits.email) problems.push(`email is longer than ${limits.email} characters`);
  else if (!emailPattern.test(email)) problems.push(`email "${email.slice(0, 80)}" is not a valid address`);
  return email;
};

const checkDisplayName = (value: unknown, problems: string[]): string | undefined => {
  if (typeof value !== 'string') {
    problems.push('display_name must be a string');
    return undefined;
  }
  const name = value.trim();
  if (unstorable('display_name', name, problems)) return name;
  if (name.length === 0) problems.push('display_name must not be empty');
  if (characters(name) > limits.displayName)
    problems.push(`display_name is longer than ${limits.displayName} characters`);
  return name;
};

const fail = (problems: string[]): never => {
  throw new ValidationError(problems.join('; '), { problems });
};

export const parseNewUser = (body: unknown): NewUserInput => {
  if (!isPlainObject(body)) return fail(['body must be a JSON object']);
  const problems: string[] = [];
  checkUnknown(body, ['email', 'display_name'], problems);
  if (body.email === undefined) problems.push('email is required');
  const email = body.email === undefined ? undefined : checkEmail(body.email, problems);
  // A display name is optional on creation: it defaults to the part of the email before the @.
  const displayName =
    body.display_name === undefined
      ? Array.from(email?.split('@')[0] ?? '')
          .slice(0, limits.displayName)
          .join('')
      : checkDisplayName(body.display_name, problems);
  if (problems.length > 0 || email === undefined || displayName === undefined) return fail(problems);
  return { email, displayName };
};

export const parseUserPatch = (body: unknown): UserPatch => {
  if (!isPlainObject(body)) return fail(['body must be a JSON object']);
  const problems: string[] = [];
  checkUnknown(body, ['email', 'display_name'], problems);
  const email = body.email === undefined ? undefined : checkEmail(body.email, problems);
  const displayName =
    body.display_name === undefined ? undefined : checkDisplayName(body.display_name, problems);
  if (email === undefined && displayName === undefined && problems.length === 0) {
    problems.push('nothing to change: give email and/or display_name');
  }
  if (problems.length > 0) return fail(problems);
  return { ...(email === undefined ? {} : { email }), ...(displayName === undefined ? {} : { displayName }) };
};

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

const checkEmail = (value: unknown, problems: string[]): string | undefined => {
  if (typeof value !== 'string') {
    problems.push('email must be a string');
    return undefined;
  }
  const email = value.trim();
  if (email.length > limits.email) problems.push(`email is longer than ${limits.email} characters`);
  else if (!emailPattern.test(email)) problems.push(`email "${email.slice(0, 80)}" is not a valid address`);
  return email;
};

const checkDisplayName = (value: unknown, problems: string[]): string | undefined => {
  if (typeof value !== 'string') {
    problems.push('display_name must be a string');
    return undefined;
  }
  const name = value.trim();
  if (name.length === 0) problems.push('display_name must not be empty');
  if (name.length > limits.displayName)
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
      ? email?.split('@')[0]?.slice(0, limits.displayName)
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

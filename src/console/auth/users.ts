// Who may sign in to the console: `MM_CONSOLE_USERS` holds `name:role:scrypt-hash` entries
// (comma- or newline-separated), or names a file of them, one per line (`#` comments allowed).
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';
import { isTokenHash } from './token-hash.ts';

export const ConsoleRoles = ['viewer', 'operator'] as const;
export type ConsoleRole = (typeof ConsoleRoles)[number];

export type ConsoleUser = { readonly name: string; readonly role: ConsoleRole; readonly hash: string };

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
export const USER_NAME_RULE = 'the name must be 1-64 of A-Z a-z 0-9 . _ @ -';

/** A name fit for an entry: nothing an entry list reads as a separator, a comment or space. */
export const isUserName = (name: string): boolean => NAME.test(name);

export const userEntry = (user: ConsoleUser): string => `${user.name}:${user.role}:${user.hash}`;

/** Parses entries; every bad one is a problem (its text is not echoed: it may hold a token). */
export const parseUserEntries = (text: string, source: string): ConsoleUser[] => {
  const problems: string[] = [];
  const users: ConsoleUser[] = [];
  const entries = text
    .split(/[,\n]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  entries.forEach((entry, index) => {
    const [name = '', role = '', hash = '', ...rest] = entry.split(':');
    // A name with a colon splits into too many parts: report the name, not the role.
    if (!NAME.test(name) || (rest.length > 0 && !isTokenHash(hash)))
      problems.push(`${source} entry ${index + 1}: ${USER_NAME_RULE}`);
    else if (role !== 'viewer' && role !== 'operator')
      problems.push(`${source} entry ${index + 1} (${name}): the role must be viewer or operator`);
    else if (rest.length > 0 || !isTokenHash(hash))
      problems.push(
        `${source} entry ${index + 1} (${name}): the third part must be a hash from mm-backend console add-user`,
      );
    else if (users.some((user) => user.name === name))
      problems.push(`${source} entry ${index + 1}: ${name} is listed twice`);
    else users.push({ name, role, hash });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return users;
};

/** The setting's value: a file when it names one (no `:` in it), else the entries themselves. */
export const loadConsoleUsers = (value: string | undefined): ConsoleUser[] => {
  if (value === undefined || value.trim() === '') return [];
  if (!value.includes(':')) {
    if (!existsSync(value)) throw new ConfigError([`MM_CONSOLE_USERS names ${value}, which does not exist`]);
    return parseUserEntries(readFileSync(value, 'utf8'), value);
  }
  return parseUserEntries(value, 'MM_CONSOLE_USERS');
};

// `mm-backend console add-user <name>`: hashes a sign-in token (a new random one unless given) and
// prints the token once; the entry goes to --file (appended) or to stdout for MM_CONSOLE_USERS.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { ConflictError } from '../core/errors.ts';
import { hashToken, newToken } from './auth/token-hash.ts';
import { type ConsoleRole, parseUserEntries, userEntry } from './auth/users.ts';
import type { AddUserConfig } from './config.ts';

export const addConsoleUser = (name: string, config: AddUserConfig, out: (text: string) => void): number => {
  const token = config.token ?? newToken();
  const entry = userEntry({ name, role: config.role as ConsoleRole, hash: hashToken(token) });
  parseUserEntries(entry, 'add-user'); // the same rules as at sign-in: a bad name fails here
  if (config.file) {
    const existing = existsSync(config.file)
      ? parseUserEntries(readFileSync(config.file, 'utf8'), config.file)
      : [];
    if (existing.some((user) => user.name === name))
      throw new ConflictError(`${name} is already in ${config.file}`);
    appendFileSync(config.file, `${entry}\n`, { mode: 0o600 });
    out(`added ${name} (${config.role}) to ${config.file}\n`);
  } else out(`${entry}\n`);
  if (!config.token) out(`token for ${name} (shown once, sign in with it): ${token}\n`);
  return 0;
};

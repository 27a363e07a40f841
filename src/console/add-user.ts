// `mm-backend console add-user <name>`: hashes a sign-in token (a new random one unless given) and
// prints the token once; the entry goes to --file (appended) or to stdout for MM_CONSOLE_USERS.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { ConfigError, ConflictError } from '../core/errors.ts';
import { hashToken, newToken } from './auth/token-hash.ts';
import { type ConsoleRole, isUserName, parseUserEntries, USER_NAME_RULE, userEntry } from './auth/users.ts';
import type { AddUserConfig } from './config.ts';

export const addConsoleUser = (name: string, config: AddUserConfig, out: (text: string) => void): number => {
  // Checked as given: an entry built from ` ada` or `#ada` would parse (trimmed, or as a comment) as
  // something other than what was asked for.
  if (!isUserName(name)) throw new ConfigError([`add-user: ${USER_NAME_RULE}, got ${JSON.stringify(name)}`]);
  const token = config.token ?? newToken();
  const entry = userEntry({ name, role: config.role as ConsoleRole, hash: hashToken(token) });
  if (config.file) {
    const before = existsSync(config.file) ? readFileSync(config.file, 'utf8') : '';
    const existing = parseUserEntries(before, config.file);
    if (existing.some((user) => user.name === name))
      throw new ConflictError(`${name} is already in ${config.file}`);
    // A file last written by hand may lack its final newline: the entry must not join that line.
    const separator = before === '' || before.endsWith('\n') ? '' : '\n';
    appendFileSync(config.file, `${separator}${entry}\n`, { mode: 0o600 });
    out(`added ${name} (${config.role}) to ${config.file}\n`);
  } else out(`${entry}\n`);
  if (config.token === undefined) out(`token for ${name} (shown once, sign in with it): ${token}\n`);
  return 0;
};

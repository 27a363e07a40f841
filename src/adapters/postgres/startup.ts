// The first connection of a service or CLI: what retrying cannot fix (a database that does not exist,
// a refused password or role) stops start-up as a configuration error; an outage does not, the
// services start and wait for the database as they do for any outage.
import { ConfigError } from '../../core/errors.ts';
import { postgresConfigProblem } from './errors.ts';

/** host:port/database of a Postgres URL, never its password. */
export const postgresPlace = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.host || 'localhost'}${parsed.pathname}`;
  } catch {
    return 'the database';
  }
};

/** `ping` runs one query on a fresh connection (bounded by the client's connect timeout). */
export const checkPostgresAtStartup = async (ping: () => Promise<void>, url: string): Promise<void> => {
  const failure = await ping().then(
    () => undefined,
    (error: unknown) => error,
  );
  const problem = failure === undefined ? undefined : postgresConfigProblem(failure);
  if (problem) {
    throw new ConfigError([
      `Postgres at ${postgresPlace(url)} ${problem}: check --database-url (DATABASE_URL)`,
    ]);
  }
};

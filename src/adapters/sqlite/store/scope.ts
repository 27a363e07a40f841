// What the store's parts work with: the writer inside a transaction, with errors translated and a
// guard against use after the transaction ended.
import { transactionEnded, ValidationError } from '../../../core/errors.ts';
import { assertIdentifier } from '../../../core/identifiers.ts';
import { isUuid } from '../../../core/ids.ts';
import type { Topic } from '../driver/change-feed.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import { translateSqliteError } from '../driver/errors.ts';

export type TxScope = {
  /** Runs synchronous statements on the transaction's connection. */
  run<T>(work: (db: SqliteDriver) => T): Promise<T>;
  /** Announces a change once the transaction commits. */
  touch(topic: Topic): void;
};

export const createTxScope = (
  db: SqliteDriver,
  isOpen: () => boolean,
  touch: (topic: Topic) => void,
): TxScope => ({
  run: (work) => {
    if (!isOpen()) return Promise.reject(transactionEnded());
    try {
      return Promise.resolve(work(db));
    } catch (error) {
      return Promise.reject(translateSqliteError(error, 'database'));
    }
  },
  touch,
});

export const nowIso = (): string => new Date().toISOString();

/** A UUID as stored (lower case); anything else fails as Postgres's uuid type would. */
export const uuidParam = (value: string, what: string): string => {
  if (!isUuid(value)) throw new ValidationError(`${what} is not a UUID: "${String(value).slice(0, 80)}"`);
  return value.toLowerCase();
};

/**
 * SQLite has one schema. `public` (the Postgres default) and `main` (SQLite's name for it) both mean
 * it; any other valid name is refused rather than silently ignored.
 */
export const assertSqliteSchema = (schema: string | undefined): void => {
  if (schema === undefined) return;
  assertIdentifier(schema, 'schema');
  if (schema !== 'public' && schema !== 'main') {
    throw new ValidationError(
      `schema "${schema}" is not available in SQLite, which has one schema (public/main)`,
    );
  }
};

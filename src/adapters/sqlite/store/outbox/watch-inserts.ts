// SQLite outbox watch (Postgres has LISTEN/NOTIFY instead): local inserts announce themselves; other
// processes' are seen through the outbox id sequence, checked whenever the file's data_version moves.
import type { SqliteConnection } from '../../driver/connection.ts';
import type { SqliteDriver } from '../../driver/driver.ts';

/** How often `watch` looks for commits by other processes. */
export const watchIntervalMs = 10;

const outboxSequence = (db: SqliteDriver): number =>
  db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get<{ seq: number }>()?.seq ?? 0;

/** Calls `onInsert` after rows are committed; the returned stop is also registered in `watchers`. */
export const watchInserts = async (
  connection: SqliteConnection,
  watchers: Set<() => void>,
  onInsert: () => void,
): Promise<() => Promise<void>> => {
  let seen = await connection.read(outboxSequence, 'database');
  let mark = connection.feed.mark();
  const look = (): void => {
    if (!connection.feed.changedSince(mark, 'outbox')) return;
    mark = connection.feed.mark();
    connection
      .read(outboxSequence, 'database')
      .then((sequence) => {
        if (sequence > seen) {
          seen = sequence;
          onInsert();
        }
      })
      .catch(() => {}); // closing: the next look (if any) meets the same error
  };
  const offLocal = connection.feed.onLocal('outbox', look);
  const timer = setInterval(look, watchIntervalMs);
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    offLocal();
    watchers.delete(stop);
  };
  watchers.add(stop);
  return async () => stop();
};

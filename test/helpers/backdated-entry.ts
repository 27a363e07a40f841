// Fault injection for lag: puts an entry into a new stream of a local-mode file with an id from the
// past, as if it had waited there that long, so lag thresholds (60 s) can be crossed without waiting.
// The Bus port always takes the next id, so this writes the shim's tables (migrations/sqlite/005), and
// records the topic with one partition (020), as a relay publishing to it would.
import Database from 'better-sqlite3';
import type { StreamFields } from '../../src/core/envelope.ts';

export const addBackdatedEntry = (
  file: string,
  /** A topic's stream (one partition). */
  stream: string,
  ageMs: number,
  fields: StreamFields,
): string => {
  const ms = Date.now() - ageMs;
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.transaction(() => {
      db.prepare('INSERT OR IGNORE INTO bus_topics (topic, partitions) VALUES (?, 1)').run(stream);
      const { id } = db
        .prepare(
          'INSERT INTO bus_streams (name, length, last_ms, last_seq, entries_added) VALUES (?, 1, ?, 0, 1) RETURNING id',
        )
        .get(stream, ms) as { id: number };
      db.prepare('INSERT INTO bus_entries (stream_id, ms, seq, fields) VALUES (?, ?, 0, ?)').run(
        id,
        ms,
        JSON.stringify(fields),
      );
    })();
  } finally {
    db.close();
  }
  return `${ms}-0`;
};

// The stream shim: the Bus port with Redis Streams semantics, kept in the SQLite file so every process
// of a local deployment shares the streams, groups and pending lists. Each operation is one
// transaction (or a savepoint of the caller's store transaction, e.g. the relay's drain).
import type { StreamFields } from '../../../core/envelope.ts';
import { PermanentError, TransientError, ValidationError } from '../../../core/errors.ts';
import type { AddOutcome, Bus, ExecResult } from '../../../ports/bus.ts';
import { type IdFieldRef, idFieldRefs } from '../../exec-id-fields.ts';
import { assertPartitionCount, parsePartitionCount } from '../../partition-count.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import {
  createStreamSession,
  emptyFieldsError,
  encodeFields,
  entriesBetween,
  entryExists,
  findStream,
  maxLenCutoff,
  toEntry,
} from './entries.ts';
import { createGroup, destroyGroup, groupInfos, requireGroup, setGroupId } from './groups.ts';
import { parseId, rangeEnd, rangeStart } from './ids.ts';
import {
  consumerInfos,
  deleteHeartbeats,
  readHeartbeats,
  removeIdleConsumer,
  writeHeartbeat,
} from './members.ts';
import { ackIds, autoClaim, pendingBetween, pendingSummary } from './pending.ts';
import { createReadGroup } from './read.ts';

/** Faults the drills switch on and off at run time. */
export type BusFaults = {
  /** While true, every operation fails as if the stream store were down. */
  unavailable: boolean;
};

export type SqliteBusOptions = { readonly faults?: BusFaults };

const parseIds = (ids: readonly string[]) => [...new Set(ids)].map((id) => parseId(id));

const isEmptyAdd = (fields: StreamFields, refs: readonly IdFieldRef[] | undefined): boolean =>
  encodeFields(fields) === undefined && (refs ?? []).length === 0;

export const createSqliteBus = (connection: SqliteConnection, options: SqliteBusOptions = {}): Bus => {
  const closing = new AbortController();
  const guard = (): void => {
    if (closing.signal.aborted) {
      throw new TransientError('stream store unavailable: the bus is closed', { dependency: 'bus' });
    }
    if (options.faults?.unavailable) {
      throw new TransientError('stream store unavailable (fault injected)', { dependency: 'bus' });
    }
  };
  const write = <T>(work: (db: SqliteDriver) => T, announce = true): Promise<T> => {
    try {
      guard();
    } catch (error) {
      return Promise.reject(error);
    }
    return connection.write((db) => {
      const result = work(db);
      if (announce) connection.touch('bus');
      return result;
    }, 'bus');
  };
  const read = <T>(work: (db: SqliteDriver) => T): Promise<T> => {
    try {
      guard();
    } catch (error) {
      return Promise.reject(error);
    }
    return connection.read(work, 'bus');
  };

  return {
    kind: 'shim',
    add: (stream, fields) =>
      write((db) => {
        const encoded = encodeFields(fields);
        if (encoded === undefined) throw emptyFieldsError(stream);
        const session = createStreamSession(db);
        const id = session.add(stream, encoded, Date.now());
        session.flush();
        return id;
      }),

    addBatch: (entries) =>
      entries.length === 0
        ? Promise.resolve([])
        : write((db) => {
            const session = createStreamSession(db);
            const now = Date.now();
            const outcomes = entries.map((entry): AddOutcome => {
              const encoded = encodeFields(entry.fields);
              if (encoded === undefined)
                return { error: new PermanentError(emptyFieldsError(entry.stream).message) };
              return { id: session.add(entry.stream, encoded, now) };
            });
            session.flush();
            return outcomes;
          }),

    exec: (writes, execOptions = {}) =>
      write((db): ExecResult => {
        const session = createStreamSession(db);
        const required = execOptions.requireEntry;
        if (required) {
          const row = session.find(required.stream);
          if (!row || !entryExists(db, row.id, parseId(required.id))) return { applied: false, addedIds: [] };
        }
        // Validated up front: a write that could fail half way would break all-or-nothing.
        const refs = idFieldRefs(writes);
        const empty = writes.findIndex((w, i) => w.op === 'add' && isEmptyAdd(w.fields, refs[i]));
        if (empty >= 0) throw emptyFieldsError((writes[empty] as { stream: string }).stream);
        const now = Date.now();
        const addedIds: string[] = [];
        writes.forEach((w, i) => {
          if (w.op === 'add') {
            const named = Object.fromEntries((refs[i] ?? []).map(([name, at]) => [name, addedIds[at] ?? '']));
            addedIds.push(session.add(w.stream, encodeFields({ ...w.fields, ...named }) as string, now));
          } else if (w.op === 'ack') ackIds(db, w.stream, w.group, parseIds(w.ids));
          else session.del(w.stream, parseIds(w.ids));
        });
        session.flush();
        return { applied: true, addedIds };
      }),

    range: (stream, range = {}) =>
      read((db) => {
        const row = findStream(db, stream);
        const from = rangeStart(range.start ?? '-');
        const to = rangeEnd(range.end ?? '+');
        if (!row || !from || !to || range.count === 0) return [];
        const count = range.count === undefined || range.count < 0 ? -1 : range.count;
        return entriesBetween(db, row.id, from, to, count, range.reverse).map(toEntry);
      }),

    len: (stream) => read((db) => findStream(db, stream)?.length ?? 0),

    del: (stream, ids) =>
      ids.length === 0
        ? Promise.resolve(0)
        : write((db) => {
            const session = createStreamSession(db);
            const deleted = session.del(stream, parseIds(ids));
            session.flush();
            return deleted;
          }),

    trim: (stream, trim) =>
      write((db) => {
        const session = createStreamSession(db);
        const row = session.find(stream);
        if (!row) return 0;
        let cutoff: ReturnType<typeof maxLenCutoff>;
        if ('maxLen' in trim) {
          if (!Number.isInteger(trim.maxLen) || trim.maxLen < 0) {
            throw new ValidationError(`MAXLEN must be an integer >= 0, got ${trim.maxLen}`);
          }
          cutoff = maxLenCutoff(db, row, trim.maxLen);
        } else {
          cutoff = parseId(trim.minId);
        }
        const removed = cutoff === null ? 0 : session.trimBefore(stream, cutoff);
        session.flush();
        return removed;
      }, false),

    createGroup: (stream, group, create = {}) =>
      write((db) => {
        const session = createStreamSession(db);
        const result = createGroup(session, db, stream, group, create.startId ?? '0');
        session.flush();
        return result;
      }),

    setGroupId: (stream, group, id) => write((db) => setGroupId(db, stream, group, id)),
    destroyGroup: (stream, group) => write((db) => destroyGroup(db, stream, group)),
    groups: (stream) => read((db) => groupInfos(db, stream)),
    readGroup: createReadGroup(connection, guard, closing.signal),

    ack: (stream, group, ids) =>
      ids.length === 0 ? Promise.resolve(0) : write((db) => ackIds(db, stream, group, parseIds(ids)), false),

    pending: (stream, group) => read((db) => pendingSummary(db, requireGroup(db, stream, group).group)),

    pendingRange: (stream, group, range) =>
      read((db) => pendingBetween(db, requireGroup(db, stream, group).group, range, Date.now())),

    autoClaim: (stream, group, claim) =>
      write((db) => {
        const target = requireGroup(db, stream, group);
        return autoClaim(db, target.stream, target.group, claim, Date.now());
      }, false),

    partitions: (topic) =>
      read((db) =>
        parsePartitionCount(
          db.prepare('SELECT partitions FROM bus_topics WHERE topic = ?').get<{ partitions: number }>(topic)
            ?.partitions,
        ),
      ),

    setPartitions: (topic, partitions) => {
      try {
        assertPartitionCount(partitions);
      } catch (error) {
        return Promise.reject(error);
      }
      return write((db) => {
        db.prepare(
          'INSERT INTO bus_topics (topic, partitions) VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET partitions = excluded.partitions',
        ).run(topic, partitions);
      }, false);
    },

    ensureStream: (stream) =>
      write((db) => {
        const session = createStreamSession(db);
        if (session.find(stream)) return false;
        session.ensure(stream);
        session.flush();
        return true;
      }, false),

    consumers: (stream, group) => read((db) => consumerInfos(db, stream, group)),
    removeConsumer: (stream, group, consumer) =>
      write((db) => removeIdleConsumer(db, stream, group, consumer), false),
    heartbeat: (group, consumer, atMs) => write((db) => writeHeartbeat(db, group, consumer, atMs), false),
    heartbeats: (group) => read((db) => readHeartbeats(db, group)),
    forgetHeartbeats: (group, consumers) =>
      consumers.length === 0
        ? Promise.resolve()
        : write((db) => deleteHeartbeats(db, group, consumers), false),

    streamsEndingWith: (suffix) =>
      read((db) =>
        db
          .prepare("SELECT name FROM bus_streams WHERE ? = '' OR substr(name, -length(?)) = ?")
          .all<{ name: string }>(suffix, suffix, suffix)
          .map((row) => row.name)
          .sort(),
      ),

    ping: () => read((db) => void db.prepare('SELECT 1').get()),

    close: async () => {
      if (closing.signal.aborted) return;
      closing.abort();
      await connection.release();
    },
  };
};

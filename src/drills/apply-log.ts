// The order the consumer applied the watched aggregates' events in, for the ordering drill: one line
// per applied event, written in the effect's own transaction (a rolled-back attempt leaves none).
import type { BatchHandler, Handler, HandlerMap } from '../consumer/handler.ts';
import { toRunnable } from '../consumer/handler.ts';
import type { Store } from '../ports/store.ts';

export type ApplyLog = {
  /** Aggregate ids whose applied events are logged; the drill creates the table before adding any. */
  readonly watched: Set<string>;
};

/** The log's table, created by the drill that watches aggregates (a drill's own table, not migrated). */
export const applyLogDdl = (kind: Store['kind']): string => `CREATE TABLE IF NOT EXISTS drill_apply_log (
  seq          ${kind === 'postgres' ? 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'},
  aggregate_id TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  outbox_id    BIGINT,
  display_name TEXT
)`;

const displayName = (payload: unknown): string | null => {
  const name = (payload as { display_name?: unknown } | null)?.display_name;
  return typeof name === 'string' ? name : null;
};

export const withApplyLog = (handlers: HandlerMap, log: ApplyLog): HandlerMap => {
  // One wrapper per handler object, so types served by one handler keep sharing its batches.
  const wrappers = new Map<Handler, BatchHandler>();
  const wrap = (handler: Handler): BatchHandler => {
    const known = wrappers.get(handler);
    if (known) return known;
    const runnable = toRunnable(handler);
    const wrapper: BatchHandler = {
      prepare: (event) => runnable.prepare(event),
      applyBatch: async (items, context) => {
        await runnable.apply(items, context);
        for (const { event } of items) {
          if (!log.watched.has(event.aggregateId)) continue;
          await context.tx.query(
            'INSERT INTO drill_apply_log (aggregate_id, event_id, outbox_id, display_name) VALUES ($1, $2, $3, $4)',
            [event.aggregateId, event.eventId, event.outboxId ?? null, displayName(event.payload)],
          );
        }
      },
    };
    wrappers.set(handler, wrapper);
    return wrapper;
  };
  return Object.fromEntries(Object.entries(handlers).map(([type, handler]) => [type, wrap(handler)]));
};

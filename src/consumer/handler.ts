// The handler contract: what a consumer group runs for each event type, in per-event or batch form.
//
// A handler module (`mm-consumer run --handler ./my-handlers.mjs`) exports its handlers by event type,
// as `export const handlers = { 'user.created': …, … }` or as the default export. Each handler is
// either
//   - a function `(event, context) => void | Promise<void>` (per-event form), or
//   - an object `{ prepare?(event), applyBatch(items, context) }` (batch form): `prepare` checks and
//     converts one event without I/O and throws to fail that event alone; `applyBatch` applies many
//     prepared events at once (one set-based statement) and must be all-or-nothing.
//
// What the consumer guarantees a handler:
//   - It runs inside the database transaction that records the event in `event_ledger`
//     (`context.tx`); its writes commit together with the ledger row, and the stream entry is
//     acknowledged only after that commit. A duplicate delivery of an event this group already
//     recorded never has an effect: the handler is not called for it, or (a batch of first
//     deliveries runs its handlers before the ledger claim has answered) the transaction it ran in
//     is rolled back and the batch is applied again without it.
//   - Events arrive in stream order; one `applyBatch` call receives consecutive events that map to
//     the same handler object, so one handler object serving several event types sees them in order.
//   - If a batch fails, the consumer retries event by event (a savepoint each), so a failing event
//     does not undo or block the others.
// What a handler must do:
//   - Throw to fail an event. Any error counts as a failed attempt: the event stays pending, is
//     retried after --claim-idle-ms and moves to `<topic>.dlq` after --max-deliveries.
//   - Throw an error named `TransientError` (class exported by the package, or `name` and
//     `code: 'TRANSIENT'`) when a dependency is unavailable: the batch is retried with backoff and
//     no attempt is counted.
//   - Write only through `context.tx`, and not keep state between calls that a retry could double.
import type { EventEnvelope } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import type { Tx } from '../ports/store.ts';

/** An event as a handler sees it: the envelope plus where and how often it was delivered. */
export type ConsumedEvent = EventEnvelope & {
  /** The stream (topic) the entry was read from. */
  readonly stream: string;
  /** The stream entry id, usable as a replay position. */
  readonly streamId: string;
  /** How often the group has delivered this entry, this delivery included. */
  readonly deliveries: number;
};

export type HandlerContext = {
  /** The batch's transaction (or the event's savepoint). */
  readonly tx: Tx;
  readonly consumerGroup: string;
  readonly logger: Logger;
};

export type EventHandler = (event: ConsumedEvent, context: HandlerContext) => unknown;

export type PreparedEvent<P> = { readonly event: ConsumedEvent; readonly prepared: P };

export type BatchHandler<P = unknown> = {
  readonly prepare?: (event: ConsumedEvent) => P;
  readonly applyBatch: (items: ReadonlyArray<PreparedEvent<P>>, context: HandlerContext) => Promise<void>;
};

// biome-ignore lint/suspicious/noExplicitAny: a map holds batch handlers of different prepared types
export type Handler = EventHandler | BatchHandler<any>;

/** Event type -> handler. */
export type HandlerMap = Readonly<Record<string, Handler>>;

/** The one shape the consumer runs; per-event handlers become batches applied one by one. */
export type RunnableHandler = {
  prepare(event: ConsumedEvent): unknown;
  apply(items: ReadonlyArray<PreparedEvent<unknown>>, context: HandlerContext): Promise<void>;
};

const runnables = new WeakMap<object, RunnableHandler>();

/** The same handler object always yields the same runnable, so runs can be grouped by identity. */
export const toRunnable = (handler: Handler): RunnableHandler => {
  const known = runnables.get(handler);
  if (known) return known;
  const runnable: RunnableHandler =
    typeof handler === 'function'
      ? {
          prepare: () => undefined,
          apply: async (items, context) => {
            for (const item of items) await handler(item.event, context);
          },
        }
      : {
          prepare: (event) => (handler.prepare ? handler.prepare(event) : event),
          apply: (items, context) => handler.applyBatch(items, context),
        };
  runnables.set(handler, runnable);
  return runnable;
};

export const isHandler = (value: unknown): value is Handler =>
  typeof value === 'function' ||
  (typeof value === 'object' &&
    value !== null &&
    typeof (value as BatchHandler).applyBatch === 'function' &&
    ((value as BatchHandler).prepare === undefined || typeof (value as BatchHandler).prepare === 'function'));

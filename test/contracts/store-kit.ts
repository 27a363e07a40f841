// What the Store contract cases share: the fixture shape, sample data and helpers bound to the current test.
import { uuidv7 } from '../../src/core/ids.ts';
import type { LedgerEntry } from '../../src/ports/ledger.ts';
import type { NewOutboxEvent, OutboxRow } from '../../src/ports/outbox.ts';
import type { Store, Tx } from '../../src/ports/store.ts';
import type { User } from '../../src/ports/users.ts';
import type { DrainOptions, DrainOutcome, DrainResult } from '../../src/relay/drain-outbox.ts';

export type StoreFixture = {
  /** A migrated store on a database of its own, with empty tables. */
  readonly store: Store;
  /** Another store on the same database, as another process would open it. */
  another(): Promise<Store>;
  /** Closes what the fixture opened and removes its data. */
  cleanup(): Promise<void>;
};

export type StoreFactory = () => Promise<StoreFixture>;

/** The current test's store and fixture (fresh for every test), and helpers over them. */
export type StoreKit = {
  readonly store: Store;
  readonly fixture: StoreFixture;
  insert(...events: NewOutboxEvent[]): Promise<void>;
  /** The relay's drain over the current store's outbox statements. */
  drain(options: DrainOptions, handle: (rows: OutboxRow[]) => Promise<DrainOutcome>): Promise<DrainResult>;
  /** Drains everything claimable now and returns the rows handed to the relay. */
  drainAll(): Promise<OutboxRow[]>;
  newUser(tx: Tx, email?: string): Promise<User>;
};

export const isoUtcMs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export const event = (
  aggregateId: string,
  n: number,
  extra: Partial<NewOutboxEvent> = {},
): NewOutboxEvent => ({
  eventId: uuidv7(),
  topic: 'identity',
  eventType: 'user.updated',
  aggregateType: 'user',
  aggregateId,
  payload: { n, nested: { list: [1, 'two', null], flag: true } },
  headers: { correlation_id: `c-${n}` },
  ...extra,
});

export const ledgerEntry = (eventId: string, consumerGroup = 'markdown-lint-consumer'): LedgerEntry => ({
  eventId,
  consumerGroup,
  eventType: 'user.created',
  streamId: '1700000000000-0',
  result: 'applied',
});

export class Rollback extends Error {}

/** A promise and the function that resolves it, to hold a callback open. */
export const gate = (): { wait: Promise<void>; open(): void } => {
  let open = (): void => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
};

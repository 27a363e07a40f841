// The Store port: transactions over the outbox, the ledger and the domain tables, in Postgres or SQLite.
//
// Semantics every adapter must honour (the Store contract suite proves them against both):
// - `withTransaction` commits when the callback resolves and rolls back when it throws; nothing
//   written inside is visible to others before the commit.
// - `savepoint` undoes only what its callback wrote when it throws, and rethrows.
// - Driver failures arrive translated: unreachable or busy -> TransientError, unique violations ->
//   ConflictError, missing rows -> NotFoundError.
import type { LeaseFenceCheck, LeaseStore } from './leases.ts';
import type { LedgerReader, LedgerWriter } from './ledger.ts';
import type { LintProfileWriter } from './lint-profiles.ts';
import type { OutboxRelay, OutboxWriter } from './outbox.ts';
import type { ParkingStore } from './parking.ts';
import type { UserRepository } from './users.ts';

export type Tx = {
  readonly outbox: OutboxWriter;
  readonly users: UserRepository;
  readonly ledger: LedgerWriter;
  readonly lintProfiles: LintProfileWriter;
  /** Fails the transaction (FencedError) unless the caller's leases still hold, locked until commit. */
  readonly fences: LeaseFenceCheck;
  /** Parking inside this transaction: park, release or block together with the ledger rows. */
  readonly parking: ParkingStore;
  /**
   * Raw SQL for custom handlers, with `$1`-style placeholders in both dialects. The SQL itself is
   * dialect-specific; handlers that must run in both modes stick to portable statements.
   */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  savepoint<T>(callback: (tx: Tx) => Promise<T>): Promise<T>;
};

export type MigrationReport = { readonly applied: string[]; readonly alreadyApplied: string[] };

export type Store = {
  readonly kind: 'postgres' | 'sqlite';
  withTransaction<T>(callback: (tx: Tx) => Promise<T>): Promise<T>;
  readonly outbox: OutboxRelay;
  readonly ledger: LedgerReader;
  /** Each call in its own transaction; fence effects with `tx.fences` instead. */
  readonly leases: LeaseStore;
  /** Each call in its own transaction. */
  readonly parking: ParkingStore;
  migrate(): Promise<MigrationReport>;
  /** Resolves once the database answered; rejects with TransientError when it cannot, or this store is closed. */
  ping(): Promise<void>;
  close(): Promise<void>;
};

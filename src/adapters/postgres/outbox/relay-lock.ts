// Postgres relay lock (SQLite needs none: its drains already hold the file's write lock): a
// transaction-scoped advisory lock that every relay transaction shares, tried without waiting, and that
// a partition-count switch takes alone, queueing ahead of new sharers until the drains in flight end.
// COMMIT or ROLLBACK releases it, and so does the server when the holder's connection dies.
import type postgres from 'postgres';

const RELAY_LOCK = { space: 0x6d6d, key: 1 } as const;

/** False at once while a switch holds the lock or waits for it (a waiter queues ahead of sharers). */
export const shareRelayLock = async (tx: postgres.TransactionSql): Promise<boolean> => {
  const [lock] = await tx<{ held: boolean }[]>`
    select pg_try_advisory_xact_lock_shared(${RELAY_LOCK.space}, ${RELAY_LOCK.key}) as held`;
  return lock?.held === true;
};

/** Waits up to `waitMs` for the sharers to end; fails with lock_not_available (55P03) when they did not. */
export const takeRelayLockAlone = async (tx: postgres.TransactionSql, waitMs: number): Promise<void> => {
  await tx.unsafe(`set local lock_timeout = ${Math.max(1, Math.trunc(waitMs))}`);
  await tx`select pg_advisory_xact_lock(${RELAY_LOCK.space}, ${RELAY_LOCK.key})`;
};

/** Whether a failure is the lock wait of takeRelayLockAlone running out. */
export const isLockTimeout = (error: unknown): boolean => (error as { code?: unknown }).code === '55P03';

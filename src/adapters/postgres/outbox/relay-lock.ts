// Postgres takeRelayLock (mirrors sqlite/store/outbox/relay-lock.ts): a transaction-scoped advisory
// lock shared by every relay of a database, tried without waiting. COMMIT or ROLLBACK releases it, and
// so does the server when the holder's connection dies; it is re-entrant for its holder.
import type postgres from 'postgres';

const RELAY_LOCK = { space: 0x6d6d, key: 1 } as const;

export const takeRelayLock = async (tx: postgres.TransactionSql): Promise<boolean> => {
  const [lock] = await tx<{ held: boolean }[]>`
    select pg_try_advisory_xact_lock(${RELAY_LOCK.space}, ${RELAY_LOCK.key}) as held`;
  return lock?.held === true;
};

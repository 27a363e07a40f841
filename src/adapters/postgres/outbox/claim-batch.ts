// Postgres claimBatch (mirrors sqlite/store/outbox/claim-batch.ts): due rows deleted and returned in one
// statement, sent at once so the relay can pipeline the next claim behind the batch it publishes.
import type postgres from 'postgres';
import type { ClaimScope, OutboxRow } from '../../../ports/outbox.ts';
import { pgArray } from '../arrays.ts';

type ClaimedRecord = {
  id: string;
  event_id: string;
  topic: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: string;
  headers: string;
  occurred_at: Date;
  /** Set only for a time outside years 1-9999 (infinity, year 275,761): then the Date is invalid. */
  occurred_at_raw: string | null;
  attempts: number;
  first_failed_at: Date | null;
  last_error: string | null;
};

const toRow = (record: ClaimedRecord): OutboxRow => ({
  id: record.id,
  eventId: record.event_id,
  topic: record.topic,
  eventType: record.event_type,
  aggregateType: record.aggregate_type,
  aggregateId: record.aggregate_id,
  payloadJson: record.payload,
  headersJson: record.headers,
  occurredAt: record.occurred_at_raw ?? record.occurred_at.toISOString(),
  attempts: record.attempts,
  firstFailedAt: record.first_failed_at?.toISOString() ?? null,
  lastError: record.last_error,
});

/**
 * Claim and delete in one statement; a rollback (publish failed, crash) puts every row back.
 * `= any(array(...))` rather than `in (...)`: with `in`, the planner hash-joins the claimed ids
 * against a scan of the whole table, dead rows included, so each batch cost grew with the backlog.
 * `execute()` sends it now: statements of a transaction run in the order sent.
 * A time JavaScript cannot hold (toISOString would throw and roll the whole drain back) also comes as
 * Postgres's text: the relay dead-letters the row, and that text writes it back unchanged.
 * A scope keeps the claim to its partitions; the walk stays on the primary key, in id order, skipping
 * the rows of other relays' partitions.
 */
export const claimBatch = (
  tx: postgres.TransactionSql,
  limit: number,
  scope: ClaimScope | undefined,
): Promise<OutboxRow[]> =>
  tx<ClaimedRecord[]>`
    delete from outbox where id = any(array(
      select o.id from outbox o
      where o.next_attempt_at <= now()
        ${scope ? tx`and o.partition_hash % ${scope.count}::int = any(${pgArray(scope.partitions)}::int[])` : tx``}
        and not exists (
          select 1 from outbox held
          where held.attempts > 0 and held.next_attempt_at > now()
            and held.aggregate_type = o.aggregate_type and held.aggregate_id = o.aggregate_id
            and held.id < o.id)
      order by o.id
      limit ${limit}))
    returning id, event_id, topic, event_type, aggregate_type, aggregate_id, payload::text as payload,
              headers::text as headers, occurred_at,
              case when occurred_at >= '0001-01-01T00:00:00Z' and occurred_at < '10000-01-01T00:00:00Z'
                then null else occurred_at::text end as occurred_at_raw,
              attempts, first_failed_at, last_error`
    .execute()
    .then((records) => records.map(toRow));

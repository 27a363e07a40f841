// Postgres dead rows (mirrors sqlite/store/outbox/dead-rows.ts): the outbox rows kept after their
// dead letter was written, found by that dead letter, and deleted when mm-dlq closes it.
import type postgres from 'postgres';
import type { DeadLetterRef, DeadOutboxRow } from '../../../ports/outbox.ts';

type DeadRecord = {
  id: string;
  event_id: string;
  topic: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: string;
  headers: string;
  occurred_at: string;
  attempts: number;
  first_failed_at: string | null;
  last_error: string | null;
  dead_at: string;
};

export const readDeadRow = async (
  sql: postgres.Sql,
  ref: DeadLetterRef,
): Promise<DeadOutboxRow | undefined> => {
  // Times as text: a dead row may hold one JavaScript cannot represent (that may be why it is dead).
  const [record] = await sql<DeadRecord[]>`
    select id::text as id, event_id::text as event_id, topic, event_type, aggregate_type, aggregate_id,
           payload::text as payload, headers::text as headers,
           case when occurred_at >= '0001-01-01T00:00:00Z' and occurred_at < '10000-01-01T00:00:00Z'
             then to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
             else occurred_at::text end as occurred_at,
           attempts, first_failed_at::text as first_failed_at, last_error,
           to_char(dead_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as dead_at
    from outbox
    where dead_at is not null and dlq_stream = ${ref.stream} and dlq_id = ${ref.id}
    limit 1`;
  if (!record) return undefined;
  return {
    id: record.id,
    eventId: record.event_id,
    topic: record.topic,
    eventType: record.event_type,
    aggregateType: record.aggregate_type,
    aggregateId: record.aggregate_id,
    payloadJson: record.payload,
    headersJson: record.headers,
    occurredAt: record.occurred_at,
    attempts: record.attempts,
    firstFailedAt: record.first_failed_at,
    lastError: record.last_error,
    deadAt: record.dead_at,
    deadLetter: ref,
  };
};

export const releaseDeadRow = async (sql: postgres.Sql, ref: DeadLetterRef): Promise<boolean> => {
  const deleted = await sql`
    delete from outbox where dead_at is not null and dlq_stream = ${ref.stream} and dlq_id = ${ref.id}`;
  return deleted.count > 0;
};

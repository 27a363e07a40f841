// Postgres reinstate (mirrors sqlite/store/outbox/reinstate-rows.ts): claimed rows back under their own
// ids, with the history the relay gives them, in one statement. A dead row goes back with
// next_attempt_at 'infinity': never due, and (attempts > 0) holding its aggregate's later rows.
import type postgres from 'postgres';
import type { ReinstatedRow } from '../../../ports/outbox.ts';
import { pgArray } from '../arrays.ts';

export const reinstateRows = async (
  tx: postgres.TransactionSql,
  rows: readonly ReinstatedRow[],
): Promise<void> => {
  if (rows.length === 0) return;
  const now = new Date().toISOString();
  await tx`
    insert into outbox (id, event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers,
                        occurred_at, attempts, next_attempt_at, first_failed_at, last_error,
                        dead_at, dlq_stream, dlq_id)
    select * from unnest(
      ${pgArray(rows.map((r) => r.id))}::bigint[],
      ${pgArray(rows.map((r) => r.eventId))}::uuid[],
      ${pgArray(rows.map((r) => r.topic))}::text[],
      ${pgArray(rows.map((r) => r.eventType))}::text[],
      ${pgArray(rows.map((r) => r.aggregateType))}::text[],
      ${pgArray(rows.map((r) => r.aggregateId))}::text[],
      ${pgArray(rows.map((r) => r.payloadJson))}::jsonb[],
      ${pgArray(rows.map((r) => r.headersJson))}::jsonb[],
      ${pgArray(rows.map((r) => r.occurredAt))}::timestamptz[],
      ${pgArray(rows.map((r) => r.attempts))}::int[],
      ${pgArray(rows.map((r) => (r.dead ? 'infinity' : r.nextAttemptAt.toISOString())))}::timestamptz[],
      ${pgArray(rows.map((r) => r.firstFailedAt))}::timestamptz[],
      ${pgArray(rows.map((r) => r.lastError))}::text[],
      ${pgArray(rows.map((r) => (r.dead ? now : null)))}::timestamptz[],
      ${pgArray(rows.map((r) => r.dead?.stream ?? null))}::text[],
      ${pgArray(rows.map((r) => r.dead?.id ?? null))}::text[])`;
};

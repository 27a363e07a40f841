// Drill "Idempotency Testing": a dead letter is reprocessed several times with mm-dlq's own reprocess
// (once more with --force, so the event really is published twice); event_ledger still holds one row
// per consumer group and the effect is applied once.
import type { Drill } from './drill.ts';
import { psqlTable } from './drill-output.ts';

const skippedDuplicates = (metrics: Record<string, unknown>): number =>
  Number((metrics.events_skipped_total as Record<string, unknown> | undefined)?.duplicate ?? 0);

export const idempotencyDrill: Drill = {
  name: 'idempotency',
  title: 'Idempotency Testing',
  source: 'Recovery Drills > Idempotency Testing; DLQ Management > Recovery Procedures',
  run: async (kit) => {
    const { out, urls } = kit;
    out.step('(setup) a handler defect makes one event fail until it is dead-lettered');
    out.command(`curl -X POST ${urls.backend}/api/users`, 'the consumer handler fails every event meanwhile');
    kit.faults.handler.failing = true;
    const [user] = await kit.createUsers(1);
    const eventId = user?.eventId ?? '';
    const dead = await kit.waitFor(async () => (await kit.deadLetters([eventId]))[0]);
    const deadLettered = out.check(
      dead?.fields.dlq_stage === 'consumer',
      `event ${eventId} moved to ${kit.dlqStream} as ${dead?.id} after ${dead?.fields.dlq_attempts} deliveries (${dead?.fields.dlq_error_class})`,
    );
    if (!deadLettered) return;
    out.step('(root cause fixed: the handler works again)');
    kit.faults.handler.failing = false;

    const metricsBefore = (await kit.getJson(`${urls.consumer}/metrics`)).body;
    out.step('Reprocess same event multiple times');
    const reprocess = { stream: kit.dlqStream, id: eventId };
    const outputs: string[] = [];
    for (const flags of [reprocess, reprocess, { ...reprocess, force: true }]) {
      out.command(kit.dlqLine('reprocess', flags));
      const result = await kit.dlq('reprocess', flags);
      out.evidence(result.stdout);
      outputs.push(result.stdout);
      if (result.code !== 0) out.check(false, 'mm-dlq reprocess exits 0', `exit ${result.code}`);
    }
    out.check(
      /^reprocessed /.test(outputs[0] ?? '') &&
        /already reprocessed/.test(outputs[1] ?? '') &&
        /published .* again \(--force\)/.test(outputs[2] ?? ''),
      'the first reprocess publishes, the second finds it done and publishes nothing, --force publishes it again',
    );
    const delivered = await kit.waitFor(async () => {
      const metrics = (await kit.getJson(`${urls.consumer}/metrics`)).body;
      const [row] = await kit.sql(
        `SELECT 1 AS applied FROM event_ledger WHERE event_id = $1 AND consumer_group = $2`,
        [eventId, kit.group],
      );
      return row && skippedDuplicates(metrics) > skippedDuplicates(metricsBefore) ? metrics : undefined;
    });
    out.check(
      delivered !== undefined,
      'the consumer received the event twice: applied the first time, skipped as a duplicate the second',
    );

    out.step('Verify only processed once in event_ledger');
    out.command(
      `psql -d markdown_manager -c "SELECT * FROM public.event_ledger WHERE event_id = '${eventId}'"`,
      kit.place.sqlLine(`SELECT * FROM event_ledger WHERE event_id = '${eventId}'`),
    );
    const rows = await kit.sql('SELECT * FROM event_ledger WHERE event_id = $1', [eventId]);
    out.evidence(psqlTable(rows));
    const perGroup = new Map<string, number>();
    for (const row of rows)
      perGroup.set(String(row.consumer_group), (perGroup.get(String(row.consumer_group)) ?? 0) + 1);
    out.check(
      rows.length > 0 && [...perGroup.values()].every((n) => n === 1),
      `one row per consumer group (${[...perGroup].map(([g, n]) => `${g}: ${n}`).join(', ')}) although the event was published ${3} times`,
    );
    const [profile] = await kit.sql<{ version: number }>(
      'SELECT version FROM lint_profiles WHERE last_event_id = $1',
      [eventId],
    );
    out.check(
      Number(profile?.version) === 1,
      'its effect applied once: the lint profile is at version 1',
      `version ${profile?.version}`,
    );
  },
};

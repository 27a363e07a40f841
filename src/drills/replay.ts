// Drill "Event Replay Testing": read last_processed_event_id from the consumer's metrics, move the
// group back to an earlier point with the consumer's replay, and see every entry delivered again and
// skipped by the ledger: no effect applied twice.
import { describeReplay, runReplay } from '../consumer/replay.ts';
import type { Drill } from './drill.ts';
import { psqlTable } from './drill-output.ts';

const EVENTS = 10;

const skippedDuplicates = (metrics: Record<string, unknown>): number =>
  Number((metrics.events_skipped_total as Record<string, unknown> | undefined)?.duplicate ?? 0);

export const replayDrill: Drill = {
  name: 'replay',
  title: 'Event Replay Testing',
  source: 'Recovery Drills > Event Replay Testing',
  run: async (kit) => {
    const { out, urls } = kit;
    out.step(`(setup) ${EVENTS} users created and applied`);
    out.command(`curl -X POST ${urls.backend}/api/users   # ${EVENTS} times`);
    const users = await kit.createUsers(EVENTS);
    const eventIds = users.map((u) => u.eventId);
    const ledgerOf = () =>
      kit.sql<{ event_id: string; stream_id: string }>(
        `SELECT event_id, stream_id FROM event_ledger WHERE consumer_group = $1 AND event_id IN (${kit.placeholders(EVENTS, 2)}) ORDER BY stream_id`,
        [kit.group, ...eventIds],
      );
    const applied = await kit.waitFor(async () => {
      const rows = await ledgerOf();
      return rows.length === EVENTS ? rows : undefined;
    });
    out.check(applied !== undefined, `all ${EVENTS} events applied by ${kit.group}`);
    if (!applied) return;

    out.step('Get last processed event ID');
    out.command(`curl ${urls.consumer}/metrics | jq '.last_processed_event_id'`);
    const lastId = await kit.waitFor(async () => {
      const metrics = (await kit.getJson(`${urls.consumer}/metrics`)).body;
      const last = String(metrics.last_processed_event_id ?? '');
      return last === applied.at(-1)?.stream_id ? last : undefined;
    });
    const metricsBefore = (await kit.getJson(`${urls.consumer}/metrics`)).body;
    out.evidence(JSON.stringify(metricsBefore.last_processed_event_id));
    out.check(
      lastId !== undefined,
      `last_processed_event_id is the stream id of the newest applied entry (${applied.at(-1)?.stream_id})`,
      String(metricsBefore.last_processed_event_id),
    );

    out.step(
      'Simulate replay from specific point (manual intervention required)',
      'This would typically involve resetting consumer group position',
    );
    const from = applied[0]?.stream_id ?? '0-0';
    out.command(
      [
        'mm-consumer replay --group',
        kit.group,
        '--topic',
        kit.topic,
        '--from',
        from,
        ...kit.place.flags,
      ].join(' '),
      `the position goes back to the first of the ${EVENTS} entries, before ${lastId}`,
    );
    const report = await runReplay(
      { bus: kit.bus, ledger: kit.store.ledger },
      { group: kit.group, topic: kit.topic, from: { kind: 'id', id: from }, dryRun: false },
    );
    out.evidence(describeReplay(report).join('\n'));
    out.check(
      report.redeliver === EVENTS && report.alreadyApplied === EVENTS,
      `the replay re-delivers ${EVENTS} entries, all ${EVENTS} already in the ledger`,
      `${report.redeliver} re-delivered, ${report.alreadyApplied} already applied`,
    );

    out.step('(the consumer receives them again)');
    out.command(`curl ${urls.consumer}/metrics`);
    const redelivered = await kit.waitFor(async () => {
      const metrics = (await kit.getJson(`${urls.consumer}/metrics`)).body;
      return skippedDuplicates(metrics) - skippedDuplicates(metricsBefore) >= EVENTS ? metrics : undefined;
    });
    const metricsAfter = redelivered ?? (await kit.getJson(`${urls.consumer}/metrics`)).body;
    out.evidence(JSON.stringify(metricsAfter, null, 2));
    const skipped = skippedDuplicates(metricsAfter) - skippedDuplicates(metricsBefore);
    out.check(
      skipped === EVENTS,
      `the consumer got all ${EVENTS} entries again and skipped them as duplicates (events_skipped_total.duplicate +${skipped})`,
    );
    out.command(
      kit.place.sqlLine(
        'SELECT l.event_id, count(*) AS ledger_rows, p.version FROM event_ledger l JOIN lint_profiles p ON p.last_event_id = l.event_id WHERE l.event_id IN (…) GROUP BY l.event_id',
      ),
    );
    const rows = await kit.sql<{ event_id: string; ledger_rows: number; version: number }>(
      `SELECT l.event_id, count(*) AS ledger_rows, p.version FROM event_ledger l JOIN lint_profiles p ON p.last_event_id = l.event_id
       WHERE l.consumer_group = $1 AND l.event_id IN (${kit.placeholders(EVENTS, 2)}) GROUP BY l.event_id, p.version ORDER BY l.event_id`,
      [kit.group, ...eventIds],
    );
    out.evidence(psqlTable(rows));
    out.check(
      rows.length === EVENTS && rows.every((r) => Number(r.ledger_rows) === 1 && Number(r.version) === 1),
      `the ledger kept effects single: one row per event, every profile still at version 1`,
    );
  },
};

// Drill "DLQ Spike": a handler defect fails a burst of events (and one event is bad data); the DLQ
// report groups them by error fingerprint, the bad one is inspected and resolved, the defect is
// fixed, the burst is reprocessed in bulk, the backlog returns to 0 and every effect applies once.
import { uuidv7 } from '../core/ids.ts';
import type { Drill } from './drill.ts';
import type { DrillKit } from './drill-kit.ts';
import { psqlTable } from './drill-output.ts';

const BURST = 12;

type Group = { fingerprint: string; count: number; open: number; error_class: string };

/** The burst's and the bad event's fingerprints, as `mm-dlq report --json` groups them. */
const reportGroups = async (kit: DrillKit): Promise<{ groups: Group[]; open: number }> => {
  const result = await kit.dlq('report', { stream: kit.dlqStream, hours: '1', json: true });
  const report = JSON.parse(result.stdout) as {
    streams: Array<{ by_fingerprint: Group[]; open: { count: number } }>;
  };
  const stream = report.streams[0];
  return { groups: stream?.by_fingerprint ?? [], open: stream?.open.count ?? -1 };
};

/** An event an old importer wrote straight to the outbox: no valid user id, no email. */
const writeBadEvent = async (kit: DrillKit): Promise<string> => {
  const eventId = uuidv7();
  await kit.store.withTransaction((tx) =>
    tx.outbox.insert([
      {
        eventId,
        topic: kit.topic,
        eventType: 'user.created',
        aggregateType: 'user',
        aggregateId: uuidv7(),
        payload: { id: 'import-0042', email: '', display_name: 'Imported' },
      },
    ]),
  );
  return eventId;
};

export const dlqSpikeDrill: Drill = {
  name: 'dlq-spike',
  title: 'DLQ Spike',
  source: 'Incident Response > DLQ Spike; DLQ Management > Recovery Procedures; Log-Based Monitoring',
  run: async (kit) => {
    const { out, urls } = kit;
    out.step(
      `(setup) a handler defect ships: a burst of ${BURST} events fails, plus one event with bad data`,
    );
    out.command(
      `curl -X POST ${urls.backend}/api/users   # ${BURST} times`,
      'the consumer handler fails every event meanwhile',
    );
    kit.faults.handler.failing = true;
    const logsBefore = kit.logLines().length;
    const burst = (await kit.createUsers(BURST)).map((u) => u.eventId);
    const badEventId = await writeBadEvent(kit);
    const all = [...burst, badEventId];
    const dead = await kit.waitFor(async () => {
      const entries = await kit.deadLetters(all);
      return entries.length === all.length ? entries : undefined;
    });
    out.command(
      'grep "Moved event.*to DLQ" /var/log/markdown-manager/*.log | wc -l',
      "counted in this drill's service log lines",
    );
    const moved = kit
      .logLines()
      .slice(logsBefore)
      .filter((line) => /Moved event .* to DLQ/.test(line)).length;
    out.evidence(String(moved));
    const spiked = out.check(
      dead !== undefined && moved === all.length,
      `${all.length} events moved to ${kit.dlqStream}, each logged as "Moved event <id> to DLQ"`,
      `${dead?.length ?? 0} dead letters, ${moved} log lines`,
    );
    if (!spiked) return;

    out.step('1. Identify error patterns using DLQ report');
    const reportFlags = { stream: kit.dlqStream, hours: '1' };
    out.command(kit.dlqLine('report', reportFlags));
    out.evidence((await kit.dlq('report', reportFlags)).stdout);
    const { groups } = await reportGroups(kit);
    const defect = groups.find((g) => g.error_class === 'TypeError' && g.open >= BURST);
    const data = groups.find((g) => g.error_class === 'ValidationError' && g.open >= 1);
    out.check(
      defect !== undefined && data !== undefined,
      `the report groups them by fingerprint: ${defect?.open} x ${defect?.fingerprint} (${defect?.error_class}), ${data?.open} x ${data?.fingerprint} (${data?.error_class})`,
      JSON.stringify(groups.map((g) => [g.fingerprint, g.error_class, g.open])),
    );

    out.step('2. Check for data/schema issues');
    const [bad] = await kit.deadLetters([badEventId]);
    const inspect = { stream: kit.dlqStream, id: bad?.id ?? badEventId };
    out.command(kit.dlqLine('inspect', inspect));
    out.evidence((await kit.dlq('inspect', inspect)).stdout);
    const resolve = { ...inspect, note: 'bad import data (no user id, no email): fixed at the source' };
    out.command(kit.dlqLine('resolve', resolve), 'data no code fix can apply: closed with an audit record');
    const resolved = await kit.dlq('resolve', resolve);
    out.evidence(resolved.stdout);
    out.check(
      resolved.code === 0 && /^resolved /.test(resolved.stdout),
      `the bad event's dead letter is resolved`,
    );

    out.step('3. Fix root cause in code');
    out.command('(deploy the fixed consumer)', 'the handler defect is switched off');
    kit.faults.handler.failing = false;

    out.step('4. Reprocess failed messages');
    const bulk = {
      stream: kit.dlqStream,
      fingerprint: defect?.fingerprint ?? '',
      note: 'handler fixed',
    };
    out.command(kit.dlqLine('reprocess', bulk));
    const reprocessed = await kit.dlq('reprocess', bulk);
    out.evidence(reprocessed.stdout);
    out.check(
      reprocessed.code === 0,
      `mm-dlq reprocessed the ${BURST} dead letters of fingerprint ${defect?.fingerprint}`,
    );

    out.step('Monitor: check metrics to ensure success');
    const applied = await kit.waitFor(async () => {
      const rows = await kit.sql<{ event_id: string; version: number }>(
        `SELECT l.event_id, p.version FROM event_ledger l JOIN lint_profiles p ON p.last_event_id = l.event_id
         WHERE l.consumer_group = $1 AND l.event_id IN (${kit.placeholders(BURST, 2)})`,
        [kit.group, ...burst],
      );
      return rows.length === BURST ? rows : undefined;
    });
    out.command(`curl ${urls.consumer}/metrics`);
    out.evidence(JSON.stringify((await kit.getJson(`${urls.consumer}/metrics`)).body, null, 2));
    out.command(kit.dlqLine('report', reportFlags));
    out.evidence((await kit.dlq('report', reportFlags)).stdout);
    const after = await reportGroups(kit);
    out.check(after.open === 0, `the DLQ backlog is back to 0 open dead letters`, `${after.open} open`);
    out.command(
      kit.place.sqlLine(
        'SELECT consumer_group, result, count(*), min(p.version), max(p.version) FROM event_ledger JOIN lint_profiles p … WHERE event_id IN (…burst…)',
      ),
    );
    const summary = await kit.sql(
      `SELECT l.consumer_group, l.result, count(*) AS events, min(p.version) AS min_version, max(p.version) AS max_version
       FROM event_ledger l JOIN lint_profiles p ON p.last_event_id = l.event_id
       WHERE l.event_id IN (${kit.placeholders(BURST)}) GROUP BY l.consumer_group, l.result`,
      burst,
    );
    out.evidence(psqlTable(summary, ['consumer_group', 'result', 'events', 'min_version', 'max_version']));
    out.check(
      applied?.every((r) => Number(r.version) === 1) === true,
      `all ${BURST} events applied exactly once after the fix (one ledger row each, profiles at version 1)`,
    );
  },
};

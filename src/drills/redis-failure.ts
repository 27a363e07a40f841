// Drill "Redis Failure Recovery": the stream store goes down while events are written; the relay
// retries (health says so), nothing is dead-lettered or loses an attempt, and once the store is
// back every event is published and applied.
import { busCheckName } from '../core/dependency-checks.ts';
import type { Drill } from './drill.ts';
import { healthSummary, psqlTable } from './drill-output.ts';

const EVENTS = 20;

const numberAt = (value: unknown, key: string): number =>
  Number((value as Record<string, unknown> | undefined)?.[key] ?? 0);

export const redisFailureDrill: Drill = {
  name: 'redis-failure',
  title: 'Redis Failure Recovery',
  source: 'Recovery Drills > Redis Failure Recovery; Incident Response > Service Health Degraded',
  run: async (kit) => {
    const { out, urls } = kit;
    const before = (await kit.getJson(`${urls.relay}/metrics`)).body;
    const consumerBefore = (await kit.getJson(`${urls.consumer}/metrics`)).body;
    const dlqBefore = await kit.bus.len(kit.dlqStream);

    out.step('Stop Redis');
    out.command(
      'docker compose stop redis',
      'every stream operation now fails, as with a stopped Redis (the store is fine; the fault is in front of it)',
    );
    kit.faults.bus.unavailable = true;

    out.step('(meanwhile the application keeps writing: users and their events go to the database)');
    out.command(`curl -X POST ${urls.backend}/api/users   # ${EVENTS} times`);
    const users = await kit.createUsers(EVENTS);
    const eventIds = users.map((u) => u.eventId);
    out.evidence(`${EVENTS} x HTTP 201: the backend needs only the database; the events wait in the outbox`);

    out.step('Verify relay retries and consumers wait');
    out.command(`curl ${urls.relay}/health/detailed`);
    const relayDown = await kit.waitFor(async () => {
      const answer = await kit.getJson(`${urls.relay}/health/detailed`);
      const relay = (answer.body.checks as Record<string, { status?: string }> | undefined)?.relay;
      return relay?.status === 'unhealthy' ? answer : undefined;
    });
    const relayHealth = relayDown ?? (await kit.getJson(`${urls.relay}/health/detailed`));
    out.evidence(`HTTP ${relayHealth.status}\n${JSON.stringify(healthSummary(relayHealth.body), null, 2)}`);
    out.check(
      relayDown !== undefined && relayHealth.body.status !== 'healthy',
      `relay /health/detailed is ${String(relayHealth.body.status)}: it retries the stream store with backoff`,
      JSON.stringify(healthSummary(relayHealth.body)),
    );
    out.command(`curl ${urls.consumer}/health/detailed`);
    const consumerHealth = await kit.getJson(`${urls.consumer}/health/detailed`);
    out.evidence(
      `HTTP ${consumerHealth.status}\n${JSON.stringify(healthSummary(consumerHealth.body), null, 2)}`,
    );
    out.check(
      consumerHealth.body.status === 'degraded' || consumerHealth.body.status === 'unhealthy',
      `consumer /health/detailed is ${String(consumerHealth.body.status)}: it waits for the stream store`,
    );
    out.command(
      kit.place.sqlLine(`SELECT count(*), max(attempts) FROM outbox WHERE event_id IN (…${EVENTS} ids…)`),
    );
    const [waiting] = await kit.sql<{ n: number | string; attempts: number | string | null }>(
      `SELECT count(*) AS n, max(attempts) AS attempts FROM outbox WHERE event_id IN (${kit.placeholders(EVENTS)})`,
      eventIds,
    );
    out.evidence(psqlTable([{ count: waiting?.n, max_attempts: waiting?.attempts }]));
    out.check(
      Number(waiting?.n) === EVENTS && Number(waiting?.attempts ?? 0) === 0,
      `all ${EVENTS} events wait in the outbox and none had an attempt counted (an outage is not the event's fault)`,
      `${waiting?.n} rows, max attempts ${waiting?.attempts}`,
    );

    out.step('Restart Redis');
    out.command('docker compose start redis', 'the stream store answers again');
    kit.faults.bus.unavailable = false;

    out.step('Verify services recover');
    const applied = await kit.waitFor(async () => {
      const [row] = await kit.sql<{ n: number | string }>(
        `SELECT count(*) AS n FROM event_ledger WHERE consumer_group = $1 AND event_id IN (${kit.placeholders(EVENTS, 2)})`,
        [kit.group, ...eventIds],
      );
      return Number(row?.n) === EVENTS ? EVENTS : undefined;
    });
    out.command(`curl ${urls.relay}/metrics`);
    const after = (await kit.getJson(`${urls.relay}/metrics`)).body;
    out.evidence(JSON.stringify(after, null, 2));
    const published =
      numberAt(after.events_published_total, kit.topic) - numberAt(before.events_published_total, kit.topic);
    out.check(
      published >= EVENTS,
      `events_published_total.${kit.topic} rose by ${published} (${EVENTS} events written during the outage)`,
    );
    const relayDlq =
      numberAt(after.events_dlq_total, kit.topic) - numberAt(before.events_dlq_total, kit.topic);
    const consumerAfter = (await kit.getJson(`${urls.consumer}/metrics`)).body;
    const consumerDlq =
      numberAt(consumerAfter.events_dlq_total, kit.topic) -
      numberAt(consumerBefore.events_dlq_total, kit.topic);
    const dlqAfter = await kit.bus.len(kit.dlqStream);
    out.check(
      relayDlq === 0 && consumerDlq === 0 && dlqAfter === dlqBefore,
      `nothing dead-lettered: events_dlq_total unchanged on relay and consumer, ${kit.dlqStream} still holds ${dlqAfter}`,
      `relay +${relayDlq}, consumer +${consumerDlq}, ${kit.dlqStream} ${dlqBefore} -> ${dlqAfter}`,
    );
    out.command(
      kit.place.sqlLine(
        'SELECT consumer_group, result, count(*) FROM event_ledger WHERE event_id IN (…) GROUP BY 1, 2',
      ),
    );
    const ledger = await kit.sql(
      `SELECT consumer_group, result, count(*) AS count FROM event_ledger WHERE event_id IN (${kit.placeholders(EVENTS)}) GROUP BY consumer_group, result`,
      eventIds,
    );
    out.evidence(psqlTable(ledger));
    out.check(
      applied === EVENTS,
      `every one of the ${EVENTS} events arrived and was applied once by ${kit.group}`,
    );
    out.command(`curl ${urls.relay}/health/detailed`);
    const store = busCheckName(kit.bus);
    const healthy = await kit.waitFor(async () => {
      const answer = await kit.getJson(`${urls.relay}/health/detailed`);
      const checks = answer.body.checks as Record<string, { status?: string }> | undefined;
      return checks?.relay?.status === 'healthy' && checks[store]?.status === 'healthy' ? answer : undefined;
    });
    const relayAfter = healthy ?? (await kit.getJson(`${urls.relay}/health/detailed`));
    out.evidence(JSON.stringify(healthSummary(relayAfter.body), null, 2));
    out.check(
      healthy !== undefined,
      `relay reports the stream store ("${store}") and its loop healthy again`,
      JSON.stringify(healthSummary(relayAfter.body)),
    );
  },
};

// The console lists the services that announced themselves and marks the ones that went silent, in
// both modes (Redis with a key prefix; the local file): on the overview the console app renders, and
// in the probes it renders from. Announcers and console share a test clock, so "15 s without a
// refresh" and "past the TTL" take no waiting; then real relay and consumer binaries, one killed
// with SIGKILL, against the console at the moment the killed one's silence begins.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Hono } from 'hono';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { createRedisClient } from '../src/adapters/redis/client.ts';
import type { RedisConnection } from '../src/adapters/redis/connection.ts';
import { createRedisServiceRegistry } from '../src/adapters/redis/service-registry.ts';
import { acquireConnection, type SqliteConnection } from '../src/adapters/sqlite/driver/connection.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { createSqliteServiceRegistry } from '../src/adapters/sqlite/service-registry.ts';
import { type Console, createConsole } from '../src/console/console.ts';
import { probeService, reasonsOf } from '../src/console/data/probe.ts';
import { ANNOUNCE_TTL_MS, type Announcer, SILENT_AFTER_MS, startAnnouncing } from '../src/core/announce.ts';
import { TransientError } from '../src/core/errors.ts';
import { silentLogger } from '../src/core/logger.ts';
import { filePlace, type Place, redisPlace } from '../src/dlq/model/place.ts';
import { type HttpServer, serveHttp } from '../src/http/serve.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { ServiceRecord, ServiceRegistry } from '../src/ports/service-registry.ts';
import type { Store } from '../src/ports/store.ts';
import { assertNoBinariesLeft, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { createTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

/** The ports a console reads, in one mode; registries read `now` (the test clock unless omitted). */
type ModeFixture = {
  readonly bus: Bus;
  readonly store: Store | undefined;
  readonly place: Place;
  /** A registry client of its own, as each process has. */
  openRegistry(now?: () => number): Promise<ServiceRegistry>;
  /** Flags for the binaries to run on the same data. */
  readonly binaryArgs: readonly string[];
  cleanup(): Promise<void>;
};

const redisMode = async (): Promise<ModeFixture> => {
  const [redis, db] = await Promise.all([createTestRedis(), createTestDatabase()]);
  const clients: RedisConnection[] = [];
  const client = (): RedisConnection => {
    const opened = createRedisClient({ url: redis.url, logger: silentLogger });
    clients.push(opened);
    return opened;
  };
  const bus = createRedisBus(client(), { keyPrefix: redis.prefix });
  return {
    bus,
    store: undefined,
    place: redisPlace(redis.url, redis.prefix),
    openRegistry: async (now) =>
      createRedisServiceRegistry(client(), { keyPrefix: redis.prefix, ...(now ? { now } : {}) }),
    binaryArgs: ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix],
    cleanup: async () => {
      await bus.close();
      for (const opened of clients) opened.disconnect();
      await Promise.all([redis.cleanup(), db.drop()]);
    },
  };
};

const localMode = async (): Promise<ModeFixture> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-console-registry-'));
  const file = join(dir, 'local.db');
  const local = await openLocalPorts({ file, logger: silentLogger });
  const connections: SqliteConnection[] = [];
  return {
    bus: local.bus,
    store: local.store,
    place: filePlace(file),
    openRegistry: async (now) => {
      const connection = await acquireConnection({ file });
      connections.push(connection);
      return createSqliteServiceRegistry(connection, now ? { now } : {});
    },
    binaryArgs: ['--local', file],
    cleanup: async () => {
      await Promise.all(connections.map((connection) => connection.release()));
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** A service's registry client that can lose its connection, as a process cut off from Redis does. */
const severable = (registry: ServiceRegistry) => {
  let severed = false;
  const lost = () => Promise.reject(new TransientError('registry unreachable'));
  return {
    registry: {
      announce: (record, options) => (severed ? lost() : registry.announce(record, options)),
      withdraw: (role, name) => (severed ? lost() : registry.withdraw(role, name)),
      list: () => (severed ? lost() : registry.list()),
    } satisfies ServiceRegistry,
    sever: () => {
      severed = true;
    },
  };
};

/** A service's own endpoints: healthy, with the JSON metrics the console reads. */
const serveHealthy = (): Promise<HttpServer> => {
  const app = new Hono();
  app.get('/health/detailed', (c) =>
    c.json({ status: 'healthy', checks: { database: { status: 'healthy' } } }),
  );
  app.get('/metrics', (c) => c.json({ events_consumed_total: {} }));
  return serveHttp(app, { host: '127.0.0.1', port: 0 });
};

const START_TOKEN = 'console-registry-start-token';

const consoleOn = (fixture: ModeFixture, registry: ServiceRegistry, now: () => number): Console =>
  createConsole(
    {
      bus: fixture.bus,
      store: fixture.store,
      registry,
      logger: silentLogger,
      openCaseFile: () => Promise.reject(new Error('no exports in this test')),
      place: fixture.place,
      now,
    },
    {
      host: '127.0.0.1',
      port: 0,
      topics: ['identity'],
      users: [],
      sessionTtlMs: 24 * 3_600_000,
      secureCookies: false,
      reprocessRate: 50,
      startToken: START_TOKEN,
    },
  );

type Card = { readonly role: string; readonly name: string; readonly status: string; readonly text: string };

/** The overview as an operator's browser gets it, reduced to its service cards and the healthy count. */
const overview = async (app: Console['app']): Promise<{ cards: Card[]; healthy: string }> => {
  const signIn = await app.request(`/?token=${START_TOKEN}`);
  const cookie = signIn.headers.get('set-cookie')?.split(';')[0] ?? '';
  const response = await app.request('/', { headers: { cookie } });
  assert.equal(response.status, 200);
  const html = await response.text();
  const cards = [
    ...html.matchAll(
      /<div class="card service" data-role="([^"]*)" data-name="([^"]*)" data-status="([^"]*)">(.*?)<\/ul><\/div>/gs,
    ),
  ].map(([, role = '', name = '', status = '', inner = '']) => ({
    role,
    name,
    status,
    text: inner.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '),
  }));
  const healthy = /<b id="healthy-count">(.*?)<\/b>/s.exec(html)?.[1]?.replace(/\s+/g, ' ') ?? '';
  return { cards, healthy };
};

type PartitionRow = {
  readonly stream: string;
  readonly group: string;
  readonly relay: string;
  readonly owner: string;
};

/** The streams page as an operator's browser gets it: its heading per topic and one row per partition and group. */
const streamsPage = async (app: Console['app']): Promise<{ headings: string[]; rows: PartitionRow[] }> => {
  const signIn = await app.request(`/?token=${START_TOKEN}`);
  const cookie = signIn.headers.get('set-cookie')?.split(';')[0] ?? '';
  const response = await app.request('/streams', { headers: { cookie } });
  assert.equal(response.status, 200);
  const html = await response.text();
  const headings = [...html.matchAll(/<h2>(.*?)<\/h2>/gs)].map(([, inner = '']) =>
    inner
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  const rows = [
    ...html.matchAll(
      /<tr data-stream="([^"]*)" data-group="([^"]*)">.*?<td class="small relay">(.*?)<\/td>.*?<td class="small owner">(.*?)<\/td>/gs,
    ),
  ].map(([, stream = '', group = '', relay = '', owner = '']) => ({ stream, group, relay, owner }));
  return { headings, rows };
};

const cardOf = (cards: readonly Card[], name: string): Card => {
  const card = cards.find((c) => c.name === name);
  assert.ok(card, `a card for ${name} among ${cards.map((c) => c.name).join(', ')}`);
  return card;
};

const iso = (ms: number): string => new Date(ms).toISOString();

const modes = [
  { name: 'redis', open: redisMode, skip: await skipUnless('redis', 'postgres') },
  { name: 'local file', open: localMode, skip: false as const },
];

for (const mode of modes) {
  describe(`console: registered services and silent ones (${mode.name})`, { skip: mode.skip }, () => {
    let fixture: ModeFixture;
    const stoppers: Array<() => Promise<unknown>> = [];
    beforeEach(async () => {
      fixture = await mode.open();
    });
    afterEach(async () => {
      for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => {});
      await fixture.cleanup();
      assertNoBinariesLeft();
    });

    it('marks a service that stopped announcing as silent, one that announces on as live; drops it past its TTL', async () => {
      const t0 = 1_900_000_000_000;
      let clock = t0;
      const now = () => clock;
      const registry = await fixture.openRegistry(now);
      const [live, quiet] = [await serveHealthy(), await serveHealthy()];
      stoppers.push(
        () => live.close(),
        () => quiet.close(),
      );
      const quietLink = severable(await fixture.openRegistry(now));
      // Both renew every 20 ms of real time, each renewal stamped with the test clock.
      const announce = { logger: silentLogger, now, intervalMs: 20 };
      const announcers: Announcer[] = [
        startAnnouncing(
          { ...announce, registry: await fixture.openRegistry(now), role: 'relay', name: 'relay-live' },
          live.url,
        ),
        startAnnouncing(
          { ...announce, registry: quietLink.registry, role: 'consumer', name: 'consumer-quiet' },
          quiet.url,
        ),
      ];
      stoppers.push(...announcers.map((announcer) => () => announcer.stop()));
      const consolePart = consoleOn(fixture, registry, now);
      const seenAt = async (name: string): Promise<string | undefined> =>
        (await registry.list()).find((record) => record.name === name)?.lastSeenAt;

      await eventually(async () => (await registry.list()).length === 2);
      const fresh = await overview(consolePart.app);
      assert.deepEqual(
        fresh.cards.map((card) => [card.role, card.name, card.status]),
        [
          ['consumer', 'consumer-quiet', 'healthy'],
          ['relay', 'relay-live', 'healthy'],
        ],
      );
      assert.equal(fresh.healthy, '2 of 2');
      const [listed] = (await registry.list()).filter((record) => record.name === 'relay-live');
      assert.match(
        cardOf(fresh.cards, 'relay-live').text,
        new RegExp(`${live.url} relay-live · v${listed?.version} · up since 0 s ago · seen 0 s ago`),
        'the card shows what the service registered: URL, name, version, start and last announce',
      );

      // The quiet one loses its registry connection: it serves on, but its record is not refreshed.
      quietLink.sever();
      clock = t0 + SILENT_AFTER_MS + 1_000;
      await eventually(async () => (await seenAt('relay-live')) === iso(clock), 5_000);
      const records = await registry.list();
      assert.deepEqual(
        records.map((record) => [record.name, record.lastSeenAt]),
        [
          ['consumer-quiet', iso(t0)],
          ['relay-live', iso(clock)],
        ],
        'both are still registered: the quiet one is within its TTL',
      );
      const probes = await Promise.all(records.map((record) => probeService(fetch, record, clock)));
      assert.deepEqual(
        probes.map((probe) => [probe.record.name, probe.silent, probe.status]),
        [
          ['consumer-quiet', true, 'healthy'],
          ['relay-live', false, 'healthy'],
        ],
      );
      assert.deepEqual(probes.map(reasonsOf), [[`silent: last announced ${iso(t0)}`], []]);
      const silent = await overview(consolePart.app);
      const quietCard = cardOf(silent.cards, 'consumer-quiet');
      assert.equal(quietCard.status, 'silent');
      assert.match(quietCard.text, new RegExp(`silent: last announced ${iso(t0)}`));
      assert.match(quietCard.text, /seen 16 s ago/);
      assert.equal(cardOf(silent.cards, 'relay-live').status, 'healthy');
      assert.equal(silent.healthy, '1 of 2');

      // Then it dies: still silent (not merely unreachable), and the card says both.
      await quiet.close();
      clock += 6_000;
      await eventually(async () => (await seenAt('relay-live')) === iso(clock), 5_000);
      const dead = cardOf((await overview(consolePart.app)).cards, 'consumer-quiet');
      assert.equal(dead.status, 'silent');
      assert.match(dead.text, /silent: last announced .* did not answer/);

      // Past its TTL the record is gone, and the console lists only what is registered.
      clock = t0 + ANNOUNCE_TTL_MS + 1;
      await eventually(async () => (await seenAt('relay-live')) === iso(clock), 5_000);
      const later = await overview(consolePart.app);
      assert.deepEqual(
        later.cards.map((card) => [card.name, card.status]),
        [['relay-live', 'healthy']],
      );
      assert.equal(later.healthy, '1 of 1');
    });

    it('shows each partition of a topic with the relay that feeds it and the consumer of the group that owns it', async () => {
      const registry = await fixture.openRegistry();
      const consolePart = consoleOn(fixture, registry, Date.now);
      const relay = await startBinary('mm-relay', ['run', ...fixture.binaryArgs, '--partitions', '2']);
      stoppers.push(() => relay.stop());
      for (const name of ['lint-1', 'lint-2']) {
        const consumer = await startBinary('mm-consumer', ['run', ...fixture.binaryArgs, '--name', name]);
        stoppers.push(() => consumer.stop());
      }
      const relayName = await eventually(
        async () => (await registry.list()).find((record) => record.role === 'relay')?.name,
        15_000,
      );
      // The consumers share the two partitions (one each once both are members); the relay drains both.
      const page = await eventually(
        async () => {
          const shown = await streamsPage(consolePart.app);
          const owners = shown.rows.map((row) => row.owner).sort();
          return shown.rows.length === 2 && owners[0] === 'lint-1' && owners[1] === 'lint-2' && shown;
        },
        20_000,
        { message: 'both partitions shown, each owned by one of the two consumers' },
      );
      assert.deepEqual(page.headings, ['identity 2 partitions, 0 entries']);
      assert.deepEqual(
        page.rows.map((row) => [row.stream, row.group, row.relay]),
        [
          ['identity:0', 'markdown-lint-consumer', relayName],
          ['identity:1', 'markdown-lint-consumer', relayName],
        ],
      );
    });

    it('shows a relay killed with SIGKILL as unreachable, then silent, while the live consumer stays healthy', async () => {
      const registry = await fixture.openRegistry();
      let clock = Date.now();
      const consolePart = consoleOn(fixture, registry, () => clock);
      const relay = await startBinary('mm-relay', ['run', ...fixture.binaryArgs]);
      stoppers.push(() => relay.stop('SIGKILL'));
      const consumer = await startBinary('mm-consumer', ['run', ...fixture.binaryArgs, '--name', 'lint-1']);
      stoppers.push(() => consumer.stop());
      const byRole = async (role: ServiceRecord['role']) =>
        (await registry.list()).find((record) => record.role === role);
      await eventually(async () => (await byRole('relay')) && (await byRole('consumer')), 15_000);
      // Healthy once it holds its partition and its group exists: only then is the relay's death the news.
      const consumerStatus = async () =>
        ((await (await fetch(`${consumer.url}/health/detailed`)).json()) as { status: string }).status;
      await eventually(async () => (await consumerStatus()) === 'healthy', 15_000, {
        message: 'the consumer is healthy',
      });

      assert.equal(await relay.stop('SIGKILL'), null);
      const lastOfRelay = await byRole('relay');
      assert.ok(lastOfRelay, 'a killed relay withdraws nothing: its record stays until its TTL');
      const relaySeen = Date.parse(lastOfRelay.lastSeenAt);
      clock = Date.now();
      const justKilled = await overview(consolePart.app);
      assert.equal(cardOf(justKilled.cards, lastOfRelay.name).status, 'unreachable');
      assert.equal(cardOf(justKilled.cards, 'lint-1').status, 'healthy');

      // The consumer announces on (every 5 s); the relay's silence begins 15 s after its last announce.
      await eventually(
        async () => Date.parse((await byRole('consumer'))?.lastSeenAt ?? '') > relaySeen + 1_000,
        10_000,
      );
      clock = relaySeen + SILENT_AFTER_MS + 500;
      // A console opened now: the first one may still hold its probes of a moment ago (5 s).
      const later = await overview(consoleOn(fixture, registry, () => clock).app);
      const relayCard = cardOf(later.cards, lastOfRelay.name);
      assert.equal(relayCard.status, 'silent');
      assert.match(relayCard.text, new RegExp(`silent: last announced ${lastOfRelay.lastSeenAt}`));
      assert.match(relayCard.text, /did not answer/);
      assert.equal(cardOf(later.cards, 'lint-1').status, 'healthy');
      assert.equal(later.healthy, '1 of 2');
      assert.equal(await consumer.stop(), 0);
    });
  });
}

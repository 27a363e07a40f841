// Relay test support: an in-process relay on a test database and key prefix, events written
// through the users service, and readers that check what reached a stream.
import assert from 'node:assert/strict';
import type { Registry } from 'prom-client';
import { createRedisBus } from '../../src/adapters/redis/bus.ts';
import { createRedisClient } from '../../src/adapters/redis/client.ts';
import { createUserService } from '../../src/backend/user-service.ts';
import { createLogger, type Logger, silentLogger } from '../../src/core/logger.ts';
import { createMetricsRegistry } from '../../src/core/metrics.ts';
import type { Bus, StreamEntry } from '../../src/ports/bus.ts';
import type { Store } from '../../src/ports/store.ts';
import { relayDefaults } from '../../src/relay/config.ts';
import { createRelay, type Relay, type RelayOptions } from '../../src/relay/relay.ts';
import { eventually } from './eventually.ts';

export const createTestBus = (url: string, keyPrefix: string): Bus =>
  createRedisBus(createRedisClient({ url, logger: silentLogger, commandTimeoutMs: 2_000 }), { keyPrefix });

export type CapturedLogger = { readonly logger: Logger; readonly lines: () => string[] };

export const captureLogger = (): CapturedLogger => {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', sink: (line) => lines.push(line) }), lines: () => lines };
};

export type TestRelay = {
  readonly relay: Relay;
  readonly registry: Registry;
  readonly logs: () => string[];
};

export const startTestRelay = async (
  deps: { store: Store; bus: Bus },
  options: Partial<RelayOptions> = {},
): Promise<TestRelay> => {
  const registry = createMetricsRegistry({ defaults: false });
  const captured = captureLogger();
  const relay = createRelay(
    { ...deps, logger: captured.logger, registry },
    {
      ...relayDefaults,
      host: '127.0.0.1',
      port: 0,
      topics: ['identity'],
      pollIntervalMs: 100,
      healthIntervalMs: 60_000,
      ...options,
    },
  );
  await relay.start();
  return { relay, registry, logs: captured.lines };
};

export type WrittenEvent = { readonly eventId: string; readonly aggregateId: string };

/**
 * Writes `users` users and `updatesPerUser` updates of each through the users service (one
 * transaction per event, like the backend), `concurrency` users at a time; returns the events.
 */
export const writeUserEvents = async (
  store: Store,
  options: { users: number; updatesPerUser: number; concurrency?: number; tag?: string },
): Promise<WrittenEvent[]> => {
  const service = createUserService(store);
  const written: WrittenEvent[] = [];
  const tag = options.tag ?? Math.random().toString(36).slice(2, 8);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.users) {
      const n = next++;
      const created = await service.create({ email: `u${n}-${tag}@example.com`, displayName: `U${n}` });
      written.push({ eventId: created.eventId, aggregateId: created.user.id });
      for (let v = 1; v <= options.updatesPerUser; v += 1) {
        const updated = await service.update(created.user.id, { displayName: `U${n} v${v}` });
        written.push({ eventId: updated.eventId, aggregateId: created.user.id });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return written;
};

/** Every entry of a stream, read in slices. */
export const readStream = async (bus: Bus, stream: string): Promise<StreamEntry[]> => {
  const all: StreamEntry[] = [];
  let start = '-';
  for (;;) {
    const slice = await bus.range(stream, { start, count: 5_000 });
    all.push(...slice);
    const last = slice[slice.length - 1];
    if (!last || slice.length < 5_000) return all;
    start = `(${last.id}`;
  }
};

export const distinctEventIds = (entries: readonly StreamEntry[]): Set<string> =>
  new Set(entries.map((e) => e.fields.event_id ?? ''));

/**
 * Per aggregate, the first appearance of each event follows outbox order (outbox_id ascending);
 * duplicates (at-least-once) may appear later and are ignored.
 */
export const assertPerAggregateOrder = (entries: readonly StreamEntry[]): void => {
  const seen = new Set<string>();
  const lastOutboxId = new Map<string, bigint>();
  for (const { id, fields } of entries) {
    const eventId = fields.event_id ?? '';
    if (seen.has(eventId)) continue;
    seen.add(eventId);
    const aggregate = `${fields.aggregate_type}/${fields.aggregate_id}`;
    const outboxId = BigInt(fields.outbox_id ?? '0');
    const previous = lastOutboxId.get(aggregate);
    assert.ok(
      previous === undefined || previous < outboxId,
      `aggregate ${aggregate}: outbox row ${outboxId} (entry ${id}) arrived after row ${previous}`,
    );
    lastOutboxId.set(aggregate, outboxId);
  }
};

export const jsonMetrics = async (relay: Relay): Promise<Record<string, unknown>> =>
  (await (await relay.app.request('/metrics')).json()) as Record<string, unknown>;

/** Waits until the JSON metrics satisfy `holds`, then returns them. */
export const metricsWhen = async (
  relay: Relay,
  holds: (metrics: Record<string, unknown>) => boolean,
  timeoutMs = 5_000,
): Promise<Record<string, unknown>> => {
  let seen: Record<string, unknown> = {};
  await eventually(
    async () => {
      seen = await jsonMetrics(relay);
      return holds(seen);
    },
    timeoutMs,
    { message: `metrics condition (last seen ${JSON.stringify(seen)})` },
  );
  return seen;
};

export type DetailedHealth = {
  readonly status: string;
  readonly checks: Record<string, { status: string; reason?: string; [detail: string]: unknown }>;
};

export const detailedHealth = async (relay: Relay): Promise<DetailedHealth> =>
  (await (await relay.app.request('/health/detailed')).json()) as DetailedHealth;

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter } from 'prom-client';
import type { HealthCheck } from '../core/health.ts';
import { silentLogger } from '../core/logger.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { createServicePart, type ServicePartOptions } from './service-part.ts';

// The health monitor runs its first check at once when it starts, so one turn of the event loop
// shows whether it started.
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A part whose check counts its runs and whose hooks write what happened, in order, to `events`. */
const partFor = (overrides: Partial<ServicePartOptions> = {}) => {
  const events: string[] = [];
  let checkRuns = 0;
  let url = '';
  const check: HealthCheck = {
    name: 'database',
    run: async () => {
      checkRuns += 1;
      return { status: 'healthy', kind: 'test' };
    },
  };
  const registry = createMetricsRegistry({ defaults: false });
  const done = new Counter({ name: 'mm_test_done_total', help: 'test', registers: [registry] });
  done.inc(3);
  const part = createServicePart({
    service: 'relay',
    logger: silentLogger,
    registry,
    host: '127.0.0.1',
    port: 0,
    checks: [check],
    healthIntervalMs: 10,
    metrics: { json: async () => ({ done: 3 }), path: '/metrics' },
    start: (server) => {
      url = server.url;
      events.push(`start ${server.port > 0}`);
    },
    stop: async ({ deadline }) => {
      events.push(`stop ${deadline}`);
      // Draining: the listener still answers, so health can be watched until the end.
      const live = await fetch(`${url}/health`).then(
        (response) => response.status,
        () => 'closed',
      );
      events.push(`drained, /health answered ${live}`);
    },
    ...overrides,
  });
  return { part, events, checkRuns: () => checkRuns };
};

describe('createServicePart', () => {
  it('serves liveness, detailed health, JSON and Prometheus metrics on its listener', async () => {
    const { part, events } = partFor();
    const server = await part.start();
    try {
      assert.deepEqual(events, ['start true']);
      const live = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
      assert.equal(live.status, 'healthy');
      assert.equal(live.service, 'relay');
      const detailed = await fetch(`${server.url}/health/detailed`);
      assert.equal(detailed.status, 200);
      const report = (await detailed.json()) as { checks: Record<string, { status: string; kind: string }> };
      assert.deepEqual(
        { status: report.checks.database?.status, kind: report.checks.database?.kind },
        { status: 'healthy', kind: 'test' },
      );
      assert.deepEqual(await (await fetch(`${server.url}/metrics`)).json(), { done: 3 });
      assert.match(await (await fetch(`${server.url}/metrics/prometheus`)).text(), /^mm_test_done_total 3$/m);
    } finally {
      await part.stop();
    }
  });

  it('drains the service by the deadline before the listener closes, once however often it is called', async () => {
    const { part, events } = partFor();
    const server = await part.start();
    const deadline = Date.now() + 5_000;
    const first = part.stop({ deadline });
    const second = part.stop({ deadline: 1 });
    assert.equal(first, second);
    await first;
    assert.deepEqual(events, ['start true', `stop ${deadline}`, 'drained, /health answered 200']);
    await assert.rejects(fetch(`${server.url}/health`));
  });

  it('runs background checks only once `healthFrom` settles, and never after a stop', async () => {
    let ready: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const { part, checkRuns } = partFor({ healthFrom: () => gate });
    await part.start();
    try {
      await nextTurn();
      assert.equal(checkRuns(), 0, 'no background check before the service is ready');
    } finally {
      await part.stop();
    }
    ready();
    await gate;
    await nextTurn();
    assert.equal(checkRuns(), 0, 'no background check after the stop');
  });

  it('starts background checks with the service when it has no readiness to wait for', async () => {
    // A long interval: only the first check, run as the monitor starts, can have happened.
    const { part, checkRuns } = partFor({ healthIntervalMs: 60_000 });
    await part.start();
    try {
      await nextTurn();
      assert.equal(checkRuns(), 1);
    } finally {
      await part.stop();
    }
  });
});

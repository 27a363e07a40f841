import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealthMonitor, type HealthCheck, worstStatus } from './health.ts';
import { createLogger } from './logger.ts';

const fixed = (
  name: string,
  result: () => Promise<{ status: 'healthy' | 'degraded' | 'unhealthy'; reason?: string }>,
) => ({ name, run: result }) satisfies HealthCheck;

describe('health model', () => {
  it('takes the worst status', () => {
    assert.equal(worstStatus(['healthy', 'degraded']), 'degraded');
    assert.equal(worstStatus(['degraded', 'unhealthy', 'healthy']), 'unhealthy');
    assert.equal(worstStatus([]), 'healthy');
  });

  it('turns a failing or stalled check into unhealthy with its reason', async () => {
    const lines: string[] = [];
    const monitor = createHealthMonitor({
      service: 'test',
      logger: createLogger({ sink: (line) => lines.push(line) }),
      timeoutMs: 50,
      checks: [
        fixed('database', async () => ({ status: 'healthy' })),
        fixed('redis', () => new Promise(() => {})),
        fixed('disk', async () => {
          throw new Error('disk on fire');
        }),
      ],
    });
    const report = await monitor.check();
    assert.equal(report.status, 'unhealthy');
    assert.equal(report.checks.database?.status, 'healthy');
    assert.match(String(report.checks.redis?.reason), /did not answer within 50 ms/);
    assert.equal(report.checks.disk?.reason, 'disk on fire');
    assert.match(lines.join(''), /Service test is unhealthy: redis: .*disk: disk on fire/);
  });

  it('logs each change of overall status once, with greppable words', async () => {
    const lines: string[] = [];
    let status: 'healthy' | 'degraded' = 'degraded';
    const monitor = createHealthMonitor({
      service: 'relay',
      logger: createLogger({ sink: (line) => lines.push(line) }),
      checks: [fixed('outbox', async () => ({ status, reason: 'backlog 900 rows' }))],
    });
    await monitor.check();
    await monitor.check();
    status = 'healthy';
    await monitor.check();
    const messages = lines.map((line) => JSON.parse(line).msg as string);
    assert.deepEqual(messages, [
      'Service relay is degraded: outbox: backlog 900 rows',
      'Service relay is healthy again',
    ]);
  });
});

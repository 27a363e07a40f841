// mm-backend's users API against the real Postgres and Redis: one user row and one outbox row per
// write, in one transaction, and clear problems for bad input with nothing written.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.ts';
import type { Bus } from '../src/ports/bus.ts';
import { bodyOf, postJson, recordingLogger, testBackend, testBus } from './helpers/backend.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describe('users API', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let bus: Bus;
  let backend: Backend;

  before(() => {
    bus = testBus(redis.url, redis.prefix, recordingLogger());
    backend = testBackend(db.store, bus);
  });
  after(() => bus.close());

  const counts = async () => {
    const [row] = await db.sql<{ users: number; outbox: number }[]>`
      select (select count(*)::int from users) as users, (select count(*)::int from outbox) as outbox`;
    return row;
  };

  it('creates a user and its user.created event in one transaction', async () => {
    const before = await counts();
    const response = await postJson(backend, '/api/users', { email: 'ann@example.com', display_name: 'Ann' });
    assert.equal(response.status, 201);
    const user = await bodyOf(response);
    assert.equal(user.email, 'ann@example.com');
    assert.equal(response.headers.get('location'), `/api/users/${user.id}`);
    const [event] = await db.sql`select * from outbox where aggregate_id = ${user.id}`;
    assert.equal(event?.event_type, 'user.created');
    assert.equal(event?.topic, 'identity');
    assert.equal(event?.aggregate_type, 'user');
    assert.equal(event?.event_id, response.headers.get('mm-event-id'));
    assert.deepEqual(event?.payload, user);
    assert.deepEqual(await counts(), { users: (before?.users ?? 0) + 1, outbox: (before?.outbox ?? 0) + 1 });
  });

  it('answers a duplicate email (any case) with 409 and writes nothing', async () => {
    await postJson(backend, '/api/users', { email: 'dup@example.com', display_name: 'First' });
    const before = await counts();
    const response = await postJson(backend, '/api/users', {
      email: 'DUP@example.com',
      display_name: 'Second',
    });
    assert.equal(response.status, 409);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    assert.match((await bodyOf(response)).detail, /already exists/);
    assert.deepEqual(await counts(), before);
  });

  it('rejects bad input with a problem naming it, and writes nothing', async () => {
    const before = await counts();
    const cases: Array<[unknown, number, RegExp]> = [
      ['{"email":', 400, /malformed JSON/],
      [{}, 400, /email is required/],
      [{ email: 'not-an-email' }, 400, /not a valid address/],
      [{ email: `${'x'.repeat(250)}@example.com` }, 400, /longer than 254/],
      [{ email: 'ok@example.com', display_name: 'n'.repeat(201) }, 400, /longer than 200/],
      [{ email: 'ok@example.com', admin: true }, 400, /unknown field "admin"/],
      [{ email: 'ok@example.com', display_name: 'x'.repeat(70_000) }, 413, /larger than/],
    ];
    for (const [body, status, detail] of cases) {
      const response = await postJson(backend, '/api/users', body);
      assert.equal(response.status, status, JSON.stringify(body).slice(0, 60));
      assert.match((await bodyOf(response)).detail, detail);
    }
    const wrongType = await backend.app.request('/api/users', { method: 'POST', body: 'email=a@b.c' });
    assert.equal(wrongType.status, 415);
    assert.deepEqual(await counts(), before);
  });

  it('reads, updates and disables a user, one event per write', async () => {
    const created = await bodyOf(await postJson(backend, '/api/users', { email: 'bo@example.com' }));
    const read = await backend.app.request(`/api/users/${created.id}`);
    assert.equal(read.status, 200);
    assert.equal((await bodyOf(read)).display_name, 'bo');

    const patched = await postJson(
      backend,
      `/api/users/${created.id}`,
      { display_name: 'Bo Renamed' },
      'PATCH',
    );
    assert.equal(patched.status, 200);
    assert.equal((await bodyOf(patched)).display_name, 'Bo Renamed');

    const disabled = await backend.app.request(`/api/users/${created.id}/disable`, { method: 'POST' });
    assert.equal(disabled.status, 200);
    assert.equal((await bodyOf(disabled)).status, 'disabled');
    const again = await backend.app.request(`/api/users/${created.id}/disable`, { method: 'POST' });
    assert.equal(again.status, 409);

    const events = await db.sql`select event_type from outbox where aggregate_id = ${created.id} order by id`;
    assert.deepEqual(
      events.map((e) => e.event_type),
      ['user.created', 'user.updated', 'user.disabled'],
    );
  });

  it('answers unknown or malformed ids with 404 and refuses a taken email on update', async () => {
    assert.equal((await backend.app.request('/api/users/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')).status, 404);
    assert.equal((await backend.app.request('/api/users/nope')).status, 404);
    const unknownPatch = await postJson(
      backend,
      '/api/users/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      { display_name: 'x' },
      'PATCH',
    );
    assert.equal(unknownPatch.status, 404);
    await postJson(backend, '/api/users', { email: 'taken@example.com' });
    const other = await bodyOf(await postJson(backend, '/api/users', { email: 'other@example.com' }));
    const before = await counts();
    const conflict = await postJson(
      backend,
      `/api/users/${other.id}`,
      { email: 'Taken@example.com' },
      'PATCH',
    );
    assert.equal(conflict.status, 409);
    assert.deepEqual(await counts(), before);
  });

  it('reports health, JSON metrics and Prometheus text', async () => {
    const live = await backend.app.request('/health');
    assert.deepEqual(Object.keys(await bodyOf(live)).slice(0, 2), ['status', 'service']);

    const detailed = await backend.app.request('/health/detailed');
    assert.equal(detailed.status, 200);
    const report = await bodyOf(detailed);
    assert.equal(report.status, 'healthy');
    assert.equal(report.checks.database.status, 'healthy');
    assert.equal(report.checks.redis.maxmemory_policy, 'noeviction');
    assert.deepEqual(Object.keys(report.checks.redis.streams), ['identity', 'identity.dlq']);

    const metrics = await bodyOf(await backend.app.request('/monitoring/metrics'));
    assert.ok(metrics.outbox_rows_written_total.identity >= 1);
    assert.ok(metrics.requests['POST /api/users 201'] >= 1);
    assert.equal(typeof metrics.redis.used_memory, 'number');
    assert.deepEqual(metrics.dlq_backlog, { identity: 0 });

    const text = await (await backend.app.request('/metrics/prometheus')).text();
    assert.match(text, /^outbox_rows_written_total\{topic="identity"\} \d+$/m);
    assert.match(text, /^stream_length\{stream="identity\.dlq"\} 0$/m);
    assert.match(text, /^dlq_backlog\{topic="identity"\} 0$/m);
  });
});

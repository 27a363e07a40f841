// The ServiceRegistry contract: what src/ports/service-registry.ts promises, run unchanged against
// Redis and the local file. The clock is the fixture's, so expiry is tested without waiting.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ServiceRecord, ServiceRegistry } from '../../src/ports/service-registry.ts';

export type RegistryFixture = {
  readonly registry: ServiceRegistry;
  /** A second client on the same data, as another process would be. */
  readonly peer: ServiceRegistry;
  cleanup(): Promise<void>;
};

/** `now` is the clock every client of the fixture reads. */
export type RegistryFactory = (now: () => number) => Promise<RegistryFixture>;

const record = (role: ServiceRecord['role'], name: string, seenMs: number): ServiceRecord => ({
  role,
  name,
  version: '1.2.3',
  url: `http://127.0.0.1:8000/${name}`,
  startedAt: new Date(1_700_000_000_000).toISOString(),
  lastSeenAt: new Date(seenMs).toISOString(),
});

export const describeRegistryContract = (
  name: string,
  factory: RegistryFactory,
  options: { skip?: string | false } = {},
): void => {
  describe(`ServiceRegistry contract: ${name}`, { skip: options.skip ?? false }, () => {
    let clock = 1_700_000_000_000;
    let fixture: RegistryFixture;
    beforeEach(async () => {
      clock = 1_700_000_000_000;
      fixture = await factory(() => clock);
    });
    afterEach(() => fixture.cleanup());

    it('lists what was announced, by role then name, to every client', async () => {
      await fixture.registry.announce(record('relay', 'r1', clock), { ttlMs: 60_000 });
      await fixture.peer.announce(record('consumer', 'c2', clock), { ttlMs: 60_000 });
      await fixture.registry.announce(record('consumer', 'c1', clock), { ttlMs: 60_000 });
      const listed = await fixture.peer.list();
      assert.deepEqual(
        listed.map((r) => `${r.role}/${r.name}`),
        ['consumer/c1', 'consumer/c2', 'relay/r1'],
      );
      assert.deepEqual(listed[2], record('relay', 'r1', clock));
    });

    it('keeps one record per role and name: a refresh replaces it', async () => {
      await fixture.registry.announce(record('backend', 'b', clock), { ttlMs: 60_000 });
      clock += 5_000;
      await fixture.registry.announce(record('backend', 'b', clock), { ttlMs: 60_000 });
      await fixture.registry.announce(record('consumer', 'b', clock), { ttlMs: 60_000 });
      const listed = await fixture.registry.list();
      assert.equal(listed.length, 2);
      assert.equal(listed[0]?.lastSeenAt, new Date(clock).toISOString());
    });

    it('drops a record once its TTL passed without a refresh, and keeps refreshed ones', async () => {
      await fixture.registry.announce(record('relay', 'dies', clock), { ttlMs: 10_000 });
      await fixture.registry.announce(record('relay', 'lives', clock), { ttlMs: 10_000 });
      clock += 9_000;
      await fixture.registry.announce(record('relay', 'lives', clock), { ttlMs: 10_000 });
      clock += 2_000;
      assert.deepEqual(
        (await fixture.peer.list()).map((r) => r.name),
        ['lives'],
      );
      clock += 10_000;
      assert.deepEqual(await fixture.registry.list(), []);
    });

    it('forgets a withdrawn record at once; withdrawing an unknown one is fine', async () => {
      await fixture.registry.announce(record('consumer', 'c', clock), { ttlMs: 60_000 });
      await fixture.peer.withdraw('consumer', 'c');
      await fixture.peer.withdraw('consumer', 'never');
      assert.deepEqual(await fixture.registry.list(), []);
    });
  });
};

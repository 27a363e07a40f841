// Services find each other: backend, relay and consumer (separate processes on one local file)
// announce themselves in the registry once they listen, and withdraw on a clean stop.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { reachableUrl } from '../src/core/announce.ts';
import { silentLogger } from '../src/core/logger.ts';
import { assertNoBinariesLeft, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';

describe('service announcements', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-announce-'));
  afterEach(assertNoBinariesLeft);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the host instead of a wildcard address', () => {
    assert.equal(reachableUrl('http://0.0.0.0:8000', 'box'), 'http://box:8000');
    assert.equal(reachableUrl('http://127.0.0.1:8000', 'box'), 'http://127.0.0.1:8000');
  });

  it('lists each running service with its role, name, version and URL; a stopped one withdraws', async () => {
    const file = join(dir, 'a.db');
    const local = await openLocalPorts({ file, logger: silentLogger });
    const backend = await startBinary('mm-backend', ['serve', '--local', file]);
    const relay = await startBinary('mm-relay', ['run', '--local', file]);
    const consumer = await startBinary('mm-consumer', ['run', '--local', file, '--name', 'lint-1']);
    try {
      const listed = await eventually(async () => {
        const records = await local.registry.list();
        return records.length === 3 ? records : undefined;
      }, 15_000);
      assert.deepEqual(
        listed.map((r) => [r.role, r.url]),
        [
          ['backend', backend.url],
          ['consumer', consumer.url],
          ['relay', relay.url],
        ],
      );
      const consumerRecord = listed.find((r) => r.role === 'consumer');
      assert.equal(consumerRecord?.name, 'lint-1');
      assert.match(consumerRecord?.version ?? '', /^\d+\.\d+\.\d+/);
      assert.ok(Date.parse(consumerRecord?.lastSeenAt ?? '') >= Date.parse(consumerRecord?.startedAt ?? ''));
      assert.equal(await relay.stop(), 0);
      assert.deepEqual(
        (await local.registry.list()).map((r) => r.role),
        ['backend', 'consumer'],
      );
    } finally {
      await Promise.all([backend.stop(), relay.stop(), consumer.stop()]);
      await local.close();
    }
  });
});

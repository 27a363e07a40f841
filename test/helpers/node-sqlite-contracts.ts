// The Bus and Store contracts and `$n` binding on the node:sqlite driver. Node 20 has no node:sqlite, so
// test/sqlite-drivers.test.ts runs this file under Deno (`deno test`), which has it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireConnection } from '../../src/adapters/sqlite/driver/connection.ts';
import { openLocalPorts } from '../../src/adapters/sqlite/local-ports.ts';
import { openSqliteStore } from '../../src/adapters/sqlite/store/store.ts';
import { createSqliteBus } from '../../src/adapters/sqlite/streams/bus.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Bus } from '../../src/ports/bus.ts';
import { describeBusContract } from '../contracts/bus-contract.ts';
import { describeStoreContract } from '../contracts/store-contract.ts';
import { describeSqliteBinding } from './sqlite-binding.ts';

const driver = 'node:sqlite';

describeBusContract(`sqlite shim on ${driver}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bus-'));
  const file = join(dir, 'local.db');
  const local = await openLocalPorts({ file, logger: silentLogger, driver });
  const peers: Bus[] = [];
  return {
    bus: local.bus,
    peer: async () => {
      const peer = createSqliteBus(await acquireConnection({ file, driver }));
      peers.push(peer);
      return peer;
    },
    cleanup: async () => {
      await Promise.all(peers.map((b) => b.close()));
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeStoreContract(`sqlite on ${driver}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-store-'));
  const file = join(dir, 'local.db');
  const store = await openSqliteStore({ file, driver });
  return {
    store,
    another: () => openSqliteStore({ file, driver }),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeSqliteBinding(driver);

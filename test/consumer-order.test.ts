// Per-aggregate order across consumer processes, with the built mm-relay, mm-consumer and mm-dlq, on
// Postgres + Redis and on one local SQLite file: 3 consumers share 6 partitions by lease; an event
// that fails holds its aggregate (later events park) while the others go on; a consumer killed -9
// hands its partitions, pending entries and parked aggregates to the survivors; a dead letter halts
// its aggregate until mm-dlq resolves or reprocesses it; consumers join and leave under load. The
// handler (fixtures/handlers/apply-order.mjs) records each application in commit order.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { EventHeaders } from '../src/core/envelope.ts';
import { assertNoBinariesLeft, type RunningBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import {
  appliedEvents,
  assertAppliedOnceInOrder,
  assertSensibleAssignment,
  assignmentOf,
  count,
  ledgerRows,
  parkedBehind,
  profileMismatches,
  waitForApplied,
} from './helpers/order-checks.ts';
import {
  createWritten,
  eventCount,
  GROUP,
  type HeadersFor,
  jsonOf,
  mmDlq,
  newUserIds,
  type OrderMode,
  openLocalMode,
  openProductionMode,
  startConsumer,
  startRelay,
  userIn,
  writeRound,
} from './helpers/order-pipeline.ts';
import { skipUnless } from './helpers/services.ts';

const PARTITIONS = 6;
const LEASE_MS = 2_000;
const ROUNDS = 21;

const modes = [
  { name: 'Postgres + Redis', skip: await skipUnless('postgres', 'redis'), open: openProductionMode },
  { name: 'one local SQLite file', skip: false as const, open: openLocalMode },
];

const ok = <T extends { code: number | null; stdout: string; stderr: string }>(result: T): T => {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
};

for (const { name, skip, open } of modes) {
  describe(`per-aggregate order across consumer processes: ${name}`, { skip }, () => {
    let mode: OrderMode;
    let dir: string;
    let started: RunningBinary[];

    beforeEach(async () => {
      mode = await open();
      dir = mkdtempSync(join(tmpdir(), 'mm-order-gates-'));
      started = [];
    });
    afterEach(async () => {
      try {
        assertNoBinariesLeft();
      } finally {
        await mode.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    const track = async (binary: Promise<RunningBinary>): Promise<RunningBinary> => {
      const running = await binary;
      started.push(running);
      return running;
    };
    /** SIGTERM to every process still running: each drains and exits 0. */
    const stopAll = async (): Promise<void> => {
      const codes = await Promise.all(started.map(async (b) => [b, await b.stop()] as const));
      for (const [binary, code] of codes) {
        if (code !== null) assert.equal(code, 0, binary.output().slice(-2_000));
      }
    };
    const consumersNamed = (names: readonly string[], extra: readonly string[]): Promise<RunningBinary[]> =>
      Promise.all(names.map((n) => track(startConsumer(mode, n, extra))));

    it('A: 200 users x 21 events over 3 consumers and 6 partitions, one event failing twice, a consumer killed -9 and restarted: every event applied once, in order', async () => {
      const gate = join(dir, 'halted');
      writeFileSync(gate, '');
      try {
        const common = ['--claim-idle-ms', '1000'];
        await track(startRelay(mode, PARTITIONS));
        const [c1, c2, c3] = (await consumersNamed(['c1', 'c2', 'c3'], common)) as [
          RunningBinary,
          RunningBinary,
          RunningBinary,
        ];
        const first = await assignmentOf([c1, c2, c3], PARTITIONS, LEASE_MS);
        const mine = (consumer: string): string[] =>
          first.find((view) => view.consumer === consumer)?.partitions.map((p) => p.stream) ?? [];
        // identity:0 stays with c1 whoever else is there (the first member by name takes it).
        assert.ok(mine('c1').includes('identity:0'), JSON.stringify(first));

        const userIds = newUserIds(200);
        const retried = userIn(userIds, ['identity:0'], PARTITIONS);
        const halted = userIn(userIds, mine('c2'), PARTITIONS);
        // Round 3 of one user fails twice, then succeeds; round 3 of a user of c2 fails until the gate goes.
        const failing = new Map<number, EventHeaders>([
          [retried, { fail_until_delivery: '3' }],
          [halted, { fail_while: gate }],
        ]);
        const headersFor: HeadersFor = (index, round) => (round === 3 ? failing.get(index) : undefined);
        const written = createWritten(userIds);
        for (let round = 0; round <= 10; round += 1) await writeRound(mode.store, written, round, headersFor);

        // c2 holds the failing event of its user: the user's later events are parked behind it.
        const haltedId = userIds[halted] as string;
        await eventually(async () => (await parkedBehind(mode, haltedId)) > 0, 30_000, {
          message: `events of ${haltedId} parked behind its failing event`,
        });
        await c2.stop('SIGKILL');
        rmSync(gate);
        for (let round = 11; round < ROUNDS; round += 1)
          await writeRound(mode.store, written, round, headersFor);

        // The survivors take c2's partitions over once its lease ran out, then c2 comes back.
        await assignmentOf([c1, c3], PARTITIONS, LEASE_MS);
        const again = await track(startConsumer(mode, 'c2', common));
        await assignmentOf([c1, again, c3], PARTITIONS, LEASE_MS);

        const total = eventCount(written);
        assert.equal(total, 200 * ROUNDS);
        await waitForApplied(mode, total);
        const applied = await assertAppliedOnceInOrder(mode, written);

        const retriedEvent = written.events.get(userIds[retried] as string)?.[3];
        const failures = c1.output().split(`Failed to process event ${retriedEvent}`).length - 1;
        assert.equal(failures, 2, 'the chosen event failed twice, then was applied');
        const appliers = new Set(applied.map((a) => a.appliedBy));
        for (const consumer of [c1, c2, c3])
          assert.ok(appliers.has(String(consumer.pid)), `consumer ${consumer.pid} applied events`);
        const report = JSON.parse(ok(await mmDlq(mode, 'report --hours 1 --json')).stdout) as {
          totals: { new: number; open: number };
        };
        assert.equal(report.totals.new, 0, 'nothing was dead-lettered');
      } finally {
        await stopAll();
      }
    });

    it('B: a dead letter halts its aggregate: later events park, mm-dlq shows them waiting, resolve and reprocess release them in order', async () => {
      const gates = { resolved: join(dir, 'resolved'), reprocessed: join(dir, 'reprocessed') };
      for (const gate of Object.values(gates)) writeFileSync(gate, '');
      try {
        await track(startRelay(mode, PARTITIONS));
        const consumers = await consumersNamed(
          ['c1', 'c2', 'c3'],
          ['--claim-idle-ms', '300', '--max-deliveries', '3'],
        );
        await assignmentOf(consumers, PARTITIONS, LEASE_MS);
        const userIds = newUserIds(40);
        const [resolved, reprocessed] = [3, 11];
        const failing = new Map<number, EventHeaders>([
          [resolved, { fail_while: gates.resolved }],
          [reprocessed, { fail_while: gates.reprocessed }],
        ]);
        // Round 5 of two users fails on every delivery: dead-lettered after the third.
        const headersFor: HeadersFor = (index, round) => (round === 5 ? failing.get(index) : undefined);
        const written = createWritten(userIds);
        for (let round = 0; round < ROUNDS; round += 1)
          await writeRound(mode.store, written, round, headersFor);
        const total = eventCount(written);
        const ids = { resolved: userIds[resolved] as string, reprocessed: userIds[reprocessed] as string };
        const deadEvent = (userId: string): string => written.events.get(userId)?.[5] as string;
        const waiting = ROUNDS - 6;

        // Everything else is applied; each halted user's 15 later events wait in parking.
        await eventually(
          async () =>
            (await ledgerRows(mode)) === total - 2 * (waiting + 1) &&
            (await parkedBehind(mode, ids.resolved)) === waiting &&
            (await parkedBehind(mode, ids.reprocessed)) === waiting,
          60_000,
          { message: 'the halted users wait behind their dead letters', intervalMs: 200 },
        );
        await eventually(
          async () =>
            (await Promise.all(consumers.map((c) => jsonOf(c, '/metrics')))).every(
              (metrics) => metrics.events_parked === 2 * waiting,
            ),
          10_000,
          { message: `events_parked ${2 * waiting} on every consumer` },
        );
        for (const userId of Object.values(ids)) {
          const applied = await appliedEvents(mode, userId);
          assert.deepEqual(
            applied.map((a) => a.eventId),
            written.events.get(userId)?.slice(0, 5),
            'only the events before the dead letter applied',
          );
          assert.equal((await profileMismatches(mode, [userId])).length, 1, 'the profile stays behind');
        }

        type Listed = { id: string; event_id: string; waiting_behind: number | null };
        // The block commits with the batch; its dead letter is written right after, with the acks.
        let listed: Listed[] = [];
        await eventually(
          async () => {
            listed = JSON.parse(
              ok(await mmDlq(mode, 'list --stream identity.dlq --json')).stdout,
            ) as Listed[];
            return listed.length >= 2;
          },
          10_000,
          { message: 'both dead letters are listed', intervalMs: 200 },
        );
        assert.deepEqual(
          listed.map((entry) => [entry.event_id, entry.waiting_behind]).sort(),
          [
            [deadEvent(ids.resolved), waiting],
            [deadEvent(ids.reprocessed), waiting],
          ].sort(),
        );
        const text = ok(await mmDlq(mode, 'list --stream identity.dlq')).stdout;
        assert.match(
          text,
          new RegExp(`^${2 * waiting} events wait behind these dead letters: resolve or reprocess`, 'm'),
        );
        for (const userId of Object.values(ids)) {
          const inspected = ok(
            await mmDlq(mode, `inspect --stream identity.dlq --id ${deadEvent(userId)}`),
          ).stdout;
          assert.match(inspected, new RegExp(`^ {2}${waiting} events wait behind this dead letter$`, 'm'));
          assert.match(inspected, new RegExp(`group ${GROUP}, aggregate user/${userId}, halted since`));
        }

        // Resolve: the dead event is never applied; the waiting ones follow, in order.
        const resolve = ok(
          await mmDlq(mode, `resolve --stream identity.dlq --id ${deadEvent(ids.resolved)} --note skip`),
        );
        assert.match(
          resolve.stdout,
          new RegExp(
            `^released aggregate user/${ids.resolved}, group ${GROUP}: ${waiting} waiting events follow in order$`,
            'm',
          ),
        );
        await eventually(
          async () => (await appliedEvents(mode, ids.resolved)).length === ROUNDS - 1,
          30_000,
          {
            message: 'the resolved user goes on',
          },
        );
        assert.deepEqual(
          (await appliedEvents(mode, ids.resolved)).map((a) => a.eventId),
          written.events.get(ids.resolved)?.filter((id) => id !== deadEvent(ids.resolved)),
          'released in outbox order',
        );
        assert.equal(await parkedBehind(mode, ids.reprocessed), waiting, 'the other user still waits');

        // Reprocess once the defect is fixed: the dead event is applied first, then the waiting ones.
        rmSync(gates.reprocessed);
        const reprocess = ok(
          await mmDlq(mode, `reprocess --stream identity.dlq --id ${deadEvent(ids.reprocessed)}`),
        );
        assert.match(reprocess.stdout, new RegExp(`^${waiting} events wait behind it `, 'm'));
        await eventually(async () => (await appliedEvents(mode, ids.reprocessed)).length === ROUNDS, 30_000, {
          message: 'the reprocessed user goes on',
        });
        assert.deepEqual(
          (await appliedEvents(mode, ids.reprocessed)).map((a) => a.eventId),
          written.events.get(ids.reprocessed),
          'the reprocessed event, then the waiting ones, in outbox order',
        );

        await waitForApplied(mode, total - 1);
        await assertAppliedOnceInOrder(mode, written, [deadEvent(ids.resolved)]);
        assert.equal(await count(mode, 'select count(*) as n from aggregate_blocks'), 0, 'no block left');
        const after = JSON.parse(
          ok(await mmDlq(mode, 'list --stream identity.dlq --json')).stdout,
        ) as Listed[];
        assert.deepEqual(after, [], 'no open dead letter');
      } finally {
        await stopAll();
      }
    });

    it('C: consumers join and leave under load (1 -> 3 -> 2): each partition owned by one live consumer, nothing lost or applied twice, order kept', async () => {
      const common = ['--claim-idle-ms', '500'];
      const userIds = newUserIds(50);
      // One event of a partition that moves to c2 on the join fails twice, holding its user meanwhile.
      const retried = userIn(userIds, ['identity:1'], PARTITIONS);
      const headersFor: HeadersFor = (index, round) =>
        round === 2 && index === retried ? { fail_until_delivery: '3' } : undefined;
      const written = createWritten(userIds);
      let writing = true;
      let writer: Promise<void> | undefined;
      try {
        await track(startRelay(mode, PARTITIONS));
        const [c1] = (await consumersNamed(['c1'], common)) as [RunningBinary];
        assertSensibleAssignment(await assignmentOf([c1], PARTITIONS, LEASE_MS), LEASE_MS);
        writer = (async () => {
          for (let round = 0; writing || round < 3; round += 1) {
            await writeRound(mode.store, written, round, headersFor);
            await delay(100);
          }
        })();
        /** Waits until the group applied `more` events beyond what it has now: the load goes on. */
        const progress = async (more: number): Promise<void> => {
          const from = await ledgerRows(mode);
          await eventually(async () => (await ledgerRows(mode)) >= from + more, 30_000, {
            message: `${more} more events applied`,
          });
        };
        await progress(100);
        const [c2, c3] = (await consumersNamed(['c2', 'c3'], common)) as [RunningBinary, RunningBinary];
        const three = await assignmentOf([c1, c2, c3], PARTITIONS, LEASE_MS);
        assertSensibleAssignment(three, LEASE_MS);
        assert.deepEqual(
          three.map((view) => view.partitions.length),
          [2, 2, 2],
        );
        await progress(100);
        const success = async (c: RunningBinary): Promise<number> =>
          Number((await jsonOf(c, '/metrics')).events_processed_success);
        await eventually(async () => (await success(c2)) > 0 && (await success(c3)) > 0, 30_000, {
          message: 'the joined consumers apply events',
        });

        assert.equal(await c3.stop(), 0, 'c3 leaves: it drains, gives its leases back and exits 0');
        const two = await assignmentOf([c1, c2], PARTITIONS, LEASE_MS);
        assertSensibleAssignment(two, LEASE_MS);
        assert.deepEqual(
          two.map((view) => view.members),
          [
            ['c1', 'c2'],
            ['c1', 'c2'],
          ],
        );
        await progress(100);
        writing = false;
        await writer;
        const total = eventCount(written);
        await waitForApplied(mode, total);
        const applied = await assertAppliedOnceInOrder(mode, written);
        const appliers = new Set(applied.map((a) => a.appliedBy));
        assert.equal(appliers.size, 3, 'all three consumers applied events');
      } finally {
        writing = false;
        await writer?.catch(() => {});
        await stopAll();
      }
    });
  });
}

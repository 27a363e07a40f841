// Drill "Halted Aggregate": consumers keep each aggregate's order, so a dead-lettered event parks its
// aggregate's later events while other aggregates flow; mm-dlq shows how many wait behind each dead
// letter, and resolve (the event must not be applied) or reprocess (the defect is fixed) releases
// them, applied in outbox order.
import type { StreamEntry } from '../ports/bus.ts';
import { applyLogDdl } from './apply-log.ts';
import type { Drill } from './drill.ts';
import type { DrillKit } from './drill-kit.ts';
import { psqlTable } from './drill-output.ts';
import {
  appliedCount,
  applyLogOf,
  createSceneUsers,
  deadLettersOf,
  type HaltedUser,
  LATER,
  OTHERS,
  profileMatches,
  type Scene,
  userAndProfile,
  writeHaltingEvents,
} from './ordering-scene.ts';

type Halt = { readonly dead: Map<string, StreamEntry>; readonly parked: Map<string, number> };

const parkedBehind = async (kit: DrillKit, user: HaltedUser): Promise<number> =>
  kit.store.parking.countBehind(kit.group, user.aggregateKey);

/** Waits until both failing events are dead letters, the others applied and the later events parked. */
const waitForHalt = async (kit: DrillKit, scene: Scene): Promise<Halt> => {
  const read = async (): Promise<Halt & { others: number }> => ({
    dead: await deadLettersOf(kit, [scene.ann.failing, scene.bob.failing]),
    parked: new Map([
      [scene.ann.id, await parkedBehind(kit, scene.ann)],
      [scene.bob.id, await parkedBehind(kit, scene.bob)],
    ]),
    others: await appliedCount(
      kit,
      scene.others.map((o) => o.rename),
    ),
  });
  const done = await kit.waitFor(async () => {
    const state = await read();
    const settled =
      state.dead.size === 2 &&
      state.others === scene.others.length &&
      [...state.parked.values()].every((n) => n === LATER);
    return settled ? state : undefined;
  });
  return done ?? (await read());
};

const showParked = async (kit: DrillKit): Promise<void> => {
  kit.out.command(
    kit.place.sqlLine(
      `SELECT aggregate_key, count(*), min(outbox_id), max(outbox_id) FROM parked_events WHERE consumer_group = '${kit.group}' GROUP BY aggregate_key`,
    ),
  );
  const rows = await kit.sql(
    `SELECT aggregate_key, count(*) AS parked, min(outbox_id) AS first_outbox_id, max(outbox_id) AS last_outbox_id
     FROM parked_events WHERE consumer_group = $1 GROUP BY aggregate_key ORDER BY aggregate_key`,
    [kit.group],
  );
  kit.out.evidence(psqlTable(rows, ['aggregate_key', 'parked', 'first_outbox_id', 'last_outbox_id']));
};

const halt = async (kit: DrillKit, scene: Scene): Promise<boolean> => {
  const { out } = kit;
  const state = await waitForHalt(kit, scene);
  const ann = state.dead.get(scene.ann.failing);
  const bob = state.dead.get(scene.bob.failing);
  out.check(
    ann?.fields.dlq_error_class === 'ValidationError' && bob?.fields.dlq_error_class === 'TypeError',
    `user A's imported event moved to ${kit.dlqStream} at once (${ann?.fields.dlq_error_class}, ${ann?.fields.dlq_attempts} delivery), user B's first rename after ${bob?.fields.dlq_attempts} deliveries (${bob?.fields.dlq_error_class})`,
    `${state.dead.size} of 2 dead letters`,
  );
  await showParked(kit);
  const others = await appliedCount(
    kit,
    scene.others.map((o) => o.rename),
  );
  const halted = await appliedCount(kit, [...scene.ann.later, ...scene.bob.later]);
  const parkedA = state.parked.get(scene.ann.id) ?? 0;
  const parkedB = state.parked.get(scene.bob.id) ?? 0;
  return out.check(
    others === scene.others.length && parkedA === LATER && parkedB === LATER && halted === 0,
    `other aggregates flow: ${others} of ${scene.others.length} other users' renames applied; ${parkedA + parkedB} events parked, ${parkedA} behind A's dead letter and ${parkedB} behind B's, none applied`,
    `${others} others applied, parked A ${parkedA} B ${parkedB} (want ${LATER} each), ${halted} halted events applied`,
  );
};

type ListRow = { id: string; event_id: string; waiting_behind: number | null };

const showWaiting = async (kit: DrillKit, scene: Scene, annDead: string): Promise<void> => {
  const { out } = kit;
  out.step('The dead letter holding back the most events, and what waits behind it');
  const list = { stream: kit.dlqStream };
  out.command(kit.dlqLine('list', list));
  out.evidence((await kit.dlq('list', list)).stdout);
  const rows = JSON.parse((await kit.dlq('list', { ...list, json: true })).stdout) as ListRow[];
  const waiting = (eventId: string) => rows.find((r) => r.event_id === eventId)?.waiting_behind;
  out.check(
    waiting(scene.ann.failing) === LATER && waiting(scene.bob.failing) === LATER,
    `mm-dlq list shows ${LATER} waiting behind each of the two dead letters (WAITING, waiting_behind)`,
    `A ${waiting(scene.ann.failing)}, B ${waiting(scene.bob.failing)}`,
  );
  const inspect = { stream: kit.dlqStream, id: annDead };
  out.command(kit.dlqLine('inspect', inspect));
  const inspected = (await kit.dlq('inspect', inspect)).stdout;
  out.evidence(inspected);
  out.check(
    inspected.includes(`${LATER} events wait behind this dead letter`),
    `mm-dlq inspect says "${LATER} events wait behind this dead letter" (aggregate ${scene.ann.aggregateKey})`,
  );
  const report = { stream: kit.dlqStream, hours: '1' };
  out.command(kit.dlqLine('report', report));
  out.evidence((await kit.dlq('report', report)).stdout);
  const json = JSON.parse((await kit.dlq('report', { ...report, json: true })).stdout) as {
    streams: Array<{ halted: { aggregates?: number; waiting_behind?: number } }>;
  };
  const halted = json.streams[0]?.halted;
  out.check(
    halted?.aggregates === 2 && halted.waiting_behind === 2 * LATER,
    `mm-dlq report: 2 halted aggregates, ${2 * LATER} events waiting`,
    JSON.stringify(halted),
  );
};

/** Waits for the user's later events in the apply log; checks they came in outbox order. */
const checkReleased = async (
  kit: DrillKit,
  user: HaltedUser,
  expected: readonly string[],
  claim: string,
): Promise<void> => {
  const { out } = kit;
  const log = await kit.waitFor(async () => {
    const rows = await applyLogOf(kit, user.id);
    return rows.length >= expected.length ? rows : undefined;
  });
  out.command(
    kit.place.sqlLine(
      `SELECT seq, event_id, outbox_id, display_name FROM drill_apply_log WHERE aggregate_id = '${user.id}' ORDER BY seq`,
    ),
    'the order the consumer applied them in, logged in their own transactions',
  );
  const rows = log ?? (await applyLogOf(kit, user.id));
  out.evidence(psqlTable(rows, ['seq', 'event_id', 'outbox_id', 'display_name']));
  const outboxIds = rows.map((r) => Number(r.outbox_id));
  out.check(
    rows.map((r) => r.event_id).join() === expected.join() &&
      outboxIds.every((id, i) => i === 0 || id > (outboxIds[i - 1] ?? 0)),
    claim,
    `applied ${rows.map((r) => r.display_name ?? r.event_id).join(', ') || 'nothing'}`,
  );
  out.command(
    kit.place.sqlLine(
      `SELECT u.email, p.email, u.display_name, p.display_name, u.status, p.status FROM users u JOIN lint_profiles p ON p.user_id = u.id WHERE u.id = '${user.id}'`,
    ),
  );
  const pair = await userAndProfile(kit, user.id);
  out.evidence(psqlTable(pair ? [pair] : []));
  out.check(
    profileMatches(pair),
    `its lint profile equals its user row (email, display name "${String(pair?.user_name)}", status)`,
  );
};

/** A's event must not be applied: resolve lifts the block, the parked events follow in order. */
const releaseByResolve = async (kit: DrillKit, scene: Scene, deadId: string): Promise<void> => {
  const { out } = kit;
  out.step("Resolve: A's imported event must not be applied (the user row is right)");
  const resolve = {
    stream: kit.dlqStream,
    id: deadId,
    note: 'bad import data: the user row is right',
  };
  out.command(kit.dlqLine('resolve', resolve));
  const resolved = await kit.dlq('resolve', resolve);
  out.evidence(resolved.stdout);
  out.check(
    resolved.code === 0 && resolved.stdout.includes(`${LATER} waiting events follow in order`),
    `mm-dlq resolve released aggregate ${scene.ann.aggregateKey}: ${LATER} waiting events follow in order`,
  );
  await checkReleased(
    kit,
    scene.ann,
    scene.ann.later,
    `A's ${LATER} parked events applied in outbox order; the imported event never was`,
  );
};

/** B's defect is fixed: reprocess keeps the block until the consumer applied the event again. */
const releaseByReprocess = async (kit: DrillKit, scene: Scene, deadId: string): Promise<void> => {
  const { out } = kit;
  out.step('Fix root cause in code, then reprocess: the event is applied first, the parked ones after it');
  out.command('(deploy the fixed consumer)', "the handler defect for user B's events is switched off");
  kit.faults.handler.aggregates.delete(scene.bob.id);
  const reprocess = { stream: kit.dlqStream, id: deadId, note: 'handler fixed' };
  out.command(kit.dlqLine('reprocess', reprocess));
  const reprocessed = await kit.dlq('reprocess', reprocess);
  out.evidence(reprocessed.stdout);
  out.check(
    reprocessed.code === 0 &&
      /^reprocessed /.test(reprocessed.stdout) &&
      reprocessed.stdout.includes(`${LATER} events wait behind it`),
    `mm-dlq reprocess published B's event again, ${LATER} events still waiting behind it`,
  );
  await checkReleased(
    kit,
    scene.bob,
    [scene.bob.failing, ...scene.bob.later],
    `B's reprocessed event applied first, then its ${LATER} parked events, in outbox order`,
  );
};

const checkNothingWaits = async (kit: DrillKit): Promise<void> => {
  const { out } = kit;
  out.step('Nothing waits any more');
  out.command(kit.dlqLine('report', { stream: kit.dlqStream, hours: '1' }));
  const left = await kit.waitFor(async () => {
    const report = JSON.parse(
      (await kit.dlq('report', { stream: kit.dlqStream, hours: '1', json: true })).stdout,
    ) as { streams: Array<{ halted: { aggregates?: number } }> };
    const parked = await kit.store.parking.count(kit.group);
    return report.streams[0]?.halted.aggregates === 0 && parked === 0 ? report : undefined;
  });
  out.evidence((await kit.dlq('report', { stream: kit.dlqStream, hours: '1' })).stdout);
  out.check(left !== undefined, 'no halted aggregates and no parked events are left');
};

export const orderingDrill: Drill = {
  name: 'ordering',
  title: 'Halted Aggregate',
  source: 'DLQ Management > Halted Aggregate; DLQ Management > Recovery Procedures',
  run: async (kit) => {
    const { out, urls } = kit;
    out.step(`(setup) users A and B and ${OTHERS} others, created and applied`);
    out.command(`curl -X POST ${urls.backend}/api/users   # ${2 + OTHERS} times`);
    const users = await createSceneUsers(kit);
    if (!out.check(users !== undefined, `all ${2 + OTHERS} users applied by ${kit.group}`) || !users) return;
    out.evidence(
      [
        `user A  user/${users.ann}`,
        `user B  user/${users.bob}`,
        ...users.others.map((id) => `other   user/${id}`),
      ].join('\n'),
    );
    await kit.sql(applyLogDdl(kit.store.kind));
    for (const id of [users.ann, users.bob, ...users.others]) kit.applyLog.watched.add(id);

    out.step(
      '(setup) an old importer writes an event for user A with bad data straight to the outbox;',
      `a handler defect then fails every event of user B; both users are renamed ${LATER} times, each other user once`,
    );
    out.command(
      `curl -X PATCH ${urls.backend}/api/users/<A|B|other>   # interleaved`,
      "the consumer applies each user's events in outbox order: a dead letter halts its user",
    );
    const scene = await writeHaltingEvents(kit, users);
    if (!(await halt(kit, scene))) return;
    const [annDead] = await kit.deadLetters([scene.ann.failing]);
    const [bobDead] = await kit.deadLetters([scene.bob.failing]);
    await showWaiting(kit, scene, annDead?.id ?? scene.ann.failing);

    await releaseByResolve(kit, scene, annDead?.id ?? scene.ann.failing);
    await releaseByReprocess(kit, scene, bobDead?.id ?? scene.bob.failing);
    await checkNothingWaits(kit);
  },
};

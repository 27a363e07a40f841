// Bus.exec on a Redis Cluster, where no script may touch keys of two slots: writes whose streams
// share a slot stay one atomic script; writes over several slots run as one script per slot, in an
// order that a crash between two of them cannot turn into a loss (adds come before the acks and
// deletes that retire their source) and that re-running repairs without duplicates (adds with
// `once`; acks and deletes repeat harmlessly).
import { MmError } from '../../core/errors.ts';
import type { Bus, BusWrite, ExecOptions, ExecResult } from '../../ports/bus.ts';
import { idFieldRefs } from '../exec-id-fields.ts';
import type { RedisConnection } from './connection.ts';
import { redisCall } from './errors.ts';
import { encodeExec } from './exec-script.ts';
import type { KeyScheme } from './keys.ts';

export type RunScript = (keys: string[], arg: string) => Promise<[number, string[]]>;

type Step = {
  readonly tag: string;
  /** Positions in the exec's writes, in their order. */
  readonly writes: number[];
  readonly adds: boolean;
};

/** Steps by slot: adds first, then acks and deletes, the slot of the required entry last. */
const planSteps = (
  scheme: KeyScheme,
  writes: readonly BusWrite[],
  requireTag: string | undefined,
): Step[] => {
  const steps = new Map<string, { tag: string; writes: number[]; adds: boolean; first: number }>();
  writes.forEach((write, at) => {
    const tag = scheme.tagOf(write.stream);
    const step = steps.get(tag) ?? { tag, writes: [], adds: false, first: at };
    step.writes.push(at);
    step.adds ||= write.op === 'add';
    steps.set(tag, step);
  });
  const rank = (s: { tag: string; adds: boolean }): number => (s.tag === requireTag ? 2 : s.adds ? 0 : 1);
  return [...steps.values()].sort((a, b) => rank(a) - rank(b) || a.first - b.first);
};

export const createClusterExec = (
  redis: RedisConnection,
  scheme: KeyScheme,
  runScript: RunScript,
): Bus['exec'] => {
  const atomic = async (writes: readonly BusWrite[], options: ExecOptions): Promise<ExecResult> => {
    const { keys, arg } = encodeExec(writes, options, scheme.key);
    const [applied, addedIds] = await redisCall(() => runScript(keys, arg));
    return { applied: applied === 1, addedIds: applied === 1 ? addedIds : [] };
  };

  const entryExists = async (stream: string, id: string): Promise<boolean> =>
    ((await redisCall(() => redis.call('XRANGE', scheme.key(stream), id, id))) as unknown[]).length > 0;

  return async (writes, options = {}) => {
    const refs = idFieldRefs(writes);
    const require = options.requireEntry;
    const requireTag = require ? scheme.tagOf(require.stream) : undefined;
    const steps = planSteps(scheme, writes, requireTag);
    const inOneSlot =
      steps.length === 0 || (steps.length === 1 && [undefined, steps[0]?.tag].includes(requireTag));
    if (inOneSlot) return atomic(writes, options);

    // The position of each add among the adds, and the step that makes it.
    const addIndex = new Map<number, number>();
    writes.forEach((w, at) => {
      if (w.op === 'add') addIndex.set(at, addIndex.size);
    });
    const stepOf = new Map<number, number>();
    steps.forEach((step, s) => {
      for (const at of step.writes) stepOf.set(at, s);
    });
    const writeOfAdd = [...addIndex.keys()];
    refs.forEach((list, at) => {
      for (const [name, add] of list) {
        if ((stepOf.get(writeOfAdd[add] as number) ?? 0) > (stepOf.get(at) ?? 0)) {
          throw new MmError('INTERNAL', `exec: idFields.${name} names an add of a later slot step`);
        }
      }
    });

    // The required entry is checked before anything is written, and again, atomically, in its step.
    if (require && !(await entryExists(require.stream, require.id))) return { applied: false, addedIds: [] };
    const added: string[] = []; // by add index
    const onceWritten: Array<{ stream: string; once: string }> = [];
    // Done (or closed by someone else first): the keys have served. A run cut short keeps them for
    // its re-run; one left by a crash only ever returns an entry that still exists.
    const forgetOnceKeys = () =>
      Promise.allSettled(onceWritten.map((w) => redis.hdel(scheme.onceKey(w.stream), w.once)));
    for (const step of steps) {
      const local = new Map<number, number>(); // add index -> position among this step's adds
      const stepAdds: number[] = [];
      const stepWrites = step.writes.map((at): BusWrite => {
        const write = writes[at] as BusWrite;
        if (write.op !== 'add') return write;
        const index = addIndex.get(at) as number;
        local.set(index, local.size);
        stepAdds.push(index);
        if (write.once !== undefined) onceWritten.push({ stream: write.stream, once: write.once });
        const literal: Record<string, string> = {};
        const idFields: Record<string, number> = {};
        for (const [name, add] of refs[at] ?? []) {
          const mine = local.get(add);
          if (mine === undefined) literal[name] = added[add] as string;
          else idFields[name] = mine;
        }
        const { idFields: _given, ...rest } = write;
        return { ...rest, fields: { ...write.fields, ...literal }, idFields };
      });
      const stepOptions = step.tag === requireTag && require ? { requireEntry: require } : {};
      const { keys, arg } = encodeExec(stepWrites, stepOptions, scheme.key, scheme.onceKey);
      const [applied, ids] = await redisCall(() => runScript(keys, arg));
      if (applied !== 1) {
        await forgetOnceKeys();
        return { applied: false, addedIds: [] };
      }
      stepAdds.forEach((index, i) => {
        added[index] = ids[i] as string;
      });
    }
    await forgetOnceKeys();
    return { applied: true, addedIds: added };
  };
};

// Checks the `idFields` of an exec's adds: each may only name an earlier add (0-based), so every
// adapter resolves them the same way, before anything is written.
import { MmError } from '../core/errors.ts';
import type { BusWrite } from '../ports/bus.ts';

export type IdFieldRef = readonly [name: string, addIndex: number];

/** For each write: the id fields of an add, checked; empty for other writes. */
export const idFieldRefs = (writes: readonly BusWrite[]): IdFieldRef[][] => {
  let adds = 0;
  return writes.map((write) => {
    if (write.op !== 'add') return [];
    const refs = Object.entries(write.idFields ?? {}).map(([name, at]): IdFieldRef => {
      if (!Number.isInteger(at) || at < 0 || at >= adds) {
        throw new MmError('INTERNAL', `exec: idFields.${name} names add #${at}, which is not an earlier add`);
      }
      return [name, at];
    });
    adds += 1;
    return refs;
  });
};

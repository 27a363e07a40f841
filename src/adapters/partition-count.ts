// What both bus adapters share about a topic's recorded partition count: the values they accept.
import { PermanentError, ValidationError } from '../core/errors.ts';

export const assertPartitionCount = (partitions: number): void => {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new ValidationError(`a partition count is an integer >= 1, got ${partitions}`);
  }
};

/** A stored value back as a count; anything else there was not written by mm. */
export const parsePartitionCount = (raw: string | number | null | undefined): number | undefined => {
  if (raw === null || raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PermanentError(
      `the recorded partition count is not an integer >= 1: "${String(raw).slice(0, 40)}"`,
    );
  }
  return value;
};

// Stream entry ids of the shim: `<ms>-<seq>` as a pair of safe integers, generated and compared the
// way Redis does it, with range bounds (`-`, `+`, `(` exclusive, ms-only ids) parsed the Redis way.
import { ValidationError } from '../../../core/errors.ts';

export type EntryId = { readonly ms: number; readonly seq: number };

const top = Number.MAX_SAFE_INTEGER;
export const zeroId: EntryId = { ms: 0, seq: 0 };
/** The largest id the shim can hold (Redis goes to 2^64-1; SQLite and JavaScript numbers stop here). */
export const maxId: EntryId = { ms: top, seq: top };

const idPattern = /^(\d{1,20})(?:-(\d{1,20}))?$/;

const part = (digits: string): number => {
  // Beyond every id the shim generates, so a clamped bound keeps its meaning.
  return Math.min(Number(digits), top);
};

const U64_MAX = '18446744073709551615';
const formatPart = (value: number): string => (value >= top ? U64_MAX : String(value));

/** A clamped part reads back as the largest Redis value, so a position set there reads as it was given. */
export const formatId = (id: EntryId): string => `${formatPart(id.ms)}-${formatPart(id.seq)}`;

export const compareIds = (a: EntryId, b: EntryId): number =>
  a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;

export const isZeroId = (id: EntryId): boolean => id.ms === 0 && id.seq === 0;

/** `<ms>-<seq>`, or `<ms>` alone with the sequence `missingSeq` supplies (Redis: 0 for starts, max for ends). */
export const parseId = (text: string, missingSeq: 'zero' | 'max' = 'zero'): EntryId => {
  const match = idPattern.exec(text);
  if (!match) throw new ValidationError(`invalid stream id "${String(text).slice(0, 60)}" (want <ms>-<seq>)`);
  const seq = match[2];
  return {
    ms: part(match[1] as string),
    seq: seq === undefined ? (missingSeq === 'max' ? top : 0) : part(seq),
  };
};

/**
 * A group position (XGROUP CREATE/SETID). Redis takes any 64-bit id; replay sets `<ms-1>-<2^64-1>` to
 * deliver an `<ms>-0` entry again. A clamped part sorts after every id the shim ever generates, so
 * the position keeps its meaning, and `formatId` gives it back as written.
 */
export const parsePositionId = (text: string): EntryId => parseId(text);

export const incrementId = (id: EntryId): EntryId | null =>
  id.seq < top ? { ms: id.ms, seq: id.seq + 1 } : id.ms < top ? { ms: id.ms + 1, seq: 0 } : null;

export const decrementId = (id: EntryId): EntryId | null =>
  id.seq > 0 ? { ms: id.ms, seq: id.seq - 1 } : id.ms > 0 ? { ms: id.ms - 1, seq: top } : null;

/** The id XADD `*` gives the next entry: the clock, but never at or below the last id (clocks step back). */
export const nextAddId = (last: EntryId, nowMs: number): EntryId => {
  if (nowMs > last.ms) return { ms: nowMs, seq: 0 };
  return incrementId(last) ?? last; // at the very top Redis refuses too; never reached by a clock
};

/** Inclusive lower bound, or null when the range is empty whatever the stream holds. */
export const rangeStart = (text: string): EntryId | null => {
  if (text === '-') return zeroId;
  if (text === '+') return maxId;
  if (text.startsWith('(')) {
    const inner = text.slice(1);
    return incrementId(inner === '-' ? zeroId : inner === '+' ? maxId : parseId(inner, 'zero'));
  }
  return parseId(text, 'zero');
};

/** Inclusive upper bound, or null when the range is empty whatever the stream holds. */
export const rangeEnd = (text: string): EntryId | null => {
  if (text === '+') return maxId;
  if (text === '-') return zeroId;
  if (text.startsWith('(')) {
    const inner = text.slice(1);
    return decrementId(inner === '-' ? zeroId : inner === '+' ? maxId : parseId(inner, 'max'));
  }
  return parseId(text, 'max');
};

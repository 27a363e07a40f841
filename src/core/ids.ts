// Identifiers: time-ordered UUID v7 event ids and Redis stream ids (`<ms>-<seq>`).
import { randomFillSync } from 'node:crypto';
import { ValidationError } from './errors.ts';

let lastMs = 0;
let counter = 0;

// Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per id.
const entropy = Buffer.alloc(4096);
let entropyAt = entropy.length;
const randomInto = (target: Buffer, length: number): void => {
  if (entropyAt + length > entropy.length) {
    randomFillSync(entropy);
    entropyAt = 0;
  }
  entropy.copy(target, 0, entropyAt, entropyAt + length);
  entropyAt += length;
};

/** RFC 9562 UUID v7: 48-bit ms timestamp, then a 12-bit counter so ids from one process stay ordered. */
export const uuidv7 = (now: number = Date.now()): string => {
  if (now > lastMs) {
    lastMs = now;
    const seed = Buffer.allocUnsafe(2);
    randomInto(seed, 2);
    counter = seed.readUInt16BE(0) & 0x3ff; // leave headroom before the counter overflows
  } else {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1; // borrow the next millisecond rather than lose ordering
      counter = 0;
    }
  }
  const bytes = Buffer.allocUnsafe(16);
  randomInto(bytes, 16);
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((counter >>> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): boolean => typeof value === 'string' && uuidPattern.test(value);

export type StreamId = { readonly ms: bigint; readonly seq: bigint };

const streamIdPattern = /^(\d{1,20})-(\d{1,20})$/;
export const isStreamId = (value: string): boolean => streamIdPattern.test(value);

export const parseStreamId = (value: string): StreamId => {
  const match = streamIdPattern.exec(value);
  if (!match)
    throw new ValidationError(`not a stream id: "${value}" (want <ms>-<seq>, e.g. 1700000000000-0)`);
  return { ms: BigInt(match[1] ?? '0'), seq: BigInt(match[2] ?? '0') };
};

/** Where the dash is in `<ms>-<seq>` without leading zeros (all Redis hands out), else -1. */
const canonicalDash = (id: string): number => {
  const dash = id.indexOf('-');
  if (dash <= 0 || dash === id.length - 1) return -1;
  if (id.charCodeAt(0) === 0x30 && dash > 1) return -1;
  if (id.charCodeAt(dash + 1) === 0x30 && id.length - dash > 2) return -1;
  for (let i = 0; i < id.length; i += 1) {
    const c = id.charCodeAt(i);
    if (i !== dash && (c < 0x30 || c > 0x39)) return -1;
  }
  return dash;
};

/** Compares digit runs of equal length, character by character. */
const compareDigits = (a: string, from: number, b: string, bFrom: number, length: number): number => {
  for (let i = 0; i < length; i += 1) {
    const d = a.charCodeAt(from + i) - b.charCodeAt(bFrom + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
};

export const compareStreamIds = (a: string, b: string): number => {
  // Canonical ids compare as text, a longer number being the larger: no parsing, no BigInt, on the
  // consumer's per-entry paths.
  const ad = canonicalDash(a);
  const bd = canonicalDash(b);
  if (ad > 0 && bd > 0) {
    if (ad !== bd) return ad < bd ? -1 : 1;
    const ms = compareDigits(a, 0, b, 0, ad);
    if (ms !== 0) return ms;
    const al = a.length - ad;
    const bl = b.length - bd;
    if (al !== bl) return al < bl ? -1 : 1;
    return compareDigits(a, ad + 1, b, bd + 1, al - 1);
  }
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
};

/** Milliseconds since the epoch encoded in a stream id: the time Redis (or the shim) stored the entry. */
export const streamIdTime = (id: string): number => Number(parseStreamId(id).ms);

/** The smallest id strictly greater than `id`, for exclusive range starts. */
export const nextStreamId = (id: string): string => {
  const { ms, seq } = parseStreamId(id);
  return seq === 18446744073709551615n ? `${ms + 1n}-0` : `${ms}-${seq + 1n}`;
};

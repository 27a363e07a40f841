// XREADGROUP replies, as ioredis hands over Buffer replies (`callBuffer`), straight into stream
// entries in one pass: the consumer's hot path, where every entry has the same ten field names.
import type { StreamFields } from '../../core/envelope.ts';
import type { StreamEntry, StreamRead } from '../../ports/bus.ts';

export type RawBufferReads = [stream: Buffer, entries: [id: Buffer, fields: Buffer[] | null][]][] | null;

export type ReadDecoder = (reply: RawBufferReads, unkey: (key: string) => string) => StreamRead[];

// Names beyond this position are decoded every time (entries this wide are not the hot path).
const REMEMBERED_NAMES = 64;

const sameBytes = (a: Buffer, b: Buffer): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * A decoder that remembers the field name last seen at each position: when the bytes match, the
 * same string is used again, so a batch does not decode the same names (and make property keys of
 * them) once per entry. Entries deleted while pending (null fields) are left out.
 */
export const createReadDecoder = (): ReadDecoder => {
  const names: string[] = [];
  const nameBytes: Buffer[] = [];
  const nameAt = (position: number, bytes: Buffer): string => {
    const known = nameBytes[position];
    if (known !== undefined && sameBytes(known, bytes)) return names[position] as string;
    const name = bytes.toString();
    if (position < REMEMBERED_NAMES) {
      names[position] = name;
      nameBytes[position] = Buffer.from(bytes);
    }
    return name;
  };
  return (reply, unkey) => {
    const reads: StreamRead[] = [];
    for (const [key, raw] of reply ?? []) {
      const entries: StreamEntry[] = [];
      for (const [id, flat] of raw) {
        if (!flat) continue;
        const fields: StreamFields = {};
        for (let i = 0; i + 1 < flat.length; i += 2) {
          fields[nameAt(i >> 1, flat[i] as Buffer)] = (flat[i + 1] as Buffer).toString();
        }
        // Stream ids are ASCII digits and a dash.
        entries.push({ id: id.toString('latin1'), fields });
      }
      reads.push({ stream: unkey(key.toString()), entries });
    }
    return reads;
  };
};

// Reads RESP2 replies off a socket: chunks are gathered in one growing buffer, skimmed (structure
// only, no strings made) until every expected reply is whole, then parsed once. Skimming resumes
// where it stopped, so a reply of thousands of stream entries costs one pass, however many chunks
// it arrives in.

/** A bulk or simple string, an integer (as its decimal text), null, an error, or an array of those. */
export type RespReply = string | null | { readonly error: string } | readonly RespReply[];

export const isReplyError = (reply: RespReply | undefined): reply is { readonly error: string } =>
  typeof reply === 'object' && reply !== null && !Array.isArray(reply);

const CR = 0x0d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const COLON = 0x3a;
const DOLLAR = 0x24;
const STAR = 0x2a;

const readInteger = (buffer: Buffer, from: number, to: number): number => {
  let at = from;
  const negative = buffer[at] === MINUS;
  if (negative) at += 1;
  if (at === to) throw new Error('malformed RESP length');
  let value = 0;
  for (; at < to; at += 1) {
    const digit = (buffer[at] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) throw new Error('malformed RESP length');
    value = value * 10 + digit;
  }
  return negative ? -value : value;
};

export type RespReader = {
  /** Starts waiting for `replies` whole replies (the previous wait must be over). */
  expect(replies: number): void;
  /** Takes a chunk; returns the replies once all expected ones are whole, else undefined. */
  push(chunk: Buffer): RespReply[] | undefined;
  reset(): void;
};

export const createRespReader = (): RespReader => {
  let buffer = Buffer.allocUnsafe(64 * 1024);
  let length = 0;
  // Skim state: where the next element starts, and the elements still to come at each depth.
  let skimAt = 0;
  let open: number[] = [];
  let expected = 0;

  const append = (chunk: Buffer): void => {
    if (length + chunk.length > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + chunk.length));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    chunk.copy(buffer, length);
    length += chunk.length;
  };

  /** True once every expected reply is whole; false when more bytes are needed. */
  const skim = (): boolean => {
    for (;;) {
      const depth = open.length - 1;
      if (depth < 0) return true;
      if (open[depth] === 0) {
        open.pop();
        if (open.length > 0) open[open.length - 1] = (open[open.length - 1] ?? 1) - 1;
        continue;
      }
      const cr = buffer.indexOf(CR, skimAt);
      if (cr < 0 || cr + 1 >= length) return false;
      const type = buffer[skimAt];
      let next = cr + 2;
      if (type === DOLLAR) {
        const size = readInteger(buffer, skimAt + 1, cr);
        if (size >= 0) next += size + 2;
        if (next > length) return false;
      } else if (type === STAR) {
        const size = readInteger(buffer, skimAt + 1, cr);
        if (size > 0) {
          skimAt = next;
          open.push(size);
          continue;
        }
      } else if (type !== PLUS && type !== MINUS && type !== COLON) {
        throw new Error(`unexpected RESP reply type ${String.fromCharCode(type ?? 0)}`);
      }
      skimAt = next;
      open[depth] = (open[depth] ?? 1) - 1;
    }
  };

  // Parsing only runs over replies the skim found whole, so it never checks for the end.
  let at = 0;
  const parseOne = (): RespReply => {
    const cr = buffer.indexOf(CR, at);
    const type = buffer[at];
    const lineStart = at + 1;
    at = cr + 2;
    if (type === DOLLAR) {
      const size = readInteger(buffer, lineStart, cr);
      if (size < 0) return null;
      const text = buffer.toString('utf8', at, at + size);
      at += size + 2;
      return text;
    }
    if (type === STAR) {
      const size = readInteger(buffer, lineStart, cr);
      if (size < 0) return null;
      const items: RespReply[] = new Array(size);
      for (let i = 0; i < size; i += 1) items[i] = parseOne();
      return items;
    }
    const line = buffer.toString('utf8', lineStart, cr);
    return type === MINUS ? { error: line } : line;
  };

  const reset = (): void => {
    length = 0;
    skimAt = 0;
    open = [];
    expected = 0;
  };

  return {
    expect: (replies) => {
      expected = replies;
      open = [replies];
      skimAt = 0;
    },
    push: (chunk) => {
      append(chunk);
      if (expected === 0 || !skim()) return undefined;
      at = 0;
      const replies: RespReply[] = new Array(expected);
      for (let i = 0; i < expected; i += 1) replies[i] = parseOne();
      // Nothing arrives unasked, but keep whatever follows rather than lose it.
      buffer.copy(buffer, 0, at, length);
      length -= at;
      expected = 0;
      open = [];
      skimAt = 0;
      return replies;
    },
    reset,
  };
};

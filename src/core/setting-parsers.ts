// The parsers settings tables use: each says what it accepts, so problems, help and docs read alike.
import { isTopicName } from './envelope.ts';
import { isStreamId } from './ids.ts';
import type { Parser } from './settings.ts';

/** Any text (a path, a prefix, a note). */
export const text: Parser<string> = { parse: (raw) => raw };

/** Any text but the empty string (a file to open). */
export const nonEmpty = (accepts: string): Parser<string> => ({
  parse: (raw) => (raw.trim() === '' ? undefined : raw),
  accepts,
});

/** An integer within a range; `max` absent: no upper bound. */
export const integer = (min: number, max?: number): Parser<number> => ({
  parse: (raw) => {
    const value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    return Number.isSafeInteger(value) && value >= min && value <= (max ?? Number.MAX_SAFE_INTEGER)
      ? value
      : undefined;
  },
  accepts: `an integer ${max === undefined ? `>= ${min}` : `${min}..${max}`}`,
  range: max === undefined ? `>=${min}` : `${min}..${max}`,
});

export const port: Parser<number> = integer(0, 65_535);

/** Seconds, fractions allowed (`2.5`). */
export const seconds: Parser<number> = {
  parse: (raw) => (/^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : undefined),
  accepts: 'a number of seconds >= 0',
  range: '>=0',
};

const unitsMs: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90s`, `15m`, `2h`, `30d` (or plain milliseconds) to milliseconds; undefined when malformed. */
export const parseDurationMs = (raw: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(raw.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (unitsMs[match[2] ?? 'ms'] ?? 1));
};

/** A positive duration with a unit, in milliseconds. */
export const duration: Parser<number> = {
  parse: (raw) => {
    const ms = parseDurationMs(raw);
    return ms === undefined || ms <= 0 ? undefined : ms;
  },
  accepts: 'a duration like 90s, 15m, 2h or 30d',
};

export const oneOf = <const C extends readonly string[]>(choices: C): Parser<C[number]> => ({
  parse: (raw) => choices.find((choice) => choice === raw),
  accepts: `one of ${choices.join(', ')}`,
  range: choices.join('|'),
});

const on = /^(1|true|yes|on)$/i;
const off = /^(0|false|no|off)$/i;

/** A flag without a value; its environment variable takes 1/0, true/false, yes/no or on/off. */
export const flagSwitch: Parser<boolean> = {
  parse: (raw) => (on.test(raw) ? true : off.test(raw) ? false : undefined),
  accepts: 'one of 1, true, yes, on, 0, false, no, off',
};

/** Text matching a pattern, as `accepts` describes it; `normalize` applies to accepted values. */
export const matching = (
  pattern: RegExp,
  accepts: string,
  normalize: (raw: string) => string = (raw) => raw,
): Parser<string> => ({ parse: (raw) => (pattern.test(raw) ? normalize(raw) : undefined), accepts });

/** A URL with one of these schemes (`postgres:`); `accepts` names it for people. */
export const url = (schemes: readonly string[], accepts: string): Parser<string> => ({
  parse: (raw) => {
    try {
      return schemes.includes(new URL(raw).protocol) ? raw : undefined;
    } catch {
      return undefined;
    }
  },
  accepts,
});

/** One topic name (`identity`). */
export const topic: Parser<string> = {
  parse: (raw) => (isTopicName(raw.trim()) ? raw.trim() : undefined),
  accepts: 'one topic name',
};

/** Comma-separated topic names (`identity,billing`), at least one, duplicates dropped. */
export const topicList: Parser<readonly string[]> = {
  parse: (raw) => {
    const topics = [
      ...new Set(
        raw
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ];
    return topics.length > 0 && topics.every(isTopicName) ? topics : undefined;
  },
  accepts: 'topic names, comma-separated',
};

/** Where a new consumer group starts reading. */
export const startId: Parser<string> = {
  parse: (raw) => (raw === '0' || raw === '$' || isStreamId(raw) ? raw : undefined),
  accepts: '0, $ or a stream id like 1700000000000-0',
};

/** Parses with a function that throws on bad input (a domain parser the tables reuse). */
export const fromThrowing = <T>(parse: (raw: string) => T, accepts: string): Parser<T> => ({
  parse: (raw) => {
    try {
      return parse(raw);
    } catch {
      return undefined;
    }
  },
  accepts,
});

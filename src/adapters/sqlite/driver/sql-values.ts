// JavaScript values as SQLite binds them, numbered for the `$n` placeholders raw SQL uses in both
// dialects (the driver binds `$1` from the key `1`, so SQLite itself finds the placeholders).
import { ValidationError } from '../../../core/errors.ts';
import type { NumberedValues, SqlValue } from './driver.ts';

/** A JavaScript value as SQLite can bind it: booleans as 0/1, dates as ISO text, objects as JSON. */
export const toSqlValue = (value: unknown, position: number): SqlValue => {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'bigint':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(`parameter $${position} is not a finite number`);
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'object':
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Uint8Array) return value;
      return JSON.stringify(value);
    default:
      throw new ValidationError(`parameter $${position} cannot be bound (${typeof value})`);
  }
};

/** `[a, b]` as `{ 1: a, 2: b }`, for SQL written with `$1`, `$2`. */
export const numberedValues = (params: readonly unknown[]): NumberedValues =>
  Object.fromEntries(params.map((value, index) => [index + 1, toSqlValue(value, index + 1)]));

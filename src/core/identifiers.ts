// SQL identifiers that come from configuration (schema names) are validated, never interpolated raw.
import { ValidationError } from './errors.ts';

const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export const assertIdentifier = (value: string, what = 'identifier'): string => {
  if (!identifierPattern.test(value)) {
    throw new ValidationError(`invalid ${what} "${value}": want ${identifierPattern.source}`);
  }
  return value;
};

/** A validated identifier in double quotes, safe in both Postgres and SQLite. */
export const quoteIdentifier = (value: string, what = 'identifier'): string =>
  `"${assertIdentifier(value, what)}"`;

// Translates postgres.js and server errors into mm's error classes; nothing above adapters sees a SQLSTATE.
import {
  ConflictError,
  coerceError,
  MmError,
  NotFoundError,
  TransientError,
  ValidationError,
} from '../../core/errors.ts';
import { describeNetworkError } from '../network-errors.ts';

// Connection-level failures from the driver, and server states that pass (shutdown, overload, deadlock).
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '53300',
  '53400',
  '40001',
  '40P01',
  '55P03',
  // After start-up a dropped database or a rotated password is waited out like an outage; at
  // start-up `postgresConfigProblem` makes them a configuration error (exit 78).
  '3D000',
  '28P01',
  '28000',
]);

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
};

export const translatePgError = (thrown: unknown): Error => {
  if (thrown instanceof MmError) return thrown;
  const error = coerceError(thrown);
  const code = codeOf(thrown);
  if (transientCodes.has(code) || code.startsWith('08')) {
    return new TransientError(`database unavailable: ${describeNetworkError(error) ?? error.message}`, {
      cause: error,
      dependency: 'database',
      clientDetail: 'database unavailable',
    });
  }
  // The server's own text stays in the logs; a client reads what the service says instead.
  if (code === '23505')
    return new ConflictError(error.message, { cause: error, clientDetail: 'conflicts with existing data' });
  if (code === '42P01' || code === '42883') {
    return new MmError('INTERNAL', `database is not migrated (run mm-backend migrate): ${error.message}`, {
      cause: error,
    });
  }
  if (code.startsWith('22') || code.startsWith('23'))
    return new ValidationError(error.message, {
      cause: error,
      clientDetail: 'a value the database cannot store',
    });
  if (code === 'P0002') return new NotFoundError(error.message, { cause: error, clientDetail: 'not found' });
  return error;
};

/**
 * What is wrong with the configuration when the first connection fails this way (no such database,
 * a refused password or role); undefined for an outage, which the services wait out.
 */
export const postgresConfigProblem = (thrown: unknown): string | undefined => {
  const error = thrown instanceof MmError && thrown.cause !== undefined ? thrown.cause : thrown;
  const code = codeOf(error);
  const message = coerceError(error).message;
  if (code === '3D000') return `has no such database (${message})`;
  if (code === '28P01' || code === '28000' || code === 'SASL_SIGNATURE_MISMATCH')
    return `refused the credentials (${message})`;
  return undefined;
};

/** Runs a driver call and rethrows its failure translated. */
export const pgCall = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw translatePgError(error);
  }
};

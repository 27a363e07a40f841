// Whether a failure is a dependency's (retry the batch, count no attempt) rather than the event's.
import { ErrorCodes, isTransient } from '../core/errors.ts';

/**
 * A TransientError from this bundle, or one thrown by a handler module that imported the class from
 * another copy of the package (instanceof cannot see across copies, so name and code decide).
 */
export const isTransientFailure = (error: unknown): boolean =>
  isTransient(error) ||
  (error instanceof Error &&
    error.name === 'TransientError' &&
    (error as { code?: unknown }).code === ErrorCodes.transient);

// The error vocabulary of mm: adapters translate driver errors into these, so services never see driver codes.

export const ErrorCodes = {
  validation: 'VALIDATION',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  transient: 'TRANSIENT',
  permanent: 'PERMANENT',
  config: 'CONFIG',
  usage: 'USAGE',
  noGroup: 'NOGROUP',
  internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export type MmErrorOptions = {
  readonly cause?: unknown;
  /**
   * What an HTTP client may read instead of `message`, when the message carries a dependency's
   * own words (a database server's error text): those stay in the logs.
   */
  readonly clientDetail?: string;
};

export class MmError extends Error {
  readonly code: ErrorCode;
  readonly clientDetail: string | undefined;
  constructor(code: ErrorCode, message: string, options?: MmErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = 'MmError';
    this.clientDetail = options?.clientDetail;
  }
}

/** Input that can never succeed as given (bad payload, bad field). */
export class ValidationError extends MmError {
  readonly problems: readonly string[];
  constructor(message: string, options?: MmErrorOptions & { problems?: readonly string[] }) {
    super(ErrorCodes.validation, message, options);
    this.name = 'ValidationError';
    this.problems = options?.problems ?? [message];
  }
}

export class NotFoundError extends MmError {
  constructor(message: string, options?: MmErrorOptions) {
    super(ErrorCodes.notFound, message, options);
    this.name = 'NotFoundError';
  }
}

/** A uniqueness or state conflict (duplicate email, group already exists). */
export class ConflictError extends MmError {
  constructor(message: string, options?: MmErrorOptions) {
    super(ErrorCodes.conflict, message, options);
    this.name = 'ConflictError';
  }
}

/** A dependency is unreachable or busy: retry forever with backoff, never burn an event's attempts. */
export class TransientError extends MmError {
  /** Which dependency failed, for health reasons and log lines ("Redis unavailable"). */
  readonly dependency: 'redis' | 'database' | 'bus' | 'store' | 'other';
  constructor(message: string, options?: MmErrorOptions & { dependency?: TransientError['dependency'] }) {
    super(ErrorCodes.transient, message, options);
    this.name = 'TransientError';
    this.dependency = options?.dependency ?? 'other';
  }
}

/** Fails on its own merits every time (poison payload, wrong key type): counts towards the DLQ. */
export class PermanentError extends MmError {
  constructor(message: string, options?: MmErrorOptions) {
    super(ErrorCodes.permanent, message, options);
    this.name = 'PermanentError';
  }
}

/** The consumer group or stream vanished (NOGROUP): recreate it, then carry on. */
export class NoGroupError extends MmError {
  constructor(message: string, options?: MmErrorOptions) {
    super(ErrorCodes.noGroup, message, options);
    this.name = 'NoGroupError';
  }
}

/** Bad flags or environment, reported all at once before anything starts. */
export class ConfigError extends MmError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(ErrorCodes.config, `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A command line that cannot be run as typed (CLI exit 64). */
export class UsageError extends MmError {
  constructor(message: string, options?: MmErrorOptions) {
    super(ErrorCodes.usage, message, options);
    this.name = 'UsageError';
  }
}

/** Whether reading an Error's name, message and stack works (a getter may throw or recurse). */
const isDescribable = (error: Error): boolean => {
  try {
    return (
      typeof String(error.name) === 'string' &&
      typeof String(error.message) === 'string' &&
      typeof String(error.stack ?? '') === 'string'
    );
  } catch {
    return false;
  }
};

/** A statement sent through a transaction after it committed or rolled back (every store refuses it). */
export const transactionEnded = (): MmError => new MmError('INTERNAL', 'the transaction has already ended');

/**
 * Turns anything thrown into an Error, so every catch can read `.message` and `.stack` safely. What
 * cannot even be described (a stack overflow in its toString or message getter) fails the same way
 * every time: a PermanentError.
 */
export const coerceError = (thrown: unknown): Error => {
  if (thrown instanceof Error) {
    if (isDescribable(thrown)) return thrown;
    return new PermanentError('an error was thrown that cannot be described (its message or stack throws)');
  }
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(JSON.stringify(thrown));
  } catch {
    try {
      return new Error(String(thrown));
    } catch (describing) {
      const why = describing instanceof RangeError ? 'a stack overflow' : 'an error';
      return new PermanentError(`a value was thrown that cannot be described (${why} while describing it)`);
    }
  }
};

/**
 * Fails the same way on every attempt: a PermanentError or ValidationError, from this bundle or from
 * a handler module with its own copy of the classes (name and code decide across copies).
 */
export const isPermanent = (error: unknown): boolean =>
  error instanceof PermanentError ||
  error instanceof ValidationError ||
  (error instanceof Error &&
    ((error.name === 'PermanentError' && (error as { code?: unknown }).code === ErrorCodes.permanent) ||
      (error.name === 'ValidationError' && (error as { code?: unknown }).code === ErrorCodes.validation)));

export const isTransient = (error: unknown): error is TransientError => error instanceof TransientError;

/** The lease that guarded this work was lost to another holder: drop the work, never commit it. */
export class FencedError extends MmError {
  constructor(message: string, options?: MmErrorOptions) {
    super(ErrorCodes.conflict, message, options);
    this.name = 'FencedError';
  }
}

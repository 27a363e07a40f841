// Translates ioredis and Redis reply errors into mm's error classes.
import {
  ConflictError,
  coerceError,
  MmError,
  NoGroupError,
  PermanentError,
  TransientError,
} from '../../core/errors.ts';

// Reply prefixes of states that pass on their own (loading a dump, failover, script busy, OOM under
// noeviction until consumers catch up, every client slot taken), and client-side connection failures.
const transientReplies =
  /^(LOADING|READONLY|MASTERDOWN|BUSY |TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM|MISCONF|ERR max number of clients)/;
const transientClientMessages =
  /Connection is closed|Stream isn't writeable|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|connect ETIMEDOUT|Reached the max retries|enableOfflineQueue/;

export const translateRedisError = (thrown: unknown): Error => {
  if (thrown instanceof MmError) return thrown;
  const error = coerceError(thrown);
  const message = error.message;
  if (message.startsWith('WRONGTYPE')) return new PermanentError(message, { cause: error });
  // XGROUP SETID/DESTROY on a missing stream: the group is missing too.
  if (message.startsWith('NOGROUP') || message.includes('XGROUP subcommand requires the key to exist')) {
    return new NoGroupError(message, { cause: error });
  }
  if (message.startsWith('BUSYGROUP')) return new ConflictError(message, { cause: error });
  if (
    transientReplies.test(message) ||
    transientClientMessages.test(message) ||
    error.name === 'MaxRetriesPerRequestError'
  ) {
    return new TransientError(`Redis unavailable: ${message}`, { cause: error, dependency: 'redis' });
  }
  return error;
};

export const redisCall = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw translateRedisError(error);
  }
};

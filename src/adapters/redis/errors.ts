// Translates ioredis and Redis reply errors into mm's error classes, for every Redis path.
import {
  ConflictError,
  coerceError,
  MmError,
  NoGroupError,
  PermanentError,
  TransientError,
} from '../../core/errors.ts';
import { describeNetworkError } from '../network-errors.ts';

// Replies of states that pass on their own (loading a dump, failover, script busy, OOM under
// noeviction until consumers catch up, every client slot taken, a slot moving between cluster nodes:
// ioredis follows MOVED and ASK itself, so one that reaches mm outlived its redirections), and
// client-side connection failures (a cluster whose slots cannot be read is one).
const transientReplies =
  /^(LOADING|READONLY|MASTERDOWN|BUSY |TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM|MISCONF|MOVED |ASK )|ERR max number of clients/;
const transientClientMessages =
  /Connection is closed|Stream isn't writeable|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|connect ETIMEDOUT|Reached the max retries|enableOfflineQueue|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|Cluster is ended|All sentinels are unreachable/;

// A refused password (Redis 6+ WRONGPASS, Redis 5 "invalid password"), or none given to a server
// that wants one (NOAUTH, also inside ioredis's "Ready check failed: NOAUTH ...").
const refusedPassword = /WRONGPASS|NOAUTH|invalid password|invalid username-password/;
// SELECT of a database the server does not have.
const noSuchDatabase = /DB index is out of range|invalid DB index/;
// Node's codes for a server certificate this process does not trust or that does not name the host.
const untrustedCertificate = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

// ioredis's own words for "no connection now" (its retry limit, its offline queue, a closed socket):
// the reason is the connection's last error, which these do not carry.
const noConnectionMessages =
  /Reached the max retries|enableOfflineQueue|Stream isn't writeable|Connection is closed/;

/** The connection's most recent failure, if it has failed since it was last ready. */
export type LastConnectionError = () => unknown;

/** A client-side failure in an operator's words: which address refused, reset or did not answer. */
const outageWords = (error: Error, lastConnectionError?: LastConnectionError): string => {
  const direct = describeNetworkError(error);
  if (direct) return direct;
  if (error.name === 'MaxRetriesPerRequestError' || noConnectionMessages.test(error.message)) {
    const last = lastConnectionError?.();
    return (last === undefined ? undefined : describeNetworkError(last)) ?? 'not connected';
  }
  if (/Command timed out/.test(error.message)) return 'no answer in time (command timed out)';
  return error.message;
};

/** An outage of Redis, which the services wait out with backoff. */
export const redisOutage = (reason: string, cause?: unknown): TransientError =>
  new TransientError(`Redis unavailable: ${reason}`, { cause, dependency: 'redis' });

export const translateRedisError = (thrown: unknown, lastConnectionError?: LastConnectionError): Error => {
  if (thrown instanceof MmError) return thrown;
  const error = coerceError(thrown);
  const message = error.message;
  if (message.startsWith('WRONGTYPE')) return new PermanentError(message, { cause: error });
  // XGROUP SETID/DESTROY on a missing stream: the group is missing too.
  if (message.startsWith('NOGROUP') || message.includes('XGROUP subcommand requires the key to exist')) {
    return new NoGroupError(message, { cause: error });
  }
  if (message.startsWith('BUSYGROUP')) return new ConflictError(message, { cause: error });
  // After start-up a refused password is waited out like an outage (a password rotated on the server
  // before the clients); at start-up `redisConfigProblem` makes it a configuration error.
  if (
    transientReplies.test(message) ||
    transientClientMessages.test(message) ||
    refusedPassword.test(message) ||
    error.name === 'MaxRetriesPerRequestError'
  ) {
    return redisOutage(outageWords(error, lastConnectionError), error);
  }
  return error;
};

/**
 * What is wrong with the configuration when a first connection fails this way (refused password,
 * missing database, untrusted TLS certificate); undefined for an outage, which is retried.
 */
export const redisConfigProblem = (thrown: unknown): string | undefined => {
  // A cluster that could not read its slots says why in the last node's error.
  const nodeError = (thrown as { lastNodeError?: unknown } | undefined)?.lastNodeError;
  const error = coerceError(nodeError ?? thrown);
  const code = (error as { code?: unknown }).code;
  if (refusedPassword.test(error.message)) return `refused the credentials (${error.message})`;
  if (noSuchDatabase.test(error.message)) return `has no such database (${error.message})`;
  if (typeof code === 'string' && untrustedCertificate.has(code)) {
    return `presented a TLS certificate this process does not trust (${error.message}); give the CA with NODE_EXTRA_CA_CERTS`;
  }
  return undefined;
};

export const redisCall = async <T>(
  call: () => Promise<T>,
  lastConnectionError?: LastConnectionError,
): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw translateRedisError(error, lastConnectionError);
  }
};

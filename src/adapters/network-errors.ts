// Socket failures in an operator's words ("connection refused by 127.0.0.1:6379"), for the health
// reasons and log lines of every adapter; a client library's own wording (its option names, retry
// counters) never reaches them.

type SocketError = Error & {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  errors?: unknown;
};

const addressIn = /(\[[0-9a-fA-F:]+\]|\d{1,3}(?:\.\d{1,3}){3}|[\w.-]+):(\d{1,5})\b/;

const whereOf = (error: SocketError): string => {
  if (typeof error.address === 'string') {
    return typeof error.port === 'number' ? `${error.address}:${error.port}` : error.address;
  }
  if (typeof error.hostname === 'string') return error.hostname;
  const found = addressIn.exec(error.message);
  return found ? `${found[1]}:${found[2]}` : 'the server';
};

/** The failure in plain words, or undefined when it is no socket failure we know. */
export const describeNetworkError = (thrown: unknown): string | undefined => {
  if (!(thrown instanceof Error)) return undefined;
  const error = thrown as SocketError;
  // Node tries each address of a name in turn (happy eyeballs) and reports them all together.
  if (Array.isArray(error.errors) && error.errors[0] instanceof Error) {
    return describeNetworkError(error.errors[0]) ?? undefined;
  }
  const where = whereOf(error);
  switch (error.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ECONNRESET':
      return `connection reset by ${where}`;
    case 'EPIPE':
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_ENDED':
    case 'CONNECTION_DESTROYED':
      return `connection to ${where} closed`;
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
      return `no answer from ${where} (connection timed out)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable`;
    case 'ENOTFOUND':
      return `host ${where} not found`;
    case 'EAI_AGAIN':
      return `host ${where} could not be resolved now (DNS)`;
    default:
      return undefined;
  }
};

// RFC 9457 problem details: every HTTP error mm returns names what went wrong.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { coerceError, ErrorCodes, MmError, ValidationError } from '../core/errors.ts';
import { redactSecrets } from '../core/redact.ts';

const statusByCode: Partial<Record<string, ContentfulStatusCode>> = {
  [ErrorCodes.validation]: 400,
  [ErrorCodes.usage]: 400,
  [ErrorCodes.notFound]: 404,
  [ErrorCodes.conflict]: 409,
  [ErrorCodes.transient]: 503,
};

const titles: Partial<Record<ContentfulStatusCode, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  503: 'Service Unavailable',
  500: 'Internal Server Error',
};

export const statusFor = (error: unknown): ContentfulStatusCode =>
  error instanceof MmError ? (statusByCode[error.code] ?? 500) : 500;

export const problem = (
  c: Context,
  status: ContentfulStatusCode,
  detail: string,
  extra: Record<string, unknown> = {},
): Response =>
  c.body(
    JSON.stringify({ type: 'about:blank', title: titles[status] ?? 'Error', status, detail, ...extra }),
    status,
    {
      'content-type': 'application/problem+json',
    },
  );

export const problemFromError = (c: Context, thrown: unknown): Response => {
  const error = coerceError(thrown);
  const status = statusFor(error);
  // Internal errors keep their details in the log, not in the response; so does a database's own
  // error text (clientDetail says what the client reads instead).
  const detail =
    status === 500
      ? 'internal error'
      : error instanceof MmError && error.clientDetail !== undefined
        ? error.clientDetail
        : redactSecrets(error.message);
  const extra =
    error instanceof ValidationError && error.problems.length > 1 ? { problems: error.problems } : {};
  return problem(c, status, detail, extra);
};

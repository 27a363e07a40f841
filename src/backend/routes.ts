// The users API: JSON in, JSON out, problem+json for anything that cannot be written.
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { EventHeaders } from '../core/envelope.ts';
import { ValidationError } from '../core/errors.ts';
import { isUuid, uuidv7 } from '../core/ids.ts';
import { problem } from '../http/problem.ts';
import { userPayload } from './user-events.ts';
import { parseNewUser, parseUserPatch } from './user-input.ts';
import type { UserService, UserWritten } from './user-service.ts';

export const MAX_BODY_BYTES = 64 * 1024;

/** `application/json`, with parameters (`; charset=utf-8`) or without; no other type. */
export const isJsonContentType = (header: string | undefined): boolean =>
  header?.split(';')[0]?.trim().toLowerCase() === 'application/json';

const readJson = async (c: Context): Promise<unknown> => {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`malformed JSON body: ${(error as Error).message}`);
  }
};

// Copied into every event the request writes, so it is bounded and printable.
const correlationIdPattern = /^[\x21-\x7e]{1,128}$/;

const eventHeaders = (c: Context): EventHeaders => {
  for (const name of ['x-correlation-id', 'x-request-id']) {
    const given = c.req.header(name);
    if (given === undefined) continue;
    if (!correlationIdPattern.test(given)) {
      throw new ValidationError(`${name} must be 1 to 128 printable ASCII characters without spaces`);
    }
    return { correlation_id: given };
  }
  return { correlation_id: uuidv7() };
};

const written = (c: Context, result: UserWritten, status: 200 | 201): Response => {
  c.header('mm-event-id', result.eventId);
  if (status === 201) c.header('location', `/api/users/${result.user.id}`);
  return c.json(userPayload(result.user), status);
};

const userId = (c: Context): string | undefined => {
  const id = c.req.param('id');
  return id !== undefined && isUuid(id) ? id : undefined;
};

export const mountUserRoutes = (
  app: Hono,
  users: UserService,
  onWritten: (result: UserWritten) => void,
): void => {
  const bodyLimited = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => problem(c, 413, `body is larger than ${MAX_BODY_BYTES} bytes`),
  });
  const limit: MiddlewareHandler = async (c, next) => {
    if (!isJsonContentType(c.req.header('content-type'))) {
      return problem(c, 415, 'content-type must be application/json');
    }
    return bodyLimited(c, next);
  };
  const unknownUser = (c: Context): Response => problem(c, 404, `user ${c.req.param('id')} not found`);

  app.post('/api/users', limit, async (c) => {
    const result = await users.create(parseNewUser(await readJson(c)), eventHeaders(c));
    onWritten(result);
    return written(c, result, 201);
  });

  app.get('/api/users/:id', async (c) => {
    const id = userId(c);
    if (!id) return unknownUser(c);
    return c.json(userPayload(await users.get(id)));
  });

  app.patch('/api/users/:id', limit, async (c) => {
    const id = userId(c);
    if (!id) return unknownUser(c);
    const result = await users.update(id, parseUserPatch(await readJson(c)), eventHeaders(c));
    onWritten(result);
    return written(c, result, 200);
  });

  app.post('/api/users/:id/disable', async (c) => {
    const id = userId(c);
    if (!id) return unknownUser(c);
    const result = await users.disable(id, eventHeaders(c));
    onWritten(result);
    return written(c, result, 200);
  });
};

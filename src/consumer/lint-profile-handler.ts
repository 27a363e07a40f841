// The markdown-lint-consumer's built-in handlers: user.created/updated/disabled maintain `lint_profiles`
// with one set-based upsert per batch.
import type { JsonValue } from '../core/envelope.ts';
import { ValidationError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { LintProfileChange } from '../ports/lint-profiles.ts';
import { type UserStatus, UserStatuses } from '../ports/users.ts';
import type { BatchHandler, ConsumedEvent, HandlerMap } from './handler.ts';

export const LINT_CONSUMER_GROUP = 'markdown-lint-consumer';
const MAX_TEXT = 1_000;

const isObject = (value: JsonValue): value is { [key: string]: JsonValue } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = (
  payload: { [key: string]: JsonValue },
  name: string,
  problems: string[],
  required: boolean,
): string | undefined => {
  const value = payload[name];
  if (value === undefined || value === null) {
    if (required) problems.push(`payload.${name} is missing`);
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.push(`payload.${name} must be a string, got ${Array.isArray(value) ? 'array' : typeof value}`);
    return undefined;
  }
  if (required && value.trim() === '') problems.push(`payload.${name} is empty`);
  if (value.length > MAX_TEXT) problems.push(`payload.${name} is longer than ${MAX_TEXT} characters`);
  return value;
};

/** The event's outbox id, which orders the events of one aggregate; null when it has none. */
const positionOf = (event: ConsumedEvent): number | null => {
  const id = event.outboxId;
  return id !== undefined && /^\d{1,15}$/.test(id) ? Number(id) : null;
};

/**
 * The user as written by mm-backend (`userPayload`) to a profile change; every problem is named at
 * once, so the dead letter says exactly what is wrong with the payload.
 */
export const userChangeOf = (event: ConsumedEvent): LintProfileChange => {
  const payload = event.payload;
  if (!isObject(payload)) {
    throw new ValidationError(
      `${event.eventType} payload must be a JSON object (a user), got ${JSON.stringify(payload)?.slice(0, 80)}`,
    );
  }
  const problems: string[] = [];
  const id = text(payload, 'id', problems, true);
  if (id !== undefined && id.trim() !== '' && !isUuid(id))
    problems.push(`payload.id is not a UUID: ${id.slice(0, 80)}`);
  const email = text(payload, 'email', problems, true);
  const displayName = text(payload, 'display_name', problems, false);
  const status = text(payload, 'status', problems, false);
  if (status !== undefined && !(UserStatuses as readonly string[]).includes(status)) {
    problems.push(`payload.status must be one of ${UserStatuses.join(', ')}, got ${status.slice(0, 40)}`);
  }
  if (problems.length > 0 || id === undefined || email === undefined) {
    throw new ValidationError(`invalid ${event.eventType} payload: ${problems.join('; ')}`, { problems });
  }
  const finalStatus: UserStatus =
    event.eventType === 'user.disabled' ? 'disabled' : ((status as UserStatus | undefined) ?? 'active');
  return {
    userId: id.toLowerCase(),
    email,
    displayName: displayName ?? email.split('@')[0] ?? email,
    status: finalStatus,
    lastEventId: event.eventId,
    lastOutboxId: positionOf(event),
  };
};

/** One handler object for all three types, so their order within a batch is kept. */
export const lintProfileHandler: BatchHandler<LintProfileChange> = {
  prepare: userChangeOf,
  applyBatch: (items, context) => context.tx.lintProfiles.apply(items.map((item) => item.prepared)),
};

export const lintProfileHandlers: HandlerMap = {
  'user.created': lintProfileHandler,
  'user.updated': lintProfileHandler,
  'user.disabled': lintProfileHandler,
};

/** The handlers a group runs when no --handler module is given. */
export const builtinHandlersFor = (group: string): HandlerMap =>
  group === LINT_CONSUMER_GROUP ? lintProfileHandlers : {};

// Turns a user change into the outbox event the rest of the pipeline sees.
import type { EventHeaders, JsonValue } from '../core/envelope.ts';
import { uuidv7 } from '../core/ids.ts';
import type { NewOutboxEvent } from '../ports/outbox.ts';
import type { User } from '../ports/users.ts';

export const IDENTITY_TOPIC = 'identity';
export const UserEventTypes = {
  created: 'user.created',
  updated: 'user.updated',
  disabled: 'user.disabled',
} as const;
export type UserEventType = (typeof UserEventTypes)[keyof typeof UserEventTypes];

/** The wire form of a user: what handlers receive as the payload. */
export const userPayload = (user: User): { [key: string]: JsonValue } => ({
  id: user.id,
  email: user.email,
  display_name: user.displayName,
  status: user.status,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
});

export const userEvent = (type: UserEventType, user: User, headers: EventHeaders = {}): NewOutboxEvent => ({
  eventId: uuidv7(),
  topic: IDENTITY_TOPIC,
  eventType: type,
  aggregateType: 'user',
  aggregateId: user.id,
  payload: userPayload(user),
  headers,
});

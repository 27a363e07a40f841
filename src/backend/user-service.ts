// The application's writes: each stores the user row and its outbox event in ONE transaction.

import type { EventHeaders } from '../core/envelope.ts';
import { NotFoundError } from '../core/errors.ts';
import { uuidv7 } from '../core/ids.ts';
import type { Store } from '../ports/store.ts';
import type { User, UserPatch } from '../ports/users.ts';
import { UserEventTypes, userEvent } from './user-events.ts';
import type { NewUserInput } from './user-input.ts';

export type UserWritten = { readonly user: User; readonly eventId: string; readonly topic: string };

export type UserService = {
  create(input: NewUserInput, headers?: EventHeaders): Promise<UserWritten>;
  get(id: string): Promise<User>;
  update(id: string, patch: UserPatch, headers?: EventHeaders): Promise<UserWritten>;
  disable(id: string, headers?: EventHeaders): Promise<UserWritten>;
};

export const createUserService = (store: Store): UserService => ({
  create: (input, headers) =>
    store.withTransaction(async (tx) => {
      const user = await tx.users.insert({
        id: uuidv7(),
        email: input.email,
        displayName: input.displayName,
      });
      const event = userEvent(UserEventTypes.created, user, headers);
      await tx.outbox.insert([event]);
      return { user, eventId: event.eventId, topic: event.topic };
    }),

  get: (id) =>
    store.withTransaction(async (tx) => {
      const user = await tx.users.get(id);
      if (!user) throw new NotFoundError(`user ${id} not found`);
      return user;
    }),

  // The row is written (and locked) before the outbox insert, so writers of one user serialise and
  // their events take outbox ids in commit order.
  update: (id, patch, headers) =>
    store.withTransaction(async (tx) => {
      const user = await tx.users.update(id, patch);
      const event = userEvent(UserEventTypes.updated, user, headers);
      await tx.outbox.insert([event]);
      return { user, eventId: event.eventId, topic: event.topic };
    }),

  disable: (id, headers) =>
    store.withTransaction(async (tx) => {
      const user = await tx.users.disable(id);
      const event = userEvent(UserEventTypes.disabled, user, headers);
      await tx.outbox.insert([event]);
      return { user, eventId: event.eventId, topic: event.topic };
    }),
});

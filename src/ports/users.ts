// The identity domain port: users, written by mm-backend in the same transaction as their events.

export const UserStatuses = ['active', 'disabled'] as const;
export type UserStatus = (typeof UserStatuses)[number];

export type User = {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly status: UserStatus;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  readonly updatedAt: string;
};

export type UserPatch = { readonly email?: string; readonly displayName?: string };

/**
 * Inside a transaction. `insert` and `update` throw ConflictError when the email is taken;
 * `update` and `disable` throw NotFoundError for an unknown id and lock the row they change, so
 * concurrent writers of one user serialise (which keeps its events in order in the outbox);
 * `disable` throws ConflictError when the user is already disabled, so it is written once.
 */
export type UserRepository = {
  insert(user: { id: string; email: string; displayName: string }): Promise<User>;
  get(id: string): Promise<User | undefined>;
  update(id: string, patch: UserPatch): Promise<User>;
  disable(id: string): Promise<User>;
};

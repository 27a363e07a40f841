// The lint-profile port: the built-in markdown-lint-consumer's read model of users.

export type LintProfile = {
  readonly userId: string;
  readonly email: string;
  readonly displayName: string;
  readonly status: 'active' | 'disabled';
  /** The event that last changed the profile. */
  readonly lastEventId: string;
  /** That event's outbox id (its position in its aggregate); null when it had none. */
  readonly lastOutboxId: number | null;
  /** How many events changed it: an effect applied twice would show here. */
  readonly version: number;
};

export type LintProfileChange = Omit<LintProfile, 'version' | 'lastOutboxId'> & {
  readonly lastOutboxId?: number | null;
};

/** Inside a transaction. */
export type LintProfileWriter = {
  /**
   * Upserts in order; several changes to one user in a batch apply one after another. A change whose
   * outbox id is not above the profile's is ignored (never moves a profile backwards); a change
   * without one always applies.
   */
  apply(changes: readonly LintProfileChange[]): Promise<void>;
  get(userId: string): Promise<LintProfile | undefined>;
};

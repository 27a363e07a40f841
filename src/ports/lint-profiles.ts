// The lint-profile port: the built-in markdown-lint-consumer's read model of users.

export type LintProfile = {
  readonly userId: string;
  readonly email: string;
  readonly displayName: string;
  readonly status: 'active' | 'disabled';
  /** The event that last changed the profile. */
  readonly lastEventId: string;
  /** How many events changed it: an effect applied twice would show here. */
  readonly version: number;
};

export type LintProfileChange = Omit<LintProfile, 'version'>;

/** Inside a transaction. */
export type LintProfileWriter = {
  /** Upserts in order; several changes to one user in a batch apply one after another. */
  apply(changes: readonly LintProfileChange[]): Promise<void>;
  get(userId: string): Promise<LintProfile | undefined>;
};

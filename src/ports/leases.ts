// The Lease port: time-bound ownership of named resources (a group's partitions), with fencing tokens.
//
// Semantics every adapter must honour (the lease contract suite proves them against both stores):
// - `acquire` takes a resource that is free or expired, or renews one the holder already has. A new
//   take gets a token larger than any earlier token of that resource; a renewal keeps the token.
//   It returns undefined while another holder's lease is live.
// - `release` gives up a lease only if holder and token still match (a late release never frees
//   someone else's lease).
// - `assertHeld` runs inside the caller's transaction and throws FencedError unless the lease is
//   still live with that token, so a holder that lost its lease cannot commit effects.
// - Members announce themselves with `heartbeat`; `members` lists the live ones (expiry in the future).
// - Time is the database's clock, so holders on different machines agree on expiry.

export type Lease = {
  readonly group: string;
  readonly resource: string;
  readonly holder: string;
  readonly token: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
};

export type LeaseFence = {
  readonly group: string;
  readonly resource: string;
  readonly holder: string;
  readonly token: number;
};

export type GroupMember = { readonly member: string; readonly expiresAt: number };

export type LeaseStore = {
  acquire(group: string, resource: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  release(fence: LeaseFence): Promise<boolean>;
  /** Every lease of the group, live or expired. */
  list(group: string): Promise<Lease[]>;
  heartbeat(group: string, member: string, ttlMs: number): Promise<void>;
  members(group: string): Promise<GroupMember[]>;
  leave(group: string, member: string): Promise<void>;
};

/** Inside a transaction: the effect commits only if every fence still holds. */
export type LeaseFenceCheck = {
  assertHeld(fences: readonly LeaseFence[]): Promise<void>;
};

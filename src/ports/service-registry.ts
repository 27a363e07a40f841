// The ServiceRegistry port: running services say who and where they are, so operators' tools (the
// console) find them without a list of URLs. Redis holds it in production, the local file locally.
//
// Semantics every adapter must honour (the registry contract suite proves them against both):
// - One record per (role, name): `announce` adds it or replaces it, and keeps it `ttlMs` from now.
// - `list` returns only records announced within their TTL, ordered by role, then name.
// - `withdraw` removes a record at once (a clean stop); withdrawing an unknown one is no error.
// - Expiry uses the announcing process's clock, so hosts with clocks far apart see records live
//   longer or shorter by that much.

export const ServiceRoles = ['backend', 'relay', 'consumer', 'console'] as const;
export type ServiceRole = (typeof ServiceRoles)[number];

export type ServiceRecord = {
  readonly role: ServiceRole;
  /** Unique within the role: the consumer's name in its group, else `<host>-<pid>`. */
  readonly name: string;
  readonly version: string;
  /** Where its /health, /health/detailed and metrics answer; never with credentials. */
  readonly url: string;
  /** ISO 8601 UTC. */
  readonly startedAt: string;
  /** ISO 8601 UTC: the latest announce. */
  readonly lastSeenAt: string;
};

export type ServiceRegistry = {
  announce(record: ServiceRecord, options: { readonly ttlMs: number }): Promise<void>;
  withdraw(role: ServiceRole, name: string): Promise<void>;
  list(): Promise<ServiceRecord[]>;
};

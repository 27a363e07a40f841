// Keeps a running service's record in the service registry: announced when it listens, refreshed
// every few seconds (so it expires soon after the process dies), withdrawn on a clean stop.
import { hostname } from 'node:os';
import type { ServiceRecord, ServiceRegistry, ServiceRole } from '../ports/service-registry.ts';
import { buildInfo } from './build-info.ts';
import { coerceError } from './errors.ts';
import type { Logger } from './logger.ts';

export const ANNOUNCE_INTERVAL_MS = 5_000;
/** A record outlives a few missed refreshes, then expires: a killed process drops out within a minute. */
export const ANNOUNCE_TTL_MS = 60_000;
/** Past this without a refresh, tools show the service as silent. */
export const SILENT_AFTER_MS = 3 * ANNOUNCE_INTERVAL_MS;

export type Announcement = {
  readonly registry: ServiceRegistry;
  readonly role: ServiceRole;
  /** Default `<host>-<pid>`. */
  readonly name?: string;
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
};

export type Announcer = { stop(): Promise<void> };

/** `http://0.0.0.0:8000` is where it listens, not where others reach it: name the host instead. */
export const reachableUrl = (url: string, host: string = hostname()): string =>
  url.replace(/^(https?:\/\/)(0\.0\.0\.0|\[::\]|::)(?=:)/, `$1${host}`);

export const defaultServiceName = (): string => `${hostname()}-${process.pid}`;

export const startAnnouncing = (announcement: Announcement, url: string): Announcer => {
  const now = announcement.now ?? Date.now;
  const started = new Date(now()).toISOString();
  const base = {
    role: announcement.role,
    name: announcement.name ?? defaultServiceName(),
    version: buildInfo().version,
    url: reachableUrl(url),
    startedAt: started,
  };
  const ttlMs = announcement.ttlMs ?? ANNOUNCE_TTL_MS;
  let failing = false;
  const announce = async (): Promise<void> => {
    const record: ServiceRecord = { ...base, lastSeenAt: new Date(now()).toISOString() };
    try {
      await announcement.registry.announce(record, { ttlMs });
      failing = false;
    } catch (thrown) {
      // The service works on without its entry; say so once per outage, not every 5 s.
      if (!failing)
        announcement.logger.warn(
          `could not announce ${base.role} ${base.name}: ${coerceError(thrown).message}`,
        );
      failing = true;
    }
  };
  let last = announce();
  const timer = setInterval(() => {
    last = announce();
  }, announcement.intervalMs ?? ANNOUNCE_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await last;
      await announcement.registry.withdraw(base.role, base.name).catch(() => {});
    },
  };
};

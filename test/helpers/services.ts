// Whether the machine's Postgres and Redis answer. Outside CI a suite that needs a missing one is
// skipped with a one-line reason; in CI (CI=true) it fails instead, so a red run cannot hide.
import { Socket } from 'node:net';

export const POSTGRES_ADMIN_URL =
  process.env.MM_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.MM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const reachable = (url: string, defaultPort: number): Promise<boolean> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || defaultPort), hostname, () => done(true));
  });

export type Service = 'postgres' | 'redis';

const probes: Record<Service, () => Promise<boolean>> = {
  postgres: () => reachable(POSTGRES_ADMIN_URL, 5432),
  redis: () => reachable(REDIS_URL, 6379),
};

/**
 * `false` when every service answers; otherwise the skip reason. Throws in CI, where a missing
 * service must fail the run.
 */
export const skipUnless = async (...needed: Service[]): Promise<false | string> => {
  const missing: Service[] = [];
  for (const service of needed) if (!(await probes[service]())) missing.push(service);
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(' and ')} (not reachable)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${reason}`);
  return reason;
};

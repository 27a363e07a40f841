// An in-process mm-backend over a test database and a Redis key prefix, for app.request() tests.
import { createRedisBus } from '../../src/adapters/redis/bus.ts';
import { createRedisClient } from '../../src/adapters/redis/client.ts';
import { type Backend, createBackend } from '../../src/backend/backend.ts';
import { createLogger, type Logger } from '../../src/core/logger.ts';
import { createMetricsRegistry } from '../../src/core/metrics.ts';
import type { Bus } from '../../src/ports/bus.ts';
import type { Store } from '../../src/ports/store.ts';

export type RecordingLogger = Logger & { readonly lines: Array<Record<string, unknown>> };

export const recordingLogger = (): RecordingLogger => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', sink: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
};

export const testBus = (url: string, keyPrefix: string, logger: Logger): Bus =>
  createRedisBus(createRedisClient({ url, logger, commandTimeoutMs: 1_000 }), { keyPrefix });

export const testBackend = (store: Store, bus: Bus, logger: Logger = recordingLogger()): Backend =>
  createBackend(
    { store, bus, logger, registry: createMetricsRegistry({ defaults: false }) },
    { host: '127.0.0.1', port: 0, topics: ['identity'] },
  );

export const postJson = (backend: Backend, path: string, body: unknown, method = 'POST'): Promise<Response> =>
  Promise.resolve(
    backend.app.request(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

/** A response body as loosely typed JSON, for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
export const bodyOf = async (response: Response): Promise<any> => response.json();

// Runs the runbook's recovery drills in ONE process: backend, relay and consumer (the stack) on a local
// file (with the stream shim) or on Postgres and Redis, with faults injected in front of the stream
// store and in the consumer's handler.
// Prints each step with its evidence and PASS/FAIL; resolves with the exit code (0: all passed).
import type { HandlerMap } from '../consumer/handler.ts';
import { builtinHandlersFor, LINT_CONSUMER_GROUP } from '../consumer/lint-profile-handler.ts';
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import { createStack, type StackOptions } from '../stack/compose-stack.ts';
import { type ApplyLog, withApplyLog } from './apply-log.ts';
import { type BusFaultSwitch, withBusFault } from './bus-fault.ts';
import type { DrillDeployment } from './config.ts';
import { dlqSpikeDrill } from './dlq-spike.ts';
import type { Drill, DrillName } from './drill.ts';
import { createDrillKit } from './drill-kit.ts';
import { createDrillOutput } from './drill-output.ts';
import { drillPlace } from './drill-place.ts';
import { type HandlerFault, withHandlerFault } from './handler-fault.ts';
import { idempotencyDrill } from './idempotency.ts';
import { orderingDrill } from './ordering.ts';
import { redisFailureDrill } from './redis-failure.ts';
import { replayDrill } from './replay.ts';

const drillsByName: Readonly<Record<DrillName, Drill>> = {
  'redis-failure': redisFailureDrill,
  replay: replayDrill,
  idempotency: idempotencyDrill,
  'dlq-spike': dlqSpikeDrill,
  ordering: orderingDrill,
};

// Production spacing, shortened so a failing event reaches the DLQ and an outage is noticed in
// well under a second; the logic is the services' own.
const drillTuning = {
  relay: {
    pollIntervalMs: 200,
    retryBackoffMs: 50,
    retryBackoffMaxMs: 500,
    transientBackoff: { baseMs: 50, maxMs: 500 },
    healthIntervalMs: 1_000,
    backlogSampleMs: 200,
  },
  consumer: {
    claimIdleMs: 200,
    maxDeliveries: 3,
    blockMs: 200,
    lagSampleMs: 200,
    healthIntervalMs: 1_000,
    drainMs: 2_000,
  },
} as const satisfies Pick<StackOptions, 'relay' | 'consumer'>;

export type DrillRunDeps = {
  readonly store: Store;
  readonly bus: Bus;
  /** Switched on, the stream store is unavailable (also given to the shim when a file was opened). */
  readonly busFault: BusFaultSwitch;
  readonly logger: Logger;
  readonly logLines: () => readonly string[];
  readonly out: (text: string) => void;
  /** The consumer group's handlers (default: the built-in ones); the drills add their defect switch. */
  readonly handlers?: HandlerMap;
  /** Consumer settings over the drills' own (a test turns per-aggregate order off with onDeadLetter). */
  readonly consumer?: StackOptions['consumer'];
};

export type DrillRunConfig = {
  readonly drills: readonly DrillName[];
  readonly label: string;
  readonly deployment: DrillDeployment;
  /** How long a step waits for its effect before it FAILs (default 20 s). */
  readonly waitMs?: number;
};

type Outcome = { readonly drill: Drill; readonly passed: number; readonly failed: number };

const problemLines = (lines: readonly string[], from: number): string[] =>
  lines
    .slice(from)
    .filter((line) => /"level":"(warn|error)"/.test(line))
    .slice(-8)
    .map((line) => line.trim().slice(0, 300));

export const runDrills = async (config: DrillRunConfig, deps: DrillRunDeps): Promise<number> => {
  const handlerFault: HandlerFault = { failing: false, aggregates: new Set() };
  const applyLog: ApplyLog = { watched: new Set() };
  const bus = withBusFault(deps.bus, deps.busFault);
  const place = drillPlace(config.deployment);
  const handlers = withHandlerFault(deps.handlers ?? builtinHandlersFor(LINT_CONSUMER_GROUP), handlerFault);
  const stack = createStack(
    {
      store: deps.store,
      bus,
      logger: deps.logger,
      handlers: withApplyLog(handlers, applyLog),
    },
    {
      host: '127.0.0.1',
      ports: { backend: 0, relay: 0, consumer: 0 },
      consumerName: 'drill-consumer',
      ...drillTuning,
      consumer: { ...drillTuning.consumer, ...deps.consumer },
    },
  );
  const urls = await stack.start();
  const out = createDrillOutput(deps.out);
  const kit = createDrillKit({
    place,
    urls,
    store: deps.store,
    bus,
    faults: { bus: deps.busFault, handler: handlerFault },
    applyLog,
    out,
    logLines: deps.logLines,
    waitMs: config.waitMs ?? 20_000,
  });
  deps.out(
    [
      `mm-backend drill ${config.label} on ${place.text}`,
      `one process: backend ${urls.backend}, relay ${urls.relay}, consumer ${urls.consumer} (group ${kit.group}), ${config.deployment.kind === 'local' ? 'stream shim in the file' : 'streams in Redis'}`,
      'faults are injected in front of the stream store (unavailable) and in the consumer handler (a defect)',
      '',
    ].join('\n'),
  );
  const outcomes: Outcome[] = [];
  try {
    for (const name of config.drills) {
      const drill = drillsByName[name];
      const before = out.tally();
      const logsFrom = deps.logLines().length;
      out.heading(`Drill: ${drill.title}`, drill.source);
      try {
        await drill.run(kit);
      } catch (thrown) {
        out.check(false, `${drill.title} ran to its end`, coerceError(thrown).message);
      } finally {
        deps.busFault.unavailable = false;
        handlerFault.failing = false;
        handlerFault.aggregates.clear();
        applyLog.watched.clear();
      }
      const after = out.tally();
      const outcome = { drill, passed: after.passed - before.passed, failed: after.failed - before.failed };
      outcomes.push(outcome);
      if (outcome.failed > 0) {
        const problems = problemLines(deps.logLines(), logsFrom);
        if (problems.length > 0)
          out.evidence(`service log, last warnings and errors:\n${problems.join('\n')}`);
      }
      deps.out(
        `\n${drill.title}: ${outcome.failed === 0 ? 'PASS' : 'FAIL'} (${outcome.passed} checks passed, ${outcome.failed} failed)\n`,
      );
    }
  } finally {
    await stack.stop();
  }
  const good = outcomes.filter((o) => o.failed === 0 && o.passed > 0).length;
  const checks = outcomes.reduce((sum, o) => sum + o.passed, 0);
  const failedChecks = outcomes.reduce((sum, o) => sum + o.failed, 0);
  const verdict = good === outcomes.length ? 'PASS' : 'FAIL';
  deps.out(
    `\ndrill ${config.label}: ${verdict}: ${good} of ${outcomes.length} drills passed (${checks} checks passed, ${failedChecks} failed)\n`,
  );
  return verdict === 'PASS' ? 0 : 1;
};

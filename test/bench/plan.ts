// What the benchmark measures, in one place: each measurement (run once per round, three rounds, the
// median kept) and the table lines it yields. A target is a ratio to another line of the same run,
// named by that line's key; a new line is one entry here and, if new, one scenario. Each baseline
// runs just before what is compared with it, so both see the machine in the same state.
import { rawXadd } from './baselines.ts';
import { partitionedServices, rawPipeline, services } from './carriers.ts';
import { consoleOverview } from './console-page.ts';
import { atLeast, atMost, type Line, noMoreThan } from './results.ts';
import {
  consumerApply,
  consumersOnPartitions,
  latencyAtRate,
  pipelineSustained,
  rawConsumerRate,
  rawDrainRate,
  relayDrain,
  relaysDrain,
} from './scenarios.ts';
import { withCluster, withLocal, withProduction } from './setups.ts';
import { BINARIES, NODE_ALONE, startupMs } from './startup.ts';

export type Size = {
  /** Events timed in a pre-filled outbox (raw drain, relay) or stream (consumers), after 20,000 warm-up ones. */
  readonly drain: number;
  readonly pipeline: number;
  readonly latencyS: number;
  readonly local: number;
};

export const SIZES = {
  quick: { drain: 30_000, pipeline: 20_000, latencyS: 4, local: 10_000 },
  full: { drain: 100_000, pipeline: 100_000, latencyS: 10, local: 30_000 },
} as const satisfies Record<string, Size>;

export type Measurement = {
  /** For the progress log. */
  readonly title: string;
  readonly measure: (size: Size) => Promise<Readonly<Record<string, number>>>;
  readonly lines: readonly Line[];
  /** Full runs only: for lines without a target, to keep --quick short. */
  readonly fullOnly?: boolean;
};

const rate = (name: string, options: Partial<Line> = {}): Line => ({
  name,
  figure: 'rate',
  unit: 'events/s',
  ...options,
});
const ms = (name: string, figure: string, options: Partial<Line> = {}): Line => ({
  name,
  figure,
  unit: 'ms',
  digits: 1,
  ...options,
});
const mb = (name: string, figure: string, options: Partial<Line> = {}): Line => ({
  name,
  figure,
  unit: 'MB',
  digits: 1,
  ...options,
});
const kb = (name: string, figure: string, options: Partial<Line> = {}): Line => ({
  name,
  figure,
  unit: 'KB',
  digits: 1,
  ...options,
});
const latencyLines = (prefix: string, p99: Partial<Line> = {}): Line[] => [
  ms(`${prefix}: p50`, 'p50'),
  ms(`${prefix}: p99`, 'p99', p99),
  ms(`${prefix}: max`, 'max'),
];

export const MEASUREMENTS: readonly Measurement[] = [
  {
    title: 'raw XADD',
    fullOnly: true,
    measure: (size) =>
      withProduction(async (p) => ({ rate: await rawXadd(p.redis, p.streamKey, size.drain) })),
    lines: [rate('baseline: pipelined XADD (500 a batch)')],
  },
  {
    title: 'raw drain',
    measure: (size) => withProduction((p) => rawDrainRate(p, size.drain)),
    lines: [rate('baseline: raw drain (DELETE..SKIP LOCKED..RETURNING + XADD)', { key: 'raw drain' })],
  },
  {
    title: 'relay',
    measure: (size) => withProduction((p) => relayDrain(p, size.drain)),
    lines: [rate('relay: drain pre-filled outbox', { key: 'relay', target: atLeast(0.9, 'raw drain') })],
  },
  {
    title: '1 relay on 4 partitions',
    measure: (size) => withProduction((p) => relaysDrain(p, size.drain, 1, 4)),
    lines: [rate('relay: 1 relay on 4 partitions, order checked', { key: 'one relay on 4' })],
  },
  {
    title: '2 relays on 4 partitions',
    measure: (size) => withProduction((p) => relaysDrain(p, size.drain, 2, 4)),
    lines: [
      rate('relays: 2 relays on 4 partitions, order checked', { target: atLeast(0.9, 'one relay on 4') }),
    ],
  },
  {
    title: 'raw consumer',
    measure: (size) => withProduction((p) => rawConsumerRate(p, size.drain)),
    lines: [rate('baseline: raw consumer (XREADGROUP + ledger tx + XACK)', { key: 'raw consumer' })],
  },
  {
    title: 'consumer',
    measure: (size) => withProduction((p) => consumerApply(p, size.drain)),
    lines: [
      rate('consumer: ledger + built-in handler', { key: 'consumer', target: atLeast(0.45, 'raw consumer') }),
    ],
  },
  {
    title: '1 consumer on 4 partitions',
    measure: (size) => withProduction((p) => consumersOnPartitions(p, size.drain, 1, 4)),
    lines: [rate('consumer: 1 consumer on 4 partitions, order checked', { key: 'one on 4' })],
  },
  {
    title: '2 consumers on 4 partitions',
    measure: (size) => withProduction((p) => consumersOnPartitions(p, size.drain, 2, 4)),
    lines: [
      rate('consumers: 2 consumers on 4 partitions, order checked', { target: atLeast(0.9, 'one on 4') }),
    ],
  },
  {
    title: 'raw pipeline',
    measure: (size) => withProduction((p) => pipelineSustained(p, rawPipeline, size.pipeline)),
    lines: [rate('baseline: raw pipeline, commit to ledger, sustained', { key: 'raw pipeline' })],
  },
  {
    title: 'pipeline',
    measure: (size) => withProduction((p) => pipelineSustained(p, services, size.pipeline)),
    lines: [
      rate('pipeline: commit to ledger, sustained', {
        key: 'pipeline',
        target: atLeast(0.6, 'raw pipeline'),
      }),
      mb('relay: peak RSS under load', 'relayRssMb', { target: noMoreThan(150) }),
      mb('consumer: peak RSS under load', 'consumerRssMb', { target: noMoreThan(150) }),
    ],
  },
  {
    title: '3-node cluster pipeline',
    // 20 events per user, so the per-user order check after the run has something to check.
    measure: (size) =>
      withCluster((c) => pipelineSustained(c, partitionedServices(6), size.pipeline, { perUser: 20 })),
    lines: [rate('pipeline: 3-node cluster, 6 partitions', { target: atLeast(0.7, 'pipeline') })],
  },
  {
    title: 'raw pipeline latency at 1000/s',
    measure: (size) => withProduction((p) => latencyAtRate(p, rawPipeline, 1_000, size.latencyS)),
    lines: latencyLines('baseline: raw pipeline latency @1000/s', { key: 'raw pipeline p99' }),
  },
  {
    title: 'latency at 1000/s',
    measure: (size) => withProduction((p) => latencyAtRate(p, services, 1_000, size.latencyS)),
    lines: latencyLines('pipeline latency @1000/s', { target: atMost(3, 'raw pipeline p99') }),
  },
  {
    title: 'latency at 5000/s',
    fullOnly: true,
    measure: (size) => withProduction((p) => latencyAtRate(p, services, 5_000, size.latencyS)),
    lines: latencyLines('pipeline latency @5000/s'),
  },
  {
    title: 'local mode pipeline',
    measure: (size) => withLocal((l) => pipelineSustained(l, services, size.local)),
    lines: [rate('local mode: pipeline, sustained', { target: atLeast(0.3, 'pipeline') })],
  },
  {
    title: 'local mode latency at 1000/s',
    fullOnly: true,
    measure: (size) => withLocal((l) => latencyAtRate(l, services, 1_000, size.latencyS)),
    lines: [ms('local mode latency @1000/s: p99', 'p99')],
  },
  {
    title: 'console overview',
    measure: () => withProduction(consoleOverview),
    lines: [
      kb('console: overview transferred (cold load, every response)', 'overviewKb', {
        target: noMoreThan(300),
      }),
      ms('baseline: static page of the same bytes, first render', 'staticFirstPaintMs', {
        key: 'static page first render',
      }),
      ms('console: overview first render', 'overviewFirstPaintMs', {
        target: atMost(3, 'static page first render'),
      }),
    ],
  },
  {
    title: 'start-up',
    measure: async () => startupMs(5),
    lines: [
      ms(`baseline: ${NODE_ALONE}`, NODE_ALONE, { digits: 0, key: NODE_ALONE }),
      ...BINARIES.map((b) =>
        ms(`start-up: ${b}.mjs --help`, b, { digits: 0, target: atMost(2.5, NODE_ALONE) }),
      ),
    ],
  },
];

/** The measurements of a run: --quick leaves out those marked full-only. */
export const measurementsFor = (mode: keyof typeof SIZES): readonly Measurement[] =>
  MEASUREMENTS.filter((m) => mode === 'full' || !m.fullOnly);

/**
 * `--only`: the measurements whose title contains one of `titles` (all when none), plus every one
 * yielding a line their ratio targets name, so a partial run is judged as the whole would be.
 */
export const onlyThose = (all: readonly Measurement[], titles: readonly string[]): readonly Measurement[] => {
  if (titles.length === 0) return all;
  const wanted = new Set(all.filter((m) => titles.some((t) => m.title.includes(t))));
  if (wanted.size === 0) throw new Error(`--only ${titles.join(', ')}: no measurement has that in its title`);
  // Until nothing is added: a baseline may itself have a target naming another line.
  for (let size = 0; size !== wanted.size; ) {
    size = wanted.size;
    const keys = new Set(
      [...wanted].flatMap((m) => m.lines.flatMap((l) => (l.target && 'of' in l.target ? [l.target.of] : []))),
    );
    for (const m of all) if (m.lines.some((l) => l.key !== undefined && keys.has(l.key))) wanted.add(m);
  }
  return all.filter((m) => wanted.has(m));
};

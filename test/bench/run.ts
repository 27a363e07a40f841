// npm run bench [-- --quick] [-- --only <title substring>] [-- --rounds <n>]: every measurement of the
// plan three times, in rounds (a slow spell of the machine then spoils one sample of each, not three of
// one); prints the medians, writes bench-results.json. --only (repeatable) keeps the measurements whose
// title contains one of the substrings, plus those yielding the lines their targets name, to try a line
// without the whole run.
import { loadavg } from 'node:os';
import { machineInfo } from './machine.ts';
import { type Measurement, measurementsFor, onlyThose, SIZES } from './plan.ts';
import { judge, renderTable, writeResults } from './results.ts';
import { median, round } from './stats.ts';

const argValues = (flag: string): string[] =>
  process.argv.flatMap((arg, i) =>
    arg === flag && process.argv[i + 1] ? [process.argv[i + 1] as string] : [],
  );
const ROUNDS = Number(argValues('--rounds')[0] ?? 3);
const quick = process.argv.includes('--quick');
const size = quick ? SIZES.quick : SIZES.full;
const measurements = onlyThose(measurementsFor(quick ? 'quick' : 'full'), argValues('--only'));

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const describe = (figures: Readonly<Record<string, number>>): string =>
  Object.entries(figures)
    .map(([name, value]) => `${name} ${round(value, 1)}`)
    .join(', ');

const main = async (): Promise<void> => {
  const machine = machineInfo();
  const started = performance.now();
  log(
    `mm benchmark (${quick ? 'quick' : 'full'}, ${ROUNDS} rounds) on ${machine.cpus} cores, load ${machine.load_average_at_start.join(' ')}`,
  );
  const samples = new Map<Measurement, Array<Readonly<Record<string, number>>>>();
  for (let pass = 1; pass <= ROUNDS; pass += 1) {
    for (const measurement of measurements) {
      const at = performance.now();
      const figures = await measurement.measure(size);
      samples.set(measurement, [...(samples.get(measurement) ?? []), figures]);
      log(
        `[${pass}/${ROUNDS}] ${measurement.title}: ${describe(figures)} (${Math.round((performance.now() - at) / 1000)} s)`,
      );
    }
  }
  const results = judge(
    measurements.flatMap((m) =>
      m.lines.map((line) => ({
        line,
        value: median((samples.get(m) ?? []).map((figures) => figures[line.figure] ?? Number.NaN)),
      })),
    ),
  );
  process.stdout.write(`${renderTable(results)}\n`);
  const load = loadavg().map((l) => round(l, 2));
  writeResults(
    new URL('../../bench-results.json', import.meta.url).pathname,
    { ...machine, load_average_at_end: load },
    results,
    measurements.map((m) => ({ title: m.title, rounds: samples.get(m) ?? [] })),
  );
  const missed = results.filter((r) => r.met === false);
  process.stdout.write(
    missed.length === 0 ? 'all targets met\n' : `targets missed: ${missed.map((r) => r.name).join('; ')}\n`,
  );
  log(`took ${Math.round((performance.now() - started) / 1000)} s; load at the end ${load.join(' ')}`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

// One runbook drill: a name for the command line, the runbook section it follows, and its steps.
import type { DrillKit } from './drill-kit.ts';

export const DrillNames = ['redis-failure', 'replay', 'idempotency', 'dlq-spike', 'ordering'] as const;
export type DrillName = (typeof DrillNames)[number];

export type Drill = {
  readonly name: DrillName;
  readonly title: string;
  /** Where in the runbook its steps come from. */
  readonly source: string;
  /** Prints each step with its evidence and PASS/FAIL lines through `kit.out`. */
  run(kit: DrillKit): Promise<void>;
};

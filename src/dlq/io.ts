// What every mm-dlq command gets: the ports, where to write, the clock, and who is acting.
import type { Clock } from '../core/clock.ts';
import type { Bus } from '../ports/bus.ts';
import type { ParkingStore } from '../ports/parking.ts';
import type { Store } from '../ports/store.ts';
import { createStyle, type Style } from './format/style.ts';
import type { Place } from './model/place.ts';

export type Output = {
  /** stdout: results (tables, reports, JSON). */
  out(text: string): void;
  /** stderr: progress, warnings. */
  err(text: string): void;
  /** Whether stdout is a terminal (colour, widths). */
  readonly isTTY: boolean;
  /** Whether stderr is a terminal (progress bar). */
  readonly errIsTTY: boolean;
  readonly color: boolean;
  /** Width to fit tables to. */
  readonly columns: number;
};

export type DlqContext = {
  readonly bus: Bus;
  /** Where the bus is (named when a dead-letter stream is not there). */
  readonly place: Place;
  /** Absent when no database was given: ledger state is then reported as not checked. */
  readonly store: Store | undefined;
  /**
   * Blocks and parked events, kept by the store: absent with it. Halted aggregates are then reported
   * as not checked, and resolving releases nothing (a rerun with the database does).
   */
  readonly parking: ParkingStore | undefined;
  readonly io: Output;
  readonly style: Style;
  readonly clock: Clock;
  /** `--actor` or the OS user, recorded in every audit record. */
  readonly actor: string;
  /** Asks a yes/no question on the terminal; absent when stdin or stdout is not a terminal. */
  readonly confirm?: ((question: string) => Promise<boolean>) | undefined;
};

export const contextStyle = (io: Output): Style => createStyle(io.color);

/** Collects output in memory, for tests of rendering code. */
export const memoryOutput = (options: Partial<Pick<Output, 'isTTY' | 'color' | 'columns'>> = {}) => {
  let stdout = '';
  let stderr = '';
  const io: Output = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    isTTY: options.isTTY ?? false,
    errIsTTY: options.isTTY ?? false,
    color: options.color ?? false,
    columns: options.columns ?? 160,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
};

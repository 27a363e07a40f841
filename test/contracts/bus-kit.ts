// What the Bus contract cases share: the fixture shape, names, and helpers bound to the current test.
import type { Bus, StreamEntry, StreamRead } from '../../src/ports/bus.ts';

export type BusFixture = {
  readonly bus: Bus;
  /** Another client on the same streams, as a second process (or a restarted one) would be. */
  peer(): Promise<Bus>;
  /** Closes what the fixture opened (peers included) and removes its data. */
  cleanup(): Promise<void>;
};

export type BusFactory = () => Promise<BusFixture>;

/** The current test's bus and fixture (fresh for every test), and helpers over them. */
export type BusKit = {
  readonly bus: Bus;
  readonly fixture: BusFixture;
  readonly factory: BusFactory;
  /** Cleans up another fixture after the test. */
  track(fixture: BusFixture): void;
  /** Adds entries `n=1..count` to `stream` and returns their ids. */
  fill(count: number, stream?: string): Promise<string[]>;
  readNew(consumer: string, count?: number, streams?: string[]): Promise<StreamRead[]>;
  readHistory(client: Bus, consumer: string, count?: number): Promise<StreamRead[]>;
};

export const S = 'identity';
export const G = 'markdown-lint-consumer';

export const ids = (entries: readonly StreamEntry[]): string[] => entries.map((e) => e.id);
export const values = (entries: readonly StreamEntry[]): string[] => entries.map((e) => e.fields.n ?? '?');

// Reads whole streams through the Bus in pages, with exclusive bounds so no entry is read twice.
import type { Bus, StreamEntry } from '../../ports/bus.ts';

export type ScanOptions = {
  readonly start?: string;
  readonly end?: string;
  /** Newest first. */
  readonly reverse?: boolean;
  readonly pageSize?: number;
};

export async function* scanPages(
  bus: Bus,
  stream: string,
  options: ScanOptions = {},
): AsyncGenerator<StreamEntry[]> {
  const count = options.pageSize ?? 500;
  let start = options.start ?? '-';
  let end = options.end ?? '+';
  for (;;) {
    const page = await bus.range(stream, { start, end, count, reverse: options.reverse === true });
    if (page.length > 0) yield page;
    if (page.length < count) return;
    const last = page[page.length - 1] as StreamEntry;
    if (options.reverse) end = `(${last.id}`;
    else start = `(${last.id}`;
  }
}

export async function* scanEntries(
  bus: Bus,
  stream: string,
  options: ScanOptions = {},
): AsyncGenerator<StreamEntry> {
  for await (const page of scanPages(bus, stream, options)) yield* page;
}

export const getEntry = async (bus: Bus, stream: string, id: string): Promise<StreamEntry | undefined> =>
  (await bus.range(stream, { start: id, end: id, count: 1 }))[0];

/** An emptied stream still exists (its entries were closed); a missing one never had any. */
export const streamExists = async (bus: Bus, stream: string): Promise<boolean> =>
  (await bus.len(stream)) > 0 || (await bus.streamsEndingWith(stream)).includes(stream);

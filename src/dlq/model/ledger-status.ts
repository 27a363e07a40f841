// Whether the ledger already holds an event for each consumer group that reads its stream.
import { isUuid } from '../../core/ids.ts';
import type { Bus } from '../../ports/bus.ts';
import type { Store } from '../../ports/store.ts';

export type GroupLedgerState = {
  readonly group: string;
  readonly applied: boolean;
  readonly processedAt: string | undefined;
  readonly result: string | undefined;
  readonly streamId: string | undefined;
};

export type LedgerStatus =
  | { readonly checked: false; readonly reason: string; readonly groups: readonly string[] }
  | { readonly checked: true; readonly groups: readonly GroupLedgerState[] };

export const NO_DATABASE = 'no --database-url given';

/** Groups on the origin stream (XINFO GROUPS), plus any named by the dead letter itself. */
export const streamGroups = async (
  bus: Bus,
  stream: string,
  extra: readonly (string | undefined)[],
): Promise<string[]> => {
  const names = new Set((await bus.groups(stream)).map((group) => group.name));
  for (const name of extra) if (name) names.add(name);
  return [...names];
};

export const ledgerStatus = async (
  store: Store | undefined,
  eventId: string,
  groups: readonly string[],
): Promise<LedgerStatus> => {
  if (!store) return { checked: false, reason: NO_DATABASE, groups };
  if (!isUuid(eventId)) return { checked: false, reason: 'the event_id is not a UUID', groups };
  const rows = await store.ledger.find(eventId.toLowerCase());
  const names = new Set([...groups, ...rows.map((row) => row.consumerGroup)]);
  return {
    checked: true,
    groups: [...names].sort().map((group): GroupLedgerState => {
      const row = rows.find((r) => r.consumerGroup === group);
      return {
        group,
        applied: row !== undefined,
        processedAt: row?.processedAt,
        result: row?.result,
        streamId: row?.streamId,
      };
    }),
  };
};

// What every drill works with: the running stack's URLs, the two fault switches, HTTP and SQL helpers
// that print what they ran, and mm-dlq's own commands run in process.
import { IDENTITY_TOPIC } from '../backend/user-events.ts';
import { LINT_CONSUMER_GROUP } from '../consumer/lint-profile-handler.ts';
import { systemClock } from '../core/clock.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { coerceError } from '../core/errors.ts';
import { exitCodeFor } from '../core/exit-codes.ts';
import { type DlqCommand, prepareDlqCommand } from '../dlq/commands.ts';
import { contextStyle, memoryOutput } from '../dlq/io.ts';
import type { DlqFlags } from '../dlq/settings.ts';
import type { Bus, StreamEntry } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import type { StackUrls } from '../stack/compose-stack.ts';
import type { ApplyLog } from './apply-log.ts';
import type { BusFaultSwitch } from './bus-fault.ts';
import type { DrillOutput } from './drill-output.ts';
import { type DrillPlace, shellWord } from './drill-place.ts';
import type { HandlerFault } from './handler-fault.ts';

export type { BusFaultSwitch };

export type DrillKit = {
  /** Where the drill runs, and how its printed commands point there. */
  readonly place: DrillPlace;
  readonly urls: StackUrls;
  readonly store: Store;
  readonly bus: Bus;
  readonly topic: string;
  readonly dlqStream: string;
  readonly group: string;
  readonly faults: { readonly bus: BusFaultSwitch; readonly handler: HandlerFault };
  /** Which aggregates' applied events are logged in `drill_apply_log`, in apply order. */
  readonly applyLog: ApplyLog;
  readonly out: DrillOutput;
  /** Service log lines so far (JSON), for the runbook's greps. */
  logLines(): readonly string[];
  getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Creates users through POST /api/users; returns each user's id and event id. */
  createUsers(count: number): Promise<Array<{ readonly id: string; readonly eventId: string }>>;
  /** Renames a user through PATCH /api/users/:id; returns the event id. */
  renameUser(id: string, displayName: string): Promise<string>;
  /** Polls `check` until it returns something truthy; undefined after the kit's wait limit. */
  waitFor<T>(check: () => Promise<T | false | undefined | null>): Promise<T | undefined>;
  sql<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** `$1, $2, …` for a list of parameters starting at `from`. */
  placeholders(count: number, from?: number): string;
  /** Runs an mm-dlq command as the binary would (same options, same output). */
  dlq(command: DlqCommand, flags: DlqFlags): Promise<{ code: number; stdout: string }>;
  /** The command line that `dlq(command, flags)` stands for. */
  dlqLine(command: DlqCommand, flags: DlqFlags): string;
  /** Entries of the DLQ stream carrying one of these event ids. */
  deadLetters(eventIds: readonly string[]): Promise<StreamEntry[]>;
};

export type DrillKitDeps = {
  readonly place: DrillPlace;
  readonly urls: StackUrls;
  readonly store: Store;
  readonly bus: Bus;
  readonly faults: DrillKit['faults'];
  readonly applyLog: ApplyLog;
  readonly out: DrillOutput;
  readonly logLines: () => readonly string[];
  /** How long a step waits for its effect before it FAILs. */
  readonly waitMs: number;
};

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

let userSerial = 0;

export const createDrillKit = (deps: DrillKitDeps): DrillKit => {
  const { store, bus } = deps;
  const run = Date.now().toString(36);
  const sql = <Row = Record<string, unknown>>(
    text: string,
    params: readonly unknown[] = [],
  ): Promise<Row[]> => store.withTransaction((tx) => tx.query<Row>(text, params));

  return {
    place: deps.place,
    urls: deps.urls,
    store,
    bus,
    topic: IDENTITY_TOPIC,
    dlqStream: dlqStreamOf(IDENTITY_TOPIC),
    group: LINT_CONSUMER_GROUP,
    faults: deps.faults,
    applyLog: deps.applyLog,
    out: deps.out,
    logLines: deps.logLines,
    getJson: async (url) => {
      const response = await fetch(url);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    createUsers: async (count) => {
      const created: Array<{ id: string; eventId: string }> = [];
      for (let i = 0; i < count; i += 1) {
        userSerial += 1;
        const response = await fetch(`${deps.urls.backend}/api/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: `drill.${run}.${userSerial}@example.com`,
            display_name: `Drill ${userSerial}`,
          }),
        });
        const body = (await response.json()) as { id?: string; detail?: string };
        if (response.status !== 201 || !body.id) {
          throw new Error(`POST /api/users answered ${response.status}: ${body.detail ?? ''}`);
        }
        created.push({ id: body.id, eventId: response.headers.get('mm-event-id') ?? '' });
      }
      return created;
    },
    renameUser: async (id, displayName) => {
      const response = await fetch(`${deps.urls.backend}/api/users/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ display_name: displayName }),
      });
      const body = (await response.json()) as { detail?: string };
      const eventId = response.headers.get('mm-event-id');
      if (response.status !== 200 || !eventId)
        throw new Error(`PATCH /api/users/${id} answered ${response.status}: ${body.detail ?? ''}`);
      return eventId;
    },
    waitFor: async (check) => {
      const deadline = Date.now() + deps.waitMs;
      for (;;) {
        const value = await check().catch(() => undefined);
        if (value) return value;
        if (Date.now() > deadline) return undefined;
        await systemClock.sleep(100);
      }
    },
    sql,
    placeholders: (count, from = 1) => Array.from({ length: count }, (_, i) => `$${i + from}`).join(', '),
    dlq: async (command, flags) => {
      const output = memoryOutput({ columns: 120 });
      try {
        const code = await prepareDlqCommand(
          command,
          flags,
        )({
          bus,
          place: deps.place.dlq,
          store,
          parking: store.parking,
          io: output.io,
          style: contextStyle(output.io),
          clock: systemClock,
          actor: 'mm-drill',
        });
        return { code, stdout: output.stdout() + output.stderr() };
      } catch (thrown) {
        const error = coerceError(thrown);
        return { code: exitCodeFor(error), stdout: `${output.stdout()}mm-dlq: ${error.message}\n` };
      }
    },
    dlqLine: (command, flags) => {
      const words = Object.entries(flags).flatMap(([name, value]) =>
        value === true
          ? [`--${kebab(name)}`]
          : value === undefined || value === false
            ? []
            : [`--${kebab(name)}`, shellWord(String(value))],
      );
      return ['mm-dlq', command, ...words, ...deps.place.flags].join(' ');
    },
    deadLetters: async (eventIds) => {
      const wanted = new Set(eventIds);
      const entries = await bus.range(dlqStreamOf(IDENTITY_TOPIC));
      return entries.filter((entry) => wanted.has(entry.fields.event_id ?? ''));
    },
  };
};

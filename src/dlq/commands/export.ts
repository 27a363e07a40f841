// `mm-dlq export`: copies one dead letter (open or closed, from production or a local file) into a NEW
// local file, as a case to replay offline: the dead letter in `<topic>.dlq` exactly as it was, and
// its original event on the origin stream, where `mm-consumer run --local case.db` picks it up.
import { parseDeadLetter } from '../../core/dead-letter.ts';
import { UsageError } from '../../core/errors.ts';
import type { Bus } from '../../ports/bus.ts';
import type { DlqContext } from '../io.ts';
import { locate } from '../model/locate.ts';
import { describeIdArg, type IdArg } from '../model/names.ts';
import { originTopicOf, reprocessStreamOf } from '../model/republish.ts';
import type { ExportOptions } from '../options.ts';

/** The new local file, opened (created and migrated) by the caller's wiring. */
export type CaseFile = { readonly bus: Bus; close(): Promise<void> };

/** The `--to` file. */
export type ExportTarget = {
  exists(): boolean;
  open(): Promise<CaseFile>;
  /** Removes the file when this export created it but could not finish. */
  discard(): void;
};

export type Exported = {
  readonly from: { readonly stream: string; readonly id: string; readonly state: 'open' | 'closed' };
  readonly to: string;
  readonly eventId: string;
  readonly stage: string;
  readonly group: string | undefined;
  readonly deadLetter: { readonly stream: string; readonly id: string };
  readonly event: { readonly stream: string; readonly id: string };
};

export const runExport = async (
  ctx: DlqContext,
  options: ExportOptions,
  target: ExportTarget,
): Promise<number> => {
  if (target.exists()) {
    throw new UsageError(
      `--to ${options.to} already exists: export writes a new file (remove it or pick another name)`,
    );
  }
  const found = await locate(ctx.bus, options.dlq, options.id);
  const dead = parseDeadLetter(found.fields);
  // The case file has one partition per topic: the event goes to the topic's stream, whichever
  // partition stream it came from, and the count is recorded so the consumer does not wait for a relay.
  const origin = reprocessStreamOf(found.fields, options.dlq, 1);
  const caseFile = await target.open();
  let exported: Exported;
  try {
    await caseFile.bus.setPartitions(originTopicOf(found.fields, options.dlq), 1);
    // One step: the case holds both or neither.
    const written = await caseFile.bus.exec([
      { op: 'add', stream: origin, fields: dead.original },
      { op: 'add', stream: options.dlq.name, fields: found.fields },
    ]);
    exported = {
      from: { stream: options.dlq.name, id: found.id, state: found.state },
      to: options.to,
      eventId: found.fields.event_id ?? '',
      stage: dead.stage,
      group: dead.consumerGroup,
      event: { stream: origin, id: written.addedIds[0] ?? '' },
      deadLetter: { stream: options.dlq.name, id: written.addedIds[1] ?? '' },
    };
  } catch (error) {
    await caseFile.close();
    target.discard();
    throw error;
  }
  await caseFile.close();
  ctx.io.out(options.json ? `${JSON.stringify(exported, null, 2)}\n` : describeExport(exported, options.id));
  return 0;
};

export const describeExport = (e: Exported, asked: IdArg): string => {
  const group = e.group ? ` --group ${e.group}` : '';
  return [
    `exported dead letter ${e.from.id} (${describeIdArg(asked) === e.from.id ? '' : `${describeIdArg(asked)}, `}${e.from.state}, stage ${e.stage}${e.group ? `, group ${e.group}` : ''}) from ${e.from.stream} to ${e.to}:`,
    `  ${e.deadLetter.stream.padEnd(16)} ${e.deadLetter.id}  the dead letter, every field as it was`,
    `  ${e.event.stream.padEnd(16)} ${e.event.id}  event ${e.eventId} as first published, for the consumer`,
    'replay it offline with a fixed handler, then read the result:',
    `  mm-consumer run --local ${e.to}${group} --handler ./fix.mjs`,
    `  curl -s http://127.0.0.1:8081/metrics    # events_processed_success, last_processed_event_id`,
    `  sqlite3 ${e.to} "SELECT * FROM event_ledger WHERE event_id = '${e.eventId}'"`,
    '',
  ].join('\n');
};

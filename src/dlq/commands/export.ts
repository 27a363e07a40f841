// `mm-dlq export`: copies one dead letter (open or closed, from production or a local file) into a NEW
// local file, as a case to replay offline: the dead letter in `<topic>.dlq` exactly as it was, and
// its original event on the origin stream, where `mm-consumer run --local case.db` picks it up.
import { parseDeadLetter } from '../../core/dead-letter.ts';
import { UsageError } from '../../core/errors.ts';
import type { Bus } from '../../ports/bus.ts';
import type { DlqContext } from '../io.ts';
import { locate } from '../model/locate.ts';
import { type DlqStream, describeIdArg, type IdArg } from '../model/names.ts';
import { originStreamOf } from '../model/republish.ts';
import { type DlqFlags, inspectOptions } from '../options.ts';

export type ExportFlags = DlqFlags & { readonly to?: string };

export type ExportOptions = {
  readonly dlq: DlqStream;
  readonly id: IdArg;
  readonly to: string;
  readonly json: boolean;
};

/** The new local file, opened (created and migrated) by the caller's wiring. */
export type CaseFile = { readonly bus: Bus; close(): Promise<void> };

/** The `--to` file. */
export type ExportTarget = {
  exists(): boolean;
  open(): Promise<CaseFile>;
  /** Removes the file when this export created it but could not finish. */
  discard(): void;
};

export const exportOptions = (flags: ExportFlags): ExportOptions => {
  const problems: string[] = [];
  if (flags.to === undefined || flags.to.trim() === '') problems.push('--to is required (e.g. --to case.db)');
  let base: ReturnType<typeof inspectOptions> | undefined;
  try {
    base = inspectOptions(flags);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0 || !base) throw new UsageError(problems.join('; '));
  return { dlq: base.dlq, id: base.id, to: flags.to as string, json: base.json };
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
  const origin = originStreamOf(found.fields, options.dlq);
  const caseFile = await target.open();
  let exported: Exported;
  try {
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

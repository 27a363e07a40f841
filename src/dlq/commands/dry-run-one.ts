// `reprocess --id X --dry-run`: what a reprocess of one dead letter would publish, and whether each
// consumer group's ledger already holds the event (then that group would skip it). Writes nothing.
import { parseDeadLetter } from '../../core/dead-letter.ts';
import { describeClosing } from '../format/inspect-render.ts';
import { oneLine } from '../format/text.ts';
import type { DlqContext } from '../io.ts';
import { type LedgerStatus, ledgerStatus, streamGroups } from '../model/ledger-status.ts';
import { type Located, locate } from '../model/locate.ts';
import type { DlqStream, IdArg } from '../model/names.ts';
import { currentPartitionsOf, type Republished, republish } from '../model/republish.ts';

export type OneDryRun = {
  readonly stream: string;
  readonly id: string;
  readonly state: Located['state'];
  readonly eventId: string;
  /** Undefined when nothing would be published (closed, without --force). */
  readonly wouldPublish: Republished | undefined;
  readonly closedBy: string | undefined;
  readonly ledger: LedgerStatus;
};

export const dryRunOne = async (
  ctx: DlqContext,
  request: { dlq: DlqStream; id: IdArg; force: boolean },
): Promise<OneDryRun> => {
  const found = await locate(ctx.bus, request.dlq, request.id);
  const dead = parseDeadLetter(found.fields);
  const prior = found.audits.filter((record) => record.action === 'reprocessed').length;
  const publishes = found.state === 'open' || request.force;
  const wouldPublish = publishes
    ? republish(
        found.fields,
        found.id,
        request.dlq,
        prior,
        await currentPartitionsOf(ctx, found.fields, request.dlq),
      )
    : undefined;
  const origin = wouldPublish?.stream ?? (dead.originStream || request.dlq.topic);
  const groups = await streamGroups(ctx.bus, origin, [dead.consumerGroup]);
  const closing = found.audits.find((record) => !record.forced) ?? found.audits[0];
  return {
    stream: request.dlq.name,
    id: found.id,
    state: found.state,
    eventId: found.fields.event_id ?? '',
    wouldPublish,
    closedBy: closing ? describeClosing(closing) : undefined,
    ledger: await ledgerStatus(ctx.store, found.fields.event_id ?? '', groups),
  };
};

const ledgerLine = (ledger: LedgerStatus): string[] => {
  if (!ledger.checked) return [`ledger not checked: ${ledger.reason}`];
  if (ledger.groups.length === 0) return ['ledger: no consumer group reads the origin stream yet'];
  return ledger.groups.map((g) =>
    g.applied
      ? `ledger: group ${g.group} already recorded it ${g.processedAt ?? '?'} (result ${g.result ?? '?'}): it would skip it`
      : `ledger: group ${g.group} has not applied it: it would apply it`,
  );
};

export const renderDryRunOne = (run: OneDryRun): string => {
  const lines = [
    `dry run: reprocess of ${run.id} (event ${oneLine(run.eventId) || '?'}) in ${run.stream}, ${run.state}`,
  ];
  if (run.wouldPublish) {
    const { stream, fields, reprocessCount } = run.wouldPublish;
    lines.push(
      `would publish to ${stream}: event_type ${oneLine(fields.event_type ?? '?')}, event_id ${oneLine(fields.event_id ?? '?')}, reprocess_count ${reprocessCount}, then close ${run.id} as reprocessed`,
    );
  } else {
    lines.push(
      `already closed (${run.closedBy ?? '?'}): nothing would be published (--force publishes again)`,
    );
  }
  lines.push(...ledgerLine(run.ledger), 'nothing was changed');
  return lines.join('\n');
};

export const dryRunOneJson = (run: OneDryRun) => ({
  dry_run: true,
  action: 'reprocessed',
  stream: run.stream,
  id: run.id,
  state: run.state,
  event_id: run.eventId,
  would_publish: run.wouldPublish
    ? {
        stream: run.wouldPublish.stream,
        fields: run.wouldPublish.fields,
        reprocess_count: run.wouldPublish.reprocessCount,
      }
    : null,
  ledger: run.ledger.checked
    ? {
        checked: true,
        groups: run.ledger.groups.map((g) => ({
          group: g.group,
          applied: g.applied,
          processed_at: g.processedAt ?? null,
          result: g.result ?? null,
        })),
      }
    : { checked: false, reason: run.ledger.reason, groups: run.ledger.groups },
});

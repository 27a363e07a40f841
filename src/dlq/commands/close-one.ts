// Reprocess or resolve one dead letter by id. Safe to repeat: a closed entry is reported, not redone,
// unless a reprocess is forced (then it publishes again; the ledger keeps the effect single).

import type { DlqContext } from '../io.ts';
import type { AuditRecord, Closing } from '../model/audit-record.ts';
import { type Located, locate } from '../model/locate.ts';
import type { DlqStream, IdArg } from '../model/names.ts';
import { assertPublishable, relayHold, releaseRelayHold, withFullBody } from '../model/relay-hold.ts';
import { type Republished, republish } from '../model/republish.ts';
import { closeEntry } from './close.ts';

export type OneRequest = {
  readonly dlq: DlqStream;
  readonly id: IdArg;
  readonly action: 'reprocessed' | 'resolved';
  readonly note: string;
  readonly force: boolean;
  /** Reprocess: the relay's limit, for relay-stage dead letters (default 1 MiB). */
  readonly maxEventBytes?: number | undefined;
};

const DEFAULT_MAX_EVENT_BYTES = 1_048_576;

/** What a reprocess republishes: from the dead row's full event for a relay-stage dead letter. */
const republishOne = async (
  ctx: DlqContext,
  request: OneRequest,
  found: Located,
  prior: number,
): Promise<Republished> => {
  const fields = withFullBody(found.fields, await relayHold(ctx, request.dlq, found.id, found.fields));
  const republished = republish(fields, found.id, request.dlq, prior);
  assertPublishable(fields, republished, request.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
  return republished;
};

export type OneOutcome = {
  readonly stream: string;
  readonly id: string;
  readonly eventId: string;
  readonly action: 'reprocessed' | 'resolved';
  /** `done`: this run closed (or, forced, re-published) it; `already_closed`: nothing was written. */
  readonly outcome: 'done' | 'already_closed';
  readonly forced: boolean;
  readonly republished: Republished | undefined;
  readonly newStreamId: string | undefined;
  /** How the entry had been closed before this run (already_closed, or a forced re-publish). */
  readonly previously: AuditRecord | undefined;
};

const closingOf = (ctx: DlqContext, request: OneRequest, dlqId: string, forced: boolean): Closing => ({
  action: request.action,
  dlqId,
  actor: ctx.actor,
  note: request.note,
  at: new Date(ctx.clock.now()).toISOString(),
  ...(forced ? { forced: true } : {}),
});

const firstClose = (found: Located): AuditRecord | undefined =>
  found.audits.find((record) => !record.forced) ?? found.audits[0];

export const closeOne = async (ctx: DlqContext, request: OneRequest): Promise<OneOutcome> => {
  let found = await locate(ctx.bus, request.dlq, request.id);
  const base = { stream: request.dlq.name, id: found.id, action: request.action };
  const eventId = found.fields.event_id ?? '';
  if (found.state === 'open') {
    const republished =
      request.action === 'reprocessed'
        ? await republishOne(ctx, request, found, 0)
        : await relayHold(ctx, request.dlq, found.id, found.fields).then(() => undefined);
    const result = await closeEntry(ctx.bus, {
      dlq: request.dlq,
      id: found.id,
      fields: found.fields,
      closing: closingOf(ctx, request, found.id, false),
      republish: republished,
      open: true,
    });
    if (result.applied) {
      await releaseRelayHold(ctx, request.dlq, found.id, found.fields);
      return {
        ...base,
        eventId,
        outcome: 'done',
        forced: false,
        republished,
        newStreamId: result.newStreamId,
        previously: undefined,
      };
    }
    // Someone closed it between our read and our write: nothing was written; report their close.
    found = await locate(ctx.bus, request.dlq, { kind: 'entry', id: found.id });
  }
  const previously = firstClose(found);
  // Closed before, but the run that closed it may have stopped before releasing its row.
  await releaseRelayHold(ctx, request.dlq, found.id, found.fields);
  if (!(request.force && request.action === 'reprocessed')) {
    return {
      ...base,
      eventId,
      outcome: 'already_closed',
      forced: false,
      republished: undefined,
      newStreamId: undefined,
      previously,
    };
  }
  const prior = found.audits.filter((record) => record.action === 'reprocessed').length;
  const republished = await republishOne(ctx, request, found, prior);
  const result = await closeEntry(ctx.bus, {
    dlq: request.dlq,
    id: found.id,
    fields: found.fields,
    closing: closingOf(ctx, request, found.id, true),
    republish: republished,
    open: false,
  });
  return {
    ...base,
    eventId,
    outcome: 'done',
    forced: true,
    republished,
    newStreamId: result.newStreamId,
    previously,
  };
};

export const oneOutcomeJson = (o: OneOutcome) => ({
  stream: o.stream,
  id: o.id,
  event_id: o.eventId,
  action: o.action,
  outcome: o.outcome,
  forced: o.forced,
  origin_stream: o.republished?.stream ?? null,
  new_stream_id: o.newStreamId ?? null,
  reprocess_count: o.republished?.reprocessCount ?? null,
  previously: o.previously
    ? {
        action: o.previously.action,
        at: o.previously.at,
        actor: o.previously.actor,
        note: o.previously.note,
        new_stream_id: o.previously.newStreamId ?? null,
      }
    : null,
});

export const describeOneOutcome = (o: OneOutcome, audit: string): string => {
  const event = o.eventId ? ` (event ${o.eventId})` : '';
  if (o.outcome === 'done' && o.action === 'resolved')
    return `resolved ${o.id}${event}; audit record in ${audit}`;
  if (o.outcome === 'done') {
    const where = `${o.republished?.stream} as ${o.newStreamId}, reprocess_count ${o.republished?.reprocessCount}`;
    return o.forced
      ? `published ${o.id}${event} again (--force): ${where}; audit record in ${audit}`
      : `reprocessed ${o.id}${event}: published to ${where}; closed, audit record in ${audit}`;
  }
  const p = o.previously;
  const how = p
    ? `was already ${p.action} at ${p.at} by ${p.actor || '?'}${p.newStreamId ? ` (published as ${p.newStreamId})` : ''}`
    : 'was already closed';
  if (o.action === 'resolved') return `${o.id} ${how}; nothing to do`;
  const hint = p?.action === 'reprocessed' ? '--force publishes it again' : '--force publishes it anyway';
  return `${o.id} ${how}; nothing published (${hint})`;
};

// Reprocess or resolve one dead letter by id. Safe to repeat: a closed entry is reported, not redone,
// unless a reprocess is forced (then it publishes again; the ledger keeps the effect single). A
// resolve then releases the aggregates its event halts; a reprocess leaves that to the consumer.

import type { DlqContext } from '../io.ts';
import type { AuditRecord, Closing } from '../model/audit-record.ts';
import { type Halted, haltedBehindOrUnchecked, haltedJson, waitingPhrase } from '../model/halted.ts';
import { type Located, locate } from '../model/locate.ts';
import type { DlqStream, IdArg } from '../model/names.ts';
import {
  assertPublishable,
  relayHold,
  releaseRelayHold,
  withFullBody,
  withRepublishedBody,
} from '../model/relay-hold.ts';
import { releaseHalted, releasesNow } from '../model/release.ts';
import { currentPartitionsOf, type Republished, republish } from '../model/republish.ts';
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
  const row = await relayHold(ctx, request.dlq, found.id, found.fields);
  const partitions = await currentPartitionsOf(ctx, found.fields, request.dlq);
  const target = republish(found.fields, found.id, request.dlq, prior, partitions).stream;
  const fields = row
    ? withFullBody(found.fields, row)
    : await withRepublishedBody(ctx.bus, found.fields, found.audits, target);
  const republished = republish(fields, found.id, request.dlq, prior, partitions);
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
  /**
   * What the event halts: released by this run (`released`), or left for the consumer to release once
   * it applied the reprocessed event (`released` false).
   */
  readonly halted: Halted;
  readonly released: boolean;
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

type Closed = Omit<OneOutcome, 'halted' | 'released'>;

/**
 * Closes first, then releases: the audit record names who let the waiting events go. What waits
 * behind a reprocessed dead letter is read before it is republished: a consumer may apply the new
 * copy, and lift the block, before this would look.
 */
export const closeOne = async (ctx: DlqContext, request: OneRequest): Promise<OneOutcome> => {
  const found = await locate(ctx.bus, request.dlq, request.id);
  const waiting =
    request.action === 'reprocessed'
      ? await haltedBehindOrUnchecked(ctx.parking, found.fields.event_id ?? '')
      : undefined;
  const closed = await closeOnce(ctx, request, found);
  if (releasesNow(request.action, closed.previously)) {
    return { ...closed, halted: await releaseHalted(ctx.parking, closed.eventId, closed.id), released: true };
  }
  return {
    ...closed,
    halted: waiting ?? (await haltedBehindOrUnchecked(ctx.parking, closed.eventId)),
    released: false,
  };
};

const closeOnce = async (ctx: DlqContext, request: OneRequest, located: Located): Promise<Closed> => {
  let found = located;
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
  waiting_behind: o.halted.checked ? o.halted.waiting : null,
  halted: haltedJson(o.halted),
  released: o.released && o.halted.checked,
});

/** What happened to the events waiting behind it, as further lines (empty when nothing waits). */
export const describeHalted = (halted: Halted, released: boolean): string => {
  if (!halted.checked) return '';
  return halted.groups
    .map((g) => {
      const where = `aggregate ${g.aggregateKey}, group ${g.group}`;
      return released
        ? `\nreleased ${where}: ${g.waiting} waiting event${g.waiting === 1 ? '' : 's'} follow in order`
        : `\n${waitingPhrase(g.waiting, 'it')} (${where}): released in order once the consumer applied the reprocessed event`;
    })
    .join('');
};

/** A warning for stderr when a release could not even look for blocks (no database). */
export const notReleasedWarning = (halted: Halted, released: boolean): string | undefined =>
  !halted.checked && released
    ? `mm-dlq: events waiting behind it (if any) were not released: ${halted.reason}; run it again with the database to release them\n`
    : undefined;

export const describeOneOutcome = (o: OneOutcome, audit: string): string =>
  describeClose(o, audit) + describeHalted(o.halted, o.released);

const describeClose = (o: OneOutcome, audit: string): string => {
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
  if (o.action === 'resolved') {
    // A rerun that finishes a release (cut short, or run without the database) does do something.
    const releasing = o.released && o.halted.checked && o.halted.groups.length > 0;
    return `${o.id} ${how}${releasing ? '' : '; nothing to do'}`;
  }
  const hint = p?.action === 'reprocessed' ? '--force publishes it again' : '--force publishes it anyway';
  return `${o.id} ${how}; nothing published (${hint})`;
};

// What an operator does from the console, through mm-dlq's own commands: the ledger-aware dry run,
// reprocess or resolve one (closeOne), reprocess a fingerprint group at a steady rate (runBulk, one
// second's worth at a time so the page can show progress), export one as a local-mode file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coerceError, NotFoundError } from '../../core/errors.ts';
import { uuidv7 } from '../../core/ids.ts';
import { runBulk, selectEntries } from '../../dlq/commands/bulk.ts';
import { closeOne, type OneOutcome } from '../../dlq/commands/close-one.ts';
import { type DryRun, dryRunReprocess } from '../../dlq/commands/dry-run.ts';
import { type CaseFile, runExport } from '../../dlq/commands/export.ts';
import type { DlqContext } from '../../dlq/io.ts';
import type { DlqStream } from '../../dlq/model/names.ts';
import { getEntry } from '../../dlq/model/scan.ts';
import type { StreamEntry } from '../../ports/bus.ts';

export const dryRunOne = async (ctx: DlqContext, dlq: DlqStream, id: string): Promise<DryRun> => {
  const entry = await getEntry(ctx.bus, dlq.name, id);
  if (!entry) throw new NotFoundError(`${id} is not an open dead letter in ${dlq.name}`);
  return dryRunReprocess(ctx, dlq, [entry]);
};

export const groupEntries = (ctx: DlqContext, dlq: DlqStream, fingerprint: string): Promise<StreamEntry[]> =>
  selectEntries(ctx, dlq, { fingerprint }, undefined);

export const closeFromConsole = (
  ctx: DlqContext,
  dlq: DlqStream,
  id: string,
  action: 'reprocessed' | 'resolved',
  note: string,
): Promise<OneOutcome> => closeOne(ctx, { dlq, id: { kind: 'entry', id }, action, note, force: false });

export type Job = {
  readonly id: string;
  readonly stream: string;
  readonly fingerprint: string;
  readonly actor: string;
  readonly total: number;
  done: number;
  alreadyClosed: number;
  failed: number;
  state: 'running' | 'finished' | 'failed';
  error: string | undefined;
};

export type Jobs = {
  start(
    ctx: DlqContext,
    dlq: DlqStream,
    fingerprint: string,
    entries: readonly StreamEntry[],
    note: string,
  ): Job;
  get(id: string): Job | undefined;
};

const KEEP_JOBS = 50;

/** Group reprocesses in the background, `rate` per second, their progress kept for the page. */
export const createJobs = (rate: number): Jobs => {
  const jobs = new Map<string, Job>();
  return {
    start: (ctx, dlq, fingerprint, entries, note) => {
      const job: Job = {
        id: uuidv7(),
        stream: dlq.name,
        fingerprint,
        actor: ctx.actor,
        total: entries.length,
        done: 0,
        alreadyClosed: 0,
        failed: 0,
        state: 'running',
        error: undefined,
      };
      jobs.set(job.id, job);
      while (jobs.size > KEEP_JOBS) jobs.delete(jobs.keys().next().value as string);
      void (async () => {
        try {
          for (let next = 0; next < entries.length; next += rate) {
            const summary = await runBulk(ctx, {
              dlq,
              entries: entries.slice(next, next + rate),
              action: 'reprocessed',
              note,
              rate,
              maxFailures: 0,
              progress: false,
            });
            job.done += summary.done;
            job.alreadyClosed += summary.alreadyClosed;
            job.failed += summary.failed.length;
          }
          job.state = 'finished';
        } catch (thrown) {
          job.state = 'failed';
          job.error = coerceError(thrown).message;
        }
      })();
      return job;
    },
    get: (id) => jobs.get(id),
  };
};

/** Opens a new local file (created and migrated) for an export; the wiring provides it. */
export type OpenCaseFile = (file: string) => Promise<CaseFile>;

/**
 * `mm-dlq export` into a temporary file, read back for the download, then removed. Recorded in the
 * dead letter's audit stream as `exported` (readers of closing records skip that action).
 */
export const exportCase = async (
  ctx: DlqContext,
  dlq: DlqStream,
  id: string,
  openCaseFile: OpenCaseFile,
): Promise<Uint8Array> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-console-export-'));
  const to = join(dir, 'case.db');
  try {
    await runExport(
      ctx,
      { dlq, id: { kind: 'entry', id }, to, json: true },
      {
        exists: () => false,
        open: () => openCaseFile(to),
        discard: () => {},
      },
    );
    const bytes = readFileSync(to);
    await ctx.bus.add(dlq.audit, {
      action: 'exported',
      dlq_id: id,
      actor: ctx.actor,
      note: 'downloaded as a local-mode file from the console',
      at: new Date(ctx.clock.now()).toISOString(),
    });
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

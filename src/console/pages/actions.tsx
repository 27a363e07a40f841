// The pages around an action: the confirmation with its ledger-aware dry run, the progress of a group
// reprocess, and the outcome.
import type { Child } from 'hono/jsx';
import type { DryRun } from '../../dlq/commands/dry-run.ts';
import { NO_DATABASE } from '../../dlq/model/ledger-status.ts';
import type { Job } from '../data/actions.ts';
import { CsrfField, type Viewer } from './layout.tsx';

export const DryRunTable = ({ run }: { run: DryRun }) => (
  <>
    <table class="dry-run">
      <thead>
        <tr>
          <th>origin stream</th>
          <th>group</th>
          <th class="num">would be published and applied</th>
          <th class="num">already applied (skipped by the ledger)</th>
        </tr>
      </thead>
      <tbody>
        {run.rows.map((row) => (
          <tr>
            <td>{row.originStream}</td>
            <td>{row.group ?? '(no consumer group yet)'}</td>
            <td class="num would-apply">{row.wouldApply}</td>
            <td class="num already-applied">{row.alreadyApplied ?? '?'}</td>
          </tr>
        ))}
      </tbody>
    </table>
    {run.ledgerChecked ? null : <p class="notice">Ledger not checked: {NO_DATABASE}.</p>}
  </>
);

export const ConfirmPage = (props: {
  title: string;
  explain: Child;
  run: DryRun | undefined;
  action: string;
  button: string;
  cancel: string;
  viewer: Viewer;
  noteRequired?: boolean;
}) => (
  <>
    <h1>{props.title}</h1>
    <p>{props.explain}</p>
    {props.run ? (
      <>
        <h2>
          Dry run: {props.run.selected} dead letter{props.run.selected === 1 ? '' : 's'}, nothing changed yet
        </h2>
        <DryRunTable run={props.run} />
      </>
    ) : null}
    <form method="post" action={props.action} class="confirm">
      <CsrfField viewer={props.viewer} />
      <p>
        <label>
          Note for the audit trail{props.noteRequired ? ' (required)' : ''}
          <br />
          <textarea name="note" rows={2} cols={60} required={props.noteRequired === true} />
        </label>
      </p>
      <div class="actions">
        <button type="submit" class="confirm-button">
          {props.button}
        </button>
        <a class="button secondary" href={props.cancel}>
          Cancel
        </a>
      </div>
    </form>
  </>
);

export const JobPage = ({ job }: { job: Job }) => (
  <>
    <h1>Reprocessing fingerprint {job.fingerprint}</h1>
    <p>
      Started by {job.actor} on {job.stream}: <b class="job-state">{job.state}</b>
      {job.error ? ` (${job.error})` : ''}
    </p>
    <progress max={job.total} value={job.done + job.alreadyClosed + job.failed} />
    <p>
      {job.done} reprocessed, {job.alreadyClosed} already closed, {job.failed} failed, of {job.total}.
    </p>
    <p>
      <a href={`/dead-letters?stream=${encodeURIComponent(job.stream)}`}>Back to {job.stream}</a>
    </p>
  </>
);

export const MessagePage = (props: { title: string; children: Child; back: string }) => (
  <>
    <h1>{props.title}</h1>
    <div class="notice outcome">{props.children}</div>
    <p>
      <a href={props.back}>Back</a>
    </p>
  </>
);

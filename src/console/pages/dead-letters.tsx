// Dead letters: grouped by fingerprint as `mm-dlq report` groups them, filtered by type, stage, group
// and age; a fingerprint's open entries; one dead letter with payload, error, ledger state and audit.
import type { StreamFields } from '../../core/envelope.ts';
import type { Inspection } from '../../dlq/commands/inspect.ts';
import { type DeadLetterView, errorLine, stageLabel } from '../../dlq/model/dead-letter-view.ts';
import type { StreamReport } from '../../dlq/model/report-model.ts';
import type { PageFilter } from '../data/dead-letters.ts';
import { ago, CsrfField, type Viewer } from './layout.tsx';

const link = (stream: string, id: string, suffix = ''): string =>
  `/dead-letters/${encodeURIComponent(stream)}/${encodeURIComponent(id)}${suffix}`;

export const groupLink = (stream: string, fingerprint: string, suffix = ''): string =>
  `/dead-letters/${encodeURIComponent(stream)}/group/${encodeURIComponent(fingerprint)}${suffix}`;

const Filters = ({
  streams,
  stream,
  filter,
}: {
  streams: readonly string[];
  stream: string;
  filter: PageFilter;
}) => (
  <form class="filters" method="get" action="/dead-letters">
    <label>
      stream
      <select name="stream">
        {streams.map((name) => (
          <option value={name} selected={name === stream}>
            {name}
          </option>
        ))}
      </select>
    </label>
    <label>
      event type
      <input name="type" value={filter.eventType ?? ''} placeholder="user.created" />
    </label>
    <label>
      stage
      <select name="stage">
        {['', 'relay', 'consumer'].map((s) => (
          <option value={s} selected={s === (filter.stage ?? '')}>
            {s || 'any'}
          </option>
        ))}
      </select>
    </label>
    <label>
      group
      <input name="group" value={filter.group ?? ''} placeholder="markdown-lint-consumer" />
    </label>
    <label>
      younger than (hours)
      <input name="hours" type="number" min="1" value={String(filter.hours)} />
    </label>
    <button type="submit">Filter</button>
  </form>
);

export const DeadLettersPage = (props: {
  streams: readonly string[];
  stream: string;
  filter: PageFilter;
  report: StreamReport;
  entries: readonly DeadLetterView[];
  nowMs: number;
  viewer: Viewer;
}) => (
  <>
    <h1>
      Dead letters in <span data-stream={props.stream}>{props.stream}</span>
    </h1>
    <Filters streams={props.streams} stream={props.stream} filter={props.filter} />
    <p>
      <b class="open-backlog">{props.report.open.count}</b> open
      {props.report.open.oldest_at ? `, oldest ${ago(props.report.open.oldest_at, props.nowMs)}` : ''}; in the
      last {props.filter.hours} h: {props.report.new} new, {props.report.closed.total} closed (
      {props.report.closed.reprocessed} reprocessed, {props.report.closed.resolved} resolved).
    </p>
    <h2>By fingerprint</h2>
    <table>
      <thead>
        <tr>
          <th>fingerprint</th>
          <th>error</th>
          <th class="num">count</th>
          <th class="num">open</th>
          <th>first seen</th>
          <th>last seen</th>
          <th>sample</th>
          {props.viewer.role === 'operator' ? <th /> : null}
        </tr>
      </thead>
      <tbody>
        {props.report.by_fingerprint.map((row) => (
          <tr data-fingerprint={row.fingerprint}>
            <td>
              <a
                href={`/dead-letters?stream=${encodeURIComponent(props.stream)}&fingerprint=${encodeURIComponent(row.fingerprint)}&hours=${props.filter.hours}`}
              >
                {row.fingerprint}
              </a>
            </td>
            <td class="small">
              {row.error_message ? `${row.error_class}: ${row.error_message}` : row.error_class}
            </td>
            <td class="num">{row.count}</td>
            <td class="num">{row.open}</td>
            <td class="small">{ago(row.first_seen, props.nowMs)}</td>
            <td class="small">{ago(row.last_seen, props.nowMs)}</td>
            <td class="small">
              <a href={link(props.stream, row.sample_id)}>{row.sample_id}</a>
            </td>
            {props.viewer.role === 'operator' ? (
              <td>
                {row.open > 0 ? (
                  <a class="button secondary" href={groupLink(props.stream, row.fingerprint, '/reprocess')}>
                    Reprocess group…
                  </a>
                ) : null}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
    <h2>
      Open dead letters{props.filter.fingerprint ? ` with fingerprint ${props.filter.fingerprint}` : ''}
    </h2>
    <table>
      <thead>
        <tr>
          <th>id</th>
          <th>event type</th>
          <th>stage</th>
          <th class="num">attempts</th>
          <th>error</th>
          <th>dead-lettered</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((view) => (
          <tr data-id={view.id}>
            <td>
              <a href={link(props.stream, view.id)}>{view.id}</a>
            </td>
            <td>{view.eventType}</td>
            <td>{stageLabel(view)}</td>
            <td class="num">{view.attempts}</td>
            <td class="small">{errorLine(view)}</td>
            <td class="small">{ago(view.createdMs, props.nowMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </>
);

const PAYLOAD_SHOWN = 4_000;

const pretty = (raw: string | undefined): string => {
  if (raw === undefined) return '(no payload field)';
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
};

export type AuditLine = { readonly id: string; readonly fields: StreamFields };

export const DeadLetterPage = (props: {
  inspection: Inspection;
  trail: readonly AuditLine[];
  viewer: Viewer;
  nowMs: number;
}) => {
  const { inspection } = props;
  const f = inspection.fields;
  const payload = pretty(f.payload);
  const stream = inspection.stream;
  return (
    <>
      <h1>
        Dead letter {inspection.id}{' '}
        <span class={`status ${inspection.state === 'open' ? 'unhealthy' : 'healthy'}`}>
          {inspection.state}
        </span>
      </h1>
      <table>
        <tbody>
          <tr>
            <th>event</th>
            <td>
              {f.event_id} ({f.event_type})
            </td>
          </tr>
          <tr>
            <th>aggregate</th>
            <td>
              {f.aggregate_type} {f.aggregate_id}
            </td>
          </tr>
          <tr>
            <th>stage</th>
            <td>
              {f.dlq_stage}
              {f.dlq_consumer_group ? ` / ${f.dlq_consumer_group}` : ''}
            </td>
          </tr>
          <tr>
            <th>origin</th>
            <td>
              {f.dlq_origin_stream} {f.dlq_origin_id ?? ''}
            </td>
          </tr>
          <tr>
            <th>attempts</th>
            <td class="attempts">{f.dlq_attempts}</td>
          </tr>
          <tr>
            <th>failed</th>
            <td>
              first {f.dlq_first_failed_at}, last {f.dlq_failed_at}
            </td>
          </tr>
          <tr>
            <th>fingerprint</th>
            <td>
              <a
                href={`/dead-letters?stream=${encodeURIComponent(stream)}&fingerprint=${encodeURIComponent(f.dlq_fingerprint ?? '')}`}
              >
                {f.dlq_fingerprint}
              </a>
            </td>
          </tr>
        </tbody>
      </table>
      {props.viewer.role === 'operator' && inspection.state === 'open' ? (
        <div class="actions">
          <a class="button" href={link(stream, inspection.id, '/reprocess')}>
            Reprocess…
          </a>
          <a class="button secondary" href={link(stream, inspection.id, '/resolve')}>
            Resolve…
          </a>
          <form method="post" action={link(stream, inspection.id, '/export')}>
            <CsrfField viewer={props.viewer} />
            <button class="secondary" type="submit">
              Export as local file
            </button>
          </form>
        </div>
      ) : null}
      <h2>Payload</h2>
      {payload.length <= PAYLOAD_SHOWN ? (
        <pre class="payload">{payload}</pre>
      ) : (
        <>
          <pre class="payload">{`${payload.slice(0, PAYLOAD_SHOWN)}\n… (${payload.length - PAYLOAD_SHOWN} more characters)`}</pre>
          <details>
            <summary>show all ({payload.length} characters)</summary>
            <pre>{payload}</pre>
          </details>
        </>
      )}
      <h2>Error</h2>
      <p>
        <b>{f.dlq_error_class}</b>: {f.dlq_error_message}
      </p>
      <pre class="small">{f.dlq_error_stack || '(no stack)'}</pre>
      <h2>Ledger</h2>
      {inspection.ledger.checked ? (
        <table class="ledger">
          <thead>
            <tr>
              <th>group</th>
              <th>state</th>
              <th>processed at</th>
              <th>result</th>
            </tr>
          </thead>
          <tbody>
            {inspection.ledger.groups.map((g) => (
              <tr data-group={g.group}>
                <td>{g.group}</td>
                <td class="ledger-state">{g.applied ? 'applied' : 'not applied'}</td>
                <td>{g.processedAt ?? '-'}</td>
                <td>{g.result ?? '-'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="notice">
          Ledger not checked: {inspection.ledger.reason} (groups{' '}
          {inspection.ledger.groups.join(', ') || 'none'}).
        </p>
      )}
      <h2>Audit trail</h2>
      {props.trail.length === 0 ? (
        <p class="muted">Nothing recorded yet.</p>
      ) : (
        <table class="audit">
          <thead>
            <tr>
              <th>at</th>
              <th>action</th>
              <th>actor</th>
              <th>note</th>
              <th>new stream id</th>
            </tr>
          </thead>
          <tbody>
            {props.trail.map((line) => (
              <tr>
                <td>{line.fields.at}</td>
                <td>
                  {line.fields.action}
                  {line.fields.forced === 'true' ? ' (forced)' : ''}
                </td>
                <td class="actor">{line.fields.actor}</td>
                <td>{line.fields.note}</td>
                <td>{line.fields.new_stream_id ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
};

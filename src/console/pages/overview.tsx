// Overview: the runbook's Daily Checks at a glance: every registered service's health with its
// reasons, the outbox backlog, what each group owes, the streams and dead-letter streams, events/s.
import type { GroupView, OutboxView, StreamView } from '../data/pipeline.ts';
import { type Probe, reasonsOf } from '../data/probe.ts';
import type { Sample } from '../data/samples.ts';
import { RateChart } from './chart.tsx';
import { ago, Status, seconds } from './layout.tsx';

export type OverviewData = {
  readonly nowMs: number;
  readonly probes: readonly Probe[];
  readonly outbox: OutboxView | null;
  readonly streams: readonly StreamView[];
  readonly groups: readonly GroupView[];
  readonly samples: readonly Sample[];
  readonly windowMs: number;
};

export const ServiceGrid = ({ probes, nowMs }: { probes: readonly Probe[]; nowMs: number }) =>
  probes.length === 0 ? (
    <p class="notice">No service has announced itself yet. Services register within 5 s of listening.</p>
  ) : (
    <div class="grid">
      {probes.map((probe) => (
        <div
          class="card service"
          data-role={probe.record.role}
          data-name={probe.record.name}
          data-status={probe.silent ? 'silent' : probe.status}
        >
          <h3>
            {probe.record.role} <Status status={probe.silent ? 'silent' : probe.status} />
          </h3>
          <div class="small">
            <a href={`${probe.record.url}/health/detailed`}>{probe.record.url}</a>
          </div>
          <div class="small muted">
            {probe.record.name} · v{probe.record.version} · up since {ago(probe.record.startedAt, nowMs)} ·
            seen {ago(probe.record.lastSeenAt, nowMs)}
          </div>
          <ul class="small">
            {reasonsOf(probe).map((reason) => (
              <li>{reason}</li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );

export const StreamsTable = ({ streams }: { streams: readonly StreamView[] }) => (
  <table>
    <thead>
      <tr>
        <th>stream</th>
        <th>kind</th>
        <th class="num">entries</th>
        <th class="num">open dead letters</th>
      </tr>
    </thead>
    <tbody>
      {streams.map((s) => (
        <tr data-stream={s.name}>
          <td>
            {s.kind === 'dlq' ? (
              <a href={`/dead-letters?stream=${encodeURIComponent(s.name)}`}>{s.name}</a>
            ) : (
              s.name
            )}
          </td>
          <td>{s.kind === 'dlq' ? 'dead letters' : 'topic'}</td>
          <td class="num">{s.length}</td>
          <td class="num open-backlog">{s.kind === 'dlq' ? s.length : ''}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

export const GroupsTable = ({ groups }: { groups: readonly GroupView[] }) =>
  groups.length === 0 ? (
    <p class="muted">No consumer group reads these streams yet.</p>
  ) : (
    <table>
      <thead>
        <tr>
          <th>stream</th>
          <th>group</th>
          <th class="num">lag</th>
          <th class="num">pending</th>
          <th class="num">not yet delivered</th>
          <th class="num">consumers</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr>
            <td>{g.stream}</td>
            <td>{g.group}</td>
            <td class="num">{seconds(g.lagSeconds)}</td>
            <td class="num">{g.pending}</td>
            <td class="num">{g.undelivered ?? '?'}</td>
            <td class="num">{g.consumers}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );

export const OverviewPage = ({ data }: { data: OverviewData }) => {
  const healthy = data.probes.filter((p) => p.status === 'healthy' && !p.silent).length;
  const open = data.streams.filter((s) => s.kind === 'dlq').reduce((sum, s) => sum + s.length, 0);
  return (
    <>
      <h1>Overview</h1>
      <div class="figures">
        <div class="figure">
          <b id="healthy-count">
            {healthy} of {data.probes.length}
          </b>
          services healthy
        </div>
        <div class="figure">
          <b>{data.outbox ? data.outbox.count : '?'}</b>
          outbox backlog
          {data.outbox?.oldestAgeSeconds ? `, oldest ${seconds(data.outbox.oldestAgeSeconds)}` : ''}
        </div>
        <div class="figure">
          <b>{open}</b>
          open dead letters
        </div>
      </div>
      <h2>Services</h2>
      <ServiceGrid probes={data.probes} nowMs={data.nowMs} />
      <h2>Events per second</h2>
      <RateChart samples={data.samples} nowMs={data.nowMs} windowMs={data.windowMs} />
      <h2>Consumer groups</h2>
      <GroupsTable groups={data.groups} />
      <h2>Streams</h2>
      <StreamsTable streams={data.streams} />
    </>
  );
};

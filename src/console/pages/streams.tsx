// Streams and groups: each topic's partition, its groups with owner, pending and lag, and the
// consumers: live (announced) or stale (holding pending entries, not announced any more).
import type { GroupView, StreamView } from '../data/pipeline.ts';
import type { Probe } from '../data/probe.ts';
import { seconds } from './layout.tsx';

export type StreamsData = {
  readonly streams: readonly StreamView[];
  readonly groups: readonly GroupView[];
  readonly probes: readonly Probe[];
  readonly parked: string;
};

export const StreamsPage = ({ data }: { data: StreamsData }) => {
  const live = new Set(
    data.probes.filter((p) => p.record.role === 'consumer' && !p.silent).map((p) => p.record.name),
  );
  return (
    <>
      <h1>Streams &amp; groups</h1>
      {data.streams
        .filter((s) => s.kind === 'topic')
        .map((stream) => {
          const groups = data.groups.filter((g) => g.stream === stream.name);
          return (
            <section>
              <h2>
                {stream.name} <span class="muted small">1 partition, {stream.length} entries</span>
              </h2>
              <table>
                <thead>
                  <tr>
                    <th>group</th>
                    <th class="num">lag</th>
                    <th class="num">pending</th>
                    <th class="num">not yet delivered</th>
                    <th>last delivered</th>
                    <th>consumers</th>
                  </tr>
                </thead>
                <tbody>
                  {groups.map((g) => (
                    <tr>
                      <td>{g.group}</td>
                      <td class="num">{seconds(g.lagSeconds)}</td>
                      <td class="num">{g.pending}</td>
                      <td class="num">{g.undelivered ?? '?'}</td>
                      <td class="small">{g.lastDeliveredId}</td>
                      <td class="small">
                        {[...new Set([...live, ...Object.keys(g.pendingByConsumer)])].map((name) => (
                          <div>
                            {name}{' '}
                            {live.has(name) ? (
                              <span class="status healthy">live</span>
                            ) : (
                              <span class="status silent">stale</span>
                            )}{' '}
                            {g.pendingByConsumer[name] ? `${g.pendingByConsumer[name]} pending` : ''}
                          </div>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          );
        })}
      <p class="muted small">Parked aggregates: {data.parked}</p>
    </>
  );
};

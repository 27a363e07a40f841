// Streams and groups: each topic with its partitions, the relay that feeds each one and, per group,
// the consumer that owns it, its pending entries and lag; the consumers: live (announced) or stale
// (holding pending entries, not announced any more).
import { partitionOwners } from '../data/owners.ts';
import type { GroupView, StreamView } from '../data/pipeline.ts';
import type { Probe } from '../data/probe.ts';
import { seconds } from './layout.tsx';

export type StreamsData = {
  readonly streams: readonly StreamView[];
  readonly groups: readonly GroupView[];
  readonly probes: readonly Probe[];
  readonly parked: string;
};

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const StreamsPage = ({ data }: { data: StreamsData }) => {
  const live = new Set(
    data.probes.filter((p) => p.record.role === 'consumer' && !p.silent).map((p) => p.record.name),
  );
  const owners = partitionOwners(data.probes);
  const topics = [...new Set(data.streams.filter((s) => s.kind === 'topic').map((s) => s.topic))];
  return (
    <>
      <h1>Streams &amp; groups</h1>
      {topics.map((topic) => {
        const partitions = data.streams.filter((s) => s.kind === 'topic' && s.topic === topic);
        const entries = partitions.reduce((sum, s) => sum + s.length, 0);
        return (
          <section>
            <h2>
              {topic}{' '}
              <span class="muted small">
                {plural(partitions.length, 'partition')}, {entries === 1 ? '1 entry' : `${entries} entries`}
              </span>
            </h2>
            <table class="partitions">
              <thead>
                <tr>
                  <th>stream</th>
                  <th>relay</th>
                  <th>group</th>
                  <th>owner</th>
                  <th class="num">lag</th>
                  <th class="num">pending</th>
                  <th class="num">not yet delivered</th>
                  <th>last delivered</th>
                  <th>consumers</th>
                </tr>
              </thead>
              <tbody>
                {partitions.flatMap((stream) => {
                  const relay = owners.relay(stream.partition ?? 0) ?? '—';
                  const groups = data.groups.filter((g) => g.stream === stream.name);
                  if (groups.length === 0) {
                    return [
                      <tr data-stream={stream.name}>
                        <td>{stream.name}</td>
                        <td class="small relay">{relay}</td>
                        <td colspan={7} class="muted small">
                          no consumer group reads it yet
                        </td>
                      </tr>,
                    ];
                  }
                  return groups.map((g) => (
                    <tr data-stream={stream.name} data-group={g.group}>
                      <td>{stream.name}</td>
                      <td class="small relay">{relay}</td>
                      <td>{g.group}</td>
                      <td class="small owner">{owners.consumer(g.group, stream.name) ?? '—'}</td>
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
                  ));
                })}
              </tbody>
            </table>
          </section>
        );
      })}
      <p class="muted small">Parked aggregates: {data.parked}</p>
    </>
  );
};

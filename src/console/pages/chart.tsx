// Events per second over the last hour as inline SVG, drawn on the server: the first response holds
// the chart, no chart library is shipped, and a refresh of <main> redraws it (see the README).
import type { Sample } from '../data/samples.ts';

const W = 600;
const H = 120;

const points = (
  samples: readonly Sample[],
  pick: (s: Sample) => number,
  fromMs: number,
  spanMs: number,
  max: number,
) =>
  samples
    .map(
      (s) => `${(((s.at - fromMs) / spanMs) * W).toFixed(1)},${(H - (pick(s) / max) * (H - 10)).toFixed(1)}`,
    )
    .join(' ');

export const RateChart = (props: { samples: readonly Sample[]; nowMs: number; windowMs: number }) => {
  const fromMs = props.nowMs - props.windowMs;
  const max = Math.max(1, ...props.samples.map((s) => Math.max(s.published, s.applied)));
  const last = props.samples[props.samples.length - 1];
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="events per second, last hour"
      >
        <polyline
          fill="none"
          stroke="#0b5cad"
          stroke-width="2"
          points={points(props.samples, (s) => s.published, fromMs, props.windowMs, max)}
        />
        <polyline
          fill="none"
          stroke="#1a7f37"
          stroke-width="2"
          points={points(props.samples, (s) => s.applied, fromMs, props.windowMs, max)}
        />
      </svg>
      <figcaption class="legend small">
        <span class="pub">— published {last ? `${last.published}/s` : '-'}</span>
        <span class="app">— applied {last ? `${last.applied}/s` : '-'}</span>
        <span class="muted">
          last hour, {props.samples.length} samples every 5 s; peak {max}/s
        </span>
      </figcaption>
    </figure>
  );
};

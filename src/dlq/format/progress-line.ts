// The progress bar of a bulk run, redrawn in place on stderr at most ten times a second.

import type { DlqContext } from '../io.ts';
import { renderProgress } from './progress.ts';

export type ProgressLine = { draw(done: number): void; end(done: number): void };

export const createProgressLine = (ctx: DlqContext, label: string, total: number): ProgressLine => {
  const started = ctx.clock.now();
  let drawnAt = Number.NEGATIVE_INFINITY;
  let drawnLength = 0;
  const paint = (done: number): void => {
    drawnAt = ctx.clock.now();
    const line = renderProgress({ done, total, elapsedMs: drawnAt - started, label }, ctx.io.columns);
    // Spaces, not an erase-line escape, wipe what a longer previous line left behind.
    ctx.io.err(`\r${line.padEnd(drawnLength)}`);
    drawnLength = line.length;
  };
  paint(0);
  return {
    draw: (done) => {
      if (ctx.clock.now() - drawnAt >= 100) paint(done);
    },
    end: (done) => {
      paint(done);
      ctx.io.err('\n');
    },
  };
};

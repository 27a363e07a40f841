// A one-line progress bar for bulk operations; drawn only on a terminal (the caller decides).
import { formatElapsed } from './age.ts';

export type ProgressState = {
  readonly done: number;
  readonly total: number;
  readonly elapsedMs: number;
  readonly label: string;
};

/** `reprocess [██████░░░░░░] 400/1000 40% 201/s 2.0 s`, cut to the width. */
export const renderProgress = (state: ProgressState, width: number): string => {
  const fraction = state.total === 0 ? 1 : Math.min(1, state.done / state.total);
  const rate = state.elapsedMs > 0 ? Math.round((state.done * 1000) / state.elapsedMs) : 0;
  const tail = ` ${state.done}/${state.total} ${Math.floor(fraction * 100)}% ${rate}/s ${formatElapsed(state.elapsedMs)}`;
  const barWidth = Math.max(10, Math.min(40, width - state.label.length - tail.length - 4));
  const filled = Math.round(fraction * barWidth);
  const line = `${state.label} [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]${tail}`;
  return line.slice(0, Math.max(0, width - 1));
};

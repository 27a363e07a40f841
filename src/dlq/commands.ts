// The mm-dlq commands: each checks its options at once (usage errors before any connection) and
// returns the runner that needs the ports.
import { runReprocess, runResolve } from './commands/close-commands.ts';
import { runInspect } from './commands/inspect.ts';
import { runList } from './commands/list.ts';
import { runPurge } from './commands/purge.ts';
import { runReport } from './commands/report.ts';
import type { DlqContext } from './io.ts';
import {
  inspectOptions,
  listOptions,
  purgeOptions,
  reportOptions,
  reprocessOptions,
  resolveOptions,
} from './options.ts';
import type { DlqFlags } from './settings.ts';

export const DlqCommands = ['list', 'inspect', 'reprocess', 'resolve', 'report', 'purge'] as const;
export type DlqCommand = (typeof DlqCommands)[number];

export type DlqRunner = (ctx: DlqContext) => Promise<number>;

export const prepareDlqCommand = (command: DlqCommand, flags: DlqFlags): DlqRunner => {
  switch (command) {
    case 'list': {
      const options = listOptions(flags);
      return (ctx) => runList(ctx, options);
    }
    case 'inspect': {
      const options = inspectOptions(flags);
      return (ctx) => runInspect(ctx, options);
    }
    case 'reprocess': {
      const options = reprocessOptions(flags);
      return (ctx) => runReprocess(ctx, options);
    }
    case 'resolve': {
      const options = resolveOptions(flags);
      return (ctx) => runResolve(ctx, options);
    }
    case 'report': {
      const options = reportOptions(flags);
      return (ctx) => runReport(ctx, options);
    }
    case 'purge': {
      const options = purgeOptions(flags);
      return (ctx) => runPurge(ctx, options);
    }
  }
};

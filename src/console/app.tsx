// The console's routes: assets and sign-in open, everything else behind a session; reads for every
// role, actions (POST, with CSRF) for operators only, each through mm-dlq's commands and audited
// with the signed-in name.
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { StreamFields } from '../core/envelope.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { coerceError, NotFoundError } from '../core/errors.ts';
import { streamIdTime } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { dryRunReprocess } from '../dlq/commands/dry-run.ts';
import { inspect } from '../dlq/commands/inspect.ts';
import { dlqStream } from '../dlq/model/names.ts';
import type { Place } from '../dlq/model/place.ts';
import { scanEntries } from '../dlq/model/scan.ts';
import { problemFromError, statusFor } from '../http/problem.ts';
import type { Bus } from '../ports/bus.ts';
import type { ServiceRegistry } from '../ports/service-registry.ts';
import type { Store } from '../ports/store.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './assets/assets.ts';
import {
  type ConsoleEnv,
  type Guard,
  mountSignIn,
  requireCsrf,
  requireOperator,
  requireSession,
  signOut,
} from './auth/guard.ts';
import {
  closeFromConsole,
  dryRunOne,
  exportCase,
  groupEntries,
  type Jobs,
  type OpenCaseFile,
} from './data/actions.ts';
import { dlqContext, filteredReport, openDeadLetters, type PageFilter } from './data/dead-letters.ts';
import { groupViews, outboxView, streamViews } from './data/pipeline.ts';
import type { Sampler } from './data/sampler.ts';
import { readSamples, WINDOW_MS } from './data/samples.ts';
import { ConfirmPage, JobPage, MessagePage } from './pages/actions.tsx';
import { type AuditLine, DeadLetterPage, DeadLettersPage, groupLink } from './pages/dead-letters.tsx';
import { Layout, type Viewer } from './pages/layout.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { StreamsPage } from './pages/streams.tsx';

export type ConsoleAppDeps = {
  readonly bus: Bus;
  readonly store: Store | undefined;
  readonly registry: ServiceRegistry;
  readonly logger: Logger;
  readonly sampler: Sampler;
  readonly jobs: Jobs;
  readonly guard: Guard;
  readonly topics: readonly string[];
  readonly openCaseFile: OpenCaseFile;
  readonly now: () => number;
  readonly reprocessRate: number;
  /** Where the dead letters are, as mm-dlq names it in its messages. */
  readonly place: Place;
};

const REFRESH_MS = 5_000;
const LIST_LIMIT = 200;

const viewerOf = (c: Context<ConsoleEnv>): Viewer => {
  const { user, role, csrf } = c.get('session');
  return { user, role, csrf };
};

/** The whole page, or only its <main> when the refresh script asks. */
const page = (c: Context<ConsoleEnv>, title: string, active: string, content: Child, refreshMs?: number) => {
  c.header('cache-control', 'no-store');
  if (c.req.header('x-console-fragment') === '1') {
    c.header('x-console-fragment', '1');
    // biome-ignore lint/complexity/noUselessFragments: the fragment turns any Child into one HTML node
    return c.html(<>{content}</>);
  }
  return c.html(
    <Layout
      title={title}
      viewer={viewerOf(c)}
      active={active}
      {...(refreshMs === undefined ? {} : { refreshMs })}
    >
      {content}
    </Layout>,
  );
};

const filterOf = (c: Context): PageFilter => {
  const text = (name: string): string | undefined => {
    const value = c.req.query(name)?.trim();
    return value ? value : undefined;
  };
  const hours = Number(c.req.query('hours'));
  return {
    ...(text('type') ? { eventType: text('type') as string } : {}),
    ...(text('stage') ? { stage: text('stage') as string } : {}),
    ...(text('group') ? { group: text('group') as string } : {}),
    ...(text('fingerprint') ? { fingerprint: text('fingerprint') as string } : {}),
    hours: Number.isFinite(hours) && hours >= 1 ? Math.min(hours, 24 * 90) : 24 * 7,
  };
};

/** Every audit record of one dead letter, exports included, oldest first. */
const auditTrail = async (bus: Bus, audit: string, id: string): Promise<AuditLine[]> => {
  const lines: AuditLine[] = [];
  const start = `${Math.max(0, streamIdTime(id) - 86_400_000)}-0`;
  for await (const entry of scanEntries(bus, audit, { start, pageSize: 1000 }))
    if (entry.fields.dlq_id === id) lines.push({ id: entry.id, fields: entry.fields as StreamFields });
  return lines;
};

export const createConsoleApp = (deps: ConsoleAppDeps): Hono<ConsoleEnv> => {
  const app = new Hono<ConsoleEnv>();
  const dlqNames = deps.topics.map(dlqStreamOf);
  const known = (name: string) => {
    if (!dlqNames.includes(name))
      throw new NotFoundError(`no dead-letter stream ${name} here (topics: ${deps.topics.join(', ')})`);
    return dlqStream(name);
  };
  const ctxFor = (c: Context<ConsoleEnv>) => dlqContext(deps, c.get('session').user);

  app.get('/assets/console.css', (c) =>
    c.body(CONSOLE_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=3600' }),
  );
  app.get('/assets/console.js', (c) =>
    c.body(CONSOLE_JS, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'max-age=3600',
    }),
  );
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/health', (c) => c.json({ status: 'healthy', service: 'console' }));
  mountSignIn(app, deps.guard);
  app.use('*', requireSession(deps.guard));
  app.use('*', requireCsrf);
  signOut(app, deps.guard);

  app.get('/', async (c) => {
    const nowMs = deps.now();
    const probes = await deps.sampler.probes();
    const [outbox, streams, groups, samples] = await Promise.all([
      outboxView(deps.store, probes).catch(() => null),
      streamViews(deps.bus, deps.topics),
      groupViews(deps.bus, deps.topics, nowMs),
      readSamples(deps.bus, nowMs - WINDOW_MS),
    ]);
    return page(
      c,
      'Overview',
      '/',
      <OverviewPage data={{ nowMs, probes, outbox, streams, groups, samples, windowMs: WINDOW_MS }} />,
      REFRESH_MS,
    );
  });

  app.get('/streams', async (c) => {
    const nowMs = deps.now();
    const [probes, streams, groups] = await Promise.all([
      deps.sampler.probes(),
      streamViews(deps.bus, deps.topics),
      groupViews(deps.bus, deps.topics, nowMs),
    ]);
    // Events parked behind an earlier failure of their aggregate, per group (needs the database).
    const parked = deps.store
      ? (
          await Promise.all(
            [...new Set(groups.map((g) => g.group))].map(async (group) => {
              const count = await deps.store?.parking.count(group).catch(() => undefined);
              return `${group} ${count ?? '?'}`;
            }),
          )
        ).join(', ') || 'no groups'
      : 'not checked (no --database-url)';
    return page(
      c,
      'Streams & groups',
      '/streams',
      <StreamsPage data={{ streams, groups, probes, parked }} />,
      REFRESH_MS,
    );
  });

  app.get('/dead-letters', async (c) => {
    const stream = known(c.req.query('stream') ?? dlqNames[0] ?? 'identity.dlq');
    const filter = filterOf(c);
    const ctx = ctxFor(c);
    const [report, entries] = await Promise.all([
      filteredReport(ctx, stream, filter),
      openDeadLetters(ctx, stream.name, filter, LIST_LIMIT),
    ]);
    return page(
      c,
      'Dead letters',
      '/dead-letters',
      <DeadLettersPage
        streams={dlqNames}
        stream={stream.name}
        filter={filter}
        report={report}
        entries={entries}
        nowMs={deps.now()}
        viewer={viewerOf(c)}
      />,
      REFRESH_MS,
    );
  });

  app.get('/dead-letters/:stream/group/:fingerprint/reprocess', requireOperator, async (c) => {
    const dlq = known(c.req.param('stream'));
    const fingerprint = c.req.param('fingerprint');
    const ctx = ctxFor(c);
    const run = await dryRunReprocess(ctx, dlq, await groupEntries(ctx, dlq, fingerprint));
    return page(
      c,
      'Reprocess a group',
      '/dead-letters',
      <ConfirmPage
        title={`Reprocess every open dead letter with fingerprint ${fingerprint}`}
        explain={`Each is published again to its origin stream and closed, at most ${deps.reprocessRate} per second; the ledger skips what a group already applied.`}
        run={run}
        action={groupLink(dlq.name, fingerprint, '/reprocess')}
        button={`Reprocess ${run.selected}`}
        cancel={`/dead-letters?stream=${encodeURIComponent(dlq.name)}`}
        viewer={viewerOf(c)}
      />,
    );
  });

  app.post('/dead-letters/:stream/group/:fingerprint/reprocess', requireOperator, async (c) => {
    const dlq = known(c.req.param('stream'));
    const fingerprint = c.req.param('fingerprint');
    const ctx = ctxFor(c);
    const note = String((await c.req.parseBody()).note ?? '');
    const job = deps.jobs.start(ctx, dlq, fingerprint, await groupEntries(ctx, dlq, fingerprint), note);
    deps.logger.info(
      `console: ${ctx.actor} started reprocessing ${job.total} dead letters of fingerprint ${fingerprint} in ${dlq.name}`,
    );
    return c.redirect(`/jobs/${job.id}`, 303);
  });

  app.get('/jobs/:id', (c) => {
    const job = deps.jobs.get(c.req.param('id'));
    if (!job) return c.notFound();
    return page(
      c,
      'Reprocessing',
      '/dead-letters',
      <JobPage job={job} />,
      job.state === 'running' ? 1_000 : undefined,
    );
  });

  app.get('/dead-letters/:stream/:id', async (c) => {
    const dlq = known(c.req.param('stream'));
    const id = c.req.param('id');
    const ctx = ctxFor(c);
    const [inspection, trail] = await Promise.all([
      inspect(ctx, { dlq, id: { kind: 'entry', id }, json: false, full: true }),
      auditTrail(deps.bus, dlq.audit, id),
    ]);
    return page(
      c,
      `Dead letter ${id}`,
      '/dead-letters',
      <DeadLetterPage inspection={inspection} trail={trail} viewer={viewerOf(c)} nowMs={deps.now()} />,
    );
  });

  for (const action of ['reprocess', 'resolve'] as const) {
    const past = action === 'reprocess' ? 'reprocessed' : 'resolved';
    app.get(`/dead-letters/:stream/:id/${action}`, requireOperator, async (c) => {
      const dlq = known(c.req.param('stream'));
      const id = c.req.param('id');
      const back = `/dead-letters/${encodeURIComponent(dlq.name)}/${encodeURIComponent(id)}`;
      const run = action === 'reprocess' ? await dryRunOne(ctxFor(c), dlq, id) : undefined;
      return page(
        c,
        action === 'reprocess' ? 'Reprocess' : 'Resolve',
        '/dead-letters',
        <ConfirmPage
          title={`${action === 'reprocess' ? 'Reprocess' : 'Resolve'} dead letter ${id}`}
          explain={
            action === 'reprocess'
              ? 'The event is published again to its origin stream and the dead letter is closed.'
              : 'The dead letter is closed without publishing anything; say why in the note.'
          }
          run={run}
          action={`${back}/${action}`}
          button={action === 'reprocess' ? 'Reprocess' : 'Resolve'}
          cancel={back}
          viewer={viewerOf(c)}
          noteRequired={action === 'resolve'}
        />,
      );
    });
    app.post(`/dead-letters/:stream/:id/${action}`, requireOperator, async (c) => {
      const dlq = known(c.req.param('stream'));
      const id = c.req.param('id');
      const note = String((await c.req.parseBody()).note ?? '').trim();
      const ctx = ctxFor(c);
      const outcome = await closeFromConsole(ctx, dlq, id, past, note);
      deps.logger.info(`console: ${ctx.actor} ${past} ${id} in ${dlq.name} (${outcome.outcome})`);
      const back = `/dead-letters/${encodeURIComponent(dlq.name)}/${encodeURIComponent(id)}`;
      return page(
        c,
        'Done',
        '/dead-letters',
        <MessagePage
          title={outcome.outcome === 'done' ? `${id} ${past}` : `${id} was already closed`}
          back={back}
        >
          {outcome.outcome === 'done'
            ? past === 'reprocessed'
              ? `Published to ${outcome.republished?.stream} as ${outcome.newStreamId}; the audit record names ${ctx.actor}.`
              : `Closed; the audit record names ${ctx.actor}.`
            : `Nothing was written: ${outcome.previously ? `${outcome.previously.action} by ${outcome.previously.actor} at ${outcome.previously.at}` : 'closed before'}.`}
        </MessagePage>,
      );
    });
  }

  app.post('/dead-letters/:stream/:id/export', requireOperator, async (c) => {
    const dlq = known(c.req.param('stream'));
    const id = c.req.param('id');
    const ctx = ctxFor(c);
    const bytes = await exportCase(ctx, dlq, id, deps.openCaseFile);
    deps.logger.info(`console: ${ctx.actor} exported ${id} from ${dlq.name}`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/vnd.sqlite3',
      'content-disposition': `attachment; filename="${dlq.name}-${id}.db"`,
    });
  });

  app.notFound((c) => c.text(`No page ${c.req.path}`, 404));
  app.onError((thrown, c) => {
    const error = coerceError(thrown);
    if (statusFor(thrown) === 500)
      deps.logger.error(`console: ${c.req.method} ${c.req.path} failed: ${error.message}`, { error });
    return problemFromError(c, thrown);
  });
  return app;
};

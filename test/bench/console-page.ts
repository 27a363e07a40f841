// The console's overview in a real headless Chromium: bytes transferred (every response of a cold
// load) and first contentful paint, beside a static page of the same bytes served by the same
// process. The console runs in this process (createConsole, as `mm-backend console` builds it) so the
// bench can add one route before it starts: /bench/static answers the overview's own HTML, saved from
// an earlier load, with no data read and no rendering. Nothing in the shipped console changes for the
// bench. Relay and consumer run as processes and have carried events, so the page shows real data.
import { Redis } from 'ioredis';
import type { Browser, BrowserContext } from 'playwright-core';
import { createRedisBus } from '../../src/adapters/redis/bus.ts';
import { createRedisServiceRegistry } from '../../src/adapters/redis/service-registry.ts';
import { createConsole } from '../../src/console/console.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { redisPlace } from '../../src/dlq/model/place.ts';
import { launchChromium } from '../helpers/browser.ts';
import { eventually } from '../helpers/eventually.ts';
import { freePort } from '../helpers/free-port.ts';
import { GROUP } from './carriers.ts';
import { ledgerSummary } from './ledger.ts';
import { produceFlat, storeInsert } from './producer.ts';
import { startService, stopAll } from './services.ts';
import type { Production } from './setups.ts';
import { median } from './stats.ts';

/** Cold loads of each page; their median first paint is the figure (alternated, so both see the same machine). */
const LOADS = 5;

/** Painted by the time `load` fired on any page with text; polled in case it was not yet. */
const FIRST_PAINT = `new Promise((resolve) => {
  const poll = () => {
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    if (paint) resolve(paint.startTime);
    else setTimeout(poll, 10);
  };
  poll();
})`;

type Load = { readonly bytes: number; readonly firstPaintMs: number };

/** A cold load (fresh context, empty cache) of `url` signed in as `state`. */
const coldLoad = async (
  browser: Browser,
  state: Awaited<ReturnType<BrowserContext['storageState']>>,
  url: string,
) => {
  const context = await browser.newContext({ storageState: state });
  try {
    const page = await context.newPage();
    let bytes = 0;
    const sized: Promise<void>[] = [];
    page.on('requestfinished', (request) => {
      sized.push(
        request.sizes().then((s) => {
          bytes += s.responseHeadersSize + s.responseBodySize;
        }),
      );
    });
    const response = await page.goto(url, { waitUntil: 'load' });
    if (response?.status() !== 200) throw new Error(`${url}: ${response?.status()}`);
    // A string, not a function: tsx would wrap a function's inner names in a helper the page lacks.
    const firstPaintMs = (await page.evaluate(FIRST_PAINT)) as number;
    await Promise.all(sized);
    return { bytes, firstPaintMs, html: (await response.text()) as string };
  } finally {
    await context.close();
  }
};

export const consoleOverview = async (setup: Production) => {
  const relay = await startService('mm-relay', setup.flags);
  const consumer = await startService('mm-consumer', setup.flags);
  const redis = new Redis(setup.redisUrl);
  let saved = '';
  const consolePart = createConsole(
    {
      bus: createRedisBus(redis, { keyPrefix: setup.keyPrefix }),
      store: setup.store,
      registry: createRedisServiceRegistry(redis, { keyPrefix: setup.keyPrefix }),
      logger: silentLogger,
      openCaseFile: () => Promise.reject(new Error('no exports in the bench')),
      place: redisPlace(setup.redisUrl, setup.keyPrefix),
    },
    {
      host: '127.0.0.1',
      port: await freePort(),
      topics: ['identity'],
      users: [],
      sessionTtlMs: 3_600_000,
      secureCookies: false,
      reprocessRate: 50,
      sampleIntervalMs: 1_000,
    },
  );
  // Added before the first request (Hono builds its router then); behind the session like the overview.
  consolePart.app.get('/bench/static', (c) => {
    c.header('cache-control', 'no-store');
    return c.html(saved);
  });
  let browser: Browser | undefined;
  try {
    await produceFlat(storeInsert(setup.store), 2_000);
    await eventually(async () => (await ledgerSummary(setup.store, GROUP)).rows >= 2_000, 60_000, {
      message: 'the pipeline carrying the events the overview shows',
    });
    const server = await consolePart.start();
    browser = await launchChromium();
    const signedIn = await browser.newContext();
    const page = await signedIn.newPage();
    await page.goto(server.signInUrl);
    // Both services probed and healthy, and a few samples for the charts.
    await eventually(
      async () => {
        await page.goto(`${server.url}/`);
        return (await page.locator('.service[data-status=healthy]').count()) === 2;
      },
      30_000,
      { intervalMs: 1_000, message: 'the overview showing relay and consumer healthy' },
    );
    const state = await signedIn.storageState();
    await signedIn.close();
    const overviews: Load[] = [];
    const statics: Load[] = [];
    for (let i = 0; i < LOADS; i += 1) {
      const overview = await coldLoad(browser, state, `${server.url}/`);
      overviews.push(overview);
      saved = overview.html;
      statics.push(await coldLoad(browser, state, `${server.url}/bench/static`));
    }
    return {
      overviewKb: median(overviews.map((l) => l.bytes)) / 1024,
      overviewFirstPaintMs: median(overviews.map((l) => l.firstPaintMs)),
      staticKb: median(statics.map((l) => l.bytes)) / 1024,
      staticFirstPaintMs: median(statics.map((l) => l.firstPaintMs)),
    };
  } finally {
    await browser?.close();
    await consolePart.stop();
    redis.disconnect();
    await stopAll([relay, consumer]);
  }
};

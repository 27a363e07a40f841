#!/usr/bin/env node
// mm-relay: publishes committed outbox rows to Redis Streams (or the local stream shim), at least once.
import { Command } from 'commander';
import { versionLine } from '../src/core/build-info.ts';
import { addCommonOptions, runCli, withUsageExits } from '../src/core/cli.ts';
import { createLogger } from '../src/core/logger.ts';
import { relayDefaults as d, loadRelayConfig, type RelayFlags } from '../src/relay/config.ts';

const program = withUsageExits(new Command('mm-relay'))
  .description('Moves committed outbox rows to their Redis stream, in order, at least once.')
  .version(versionLine('mm-relay'), '-V, --version');

addCommonOptions(program.command('run', { isDefault: true }), { port: d.port })
  .description('relay the outbox to the streams and serve health and metrics (default)')
  .option(
    '--topics <list>',
    `topics whose metrics and streams are reported (env MM_TOPICS, default ${d.topics})`,
  )
  .option('--batch-size <n>', `rows claimed per batch (env MM_RELAY_BATCH_SIZE, default ${d.batchSize})`)
  .option(
    '--batches-per-commit <n>',
    `batches per drain transaction, the next claimed while one publishes (env MM_RELAY_BATCHES_PER_COMMIT, default ${d.batchesPerCommit})`,
  )
  .option(
    '--poll-interval-ms <ms>',
    `poll the outbox this often besides notifications (env MM_RELAY_POLL_INTERVAL_MS, default ${d.pollIntervalMs})`,
  )
  .option(
    '--max-attempts <n>',
    `failures of its own before an event goes to <topic>.dlq (env MM_RELAY_MAX_ATTEMPTS, default ${d.maxAttempts})`,
  )
  .option(
    '--max-event-bytes <n>',
    `largest stream entry published, field names and values (env MM_RELAY_MAX_EVENT_BYTES, default ${d.maxEventBytes})`,
  )
  .option(
    '--retry-backoff-ms <ms>',
    `first delay before retrying a failed event (env MM_RELAY_RETRY_BACKOFF_MS, default ${d.retryBackoffMs})`,
  )
  .option(
    '--retry-backoff-max-ms <ms>',
    `longest delay between retries of an event (env MM_RELAY_RETRY_BACKOFF_MAX_MS, default ${d.retryBackoffMaxMs})`,
  )
  .option(
    '--stream-maxlen <n>',
    `keep streams near this many entries, never trimming unacknowledged ones; 0 = no cap (env MM_RELAY_STREAM_MAXLEN, default ${d.streamMaxLen})`,
  )
  .option(
    '--stream-hard-max <n>',
    `hard cap that trims even unacknowledged entries (counted, logged); 0 = none (env MM_RELAY_STREAM_HARD_MAX, default ${d.streamHardMax})`,
  )
  .option(
    '--trim-interval-ms <ms>',
    `trim touched streams at most this often (env MM_RELAY_TRIM_INTERVAL_MS, default ${d.trimIntervalMs})`,
  )
  .option(
    '--backlog-warn <n>',
    `health is degraded above this many waiting rows (env MM_RELAY_BACKLOG_WARN, default ${d.backlogWarn})`,
  )
  .option(
    '--backlog-age-warn-s <s>',
    `health is degraded when the oldest row waits longer (env MM_RELAY_BACKLOG_AGE_WARN_S, default ${d.backlogAgeWarnS})`,
  )
  .option(
    '--shutdown-timeout-ms <ms>',
    `on SIGTERM/SIGINT, finish and exit within this time (env MM_RELAY_SHUTDOWN_TIMEOUT_MS, default ${d.shutdownTimeoutMs})`,
  )
  .action((flags: RelayFlags) =>
    runCli('mm-relay', async () => {
      const config = loadRelayConfig(flags, process.env);
      // Loaded when a command runs, so --help and --version start without the clients' modules.
      const [{ createMetricsRegistry }, { runRelay }, { connect, requireStore }] = await Promise.all([
        import('../src/core/metrics.ts'),
        import('../src/relay/run-relay.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const logger = createLogger({ level: config.logLevel, file: config.logFile });
      const ports = await connect(config.deployment, { logger, role: 'mm-relay', maxDbConnections: 4 });
      await runRelay(config, {
        ports: { ...ports, store: requireStore(ports) },
        logger,
        registry: createMetricsRegistry(),
      });
      return undefined;
    }),
  );

program.parse();

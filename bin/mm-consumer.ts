#!/usr/bin/env node
// mm-consumer: applies stream events exactly once per consumer group; replays a group's position.
import { hostname } from 'node:os';
import { Command } from 'commander';
import {
  type ConsumerFlags,
  loadConsumerConfig,
  loadReplayConfig,
  type ReplayFlags,
} from '../src/consumer/config.ts';
import { versionLine } from '../src/core/build-info.ts';
import { addCommonOptions, runCli, withUsageExits } from '../src/core/cli.ts';
import { createLogger } from '../src/core/logger.ts';

const program = withUsageExits(new Command('mm-consumer'))
  .description('Applies stream events exactly once per consumer group through the event ledger.')
  .version(versionLine('mm-consumer'), '-V, --version');

addCommonOptions(program.command('run', { isDefault: true }), { port: 8081 })
  .description('consume, apply and acknowledge events; serve health and metrics (default)')
  .option('--group <name>', 'consumer group (env MM_CONSUMER_GROUP, default markdown-lint-consumer)')
  .option('--topics <list>', 'comma-separated topics to consume (env MM_TOPICS, default identity)')
  .option('--name <name>', 'consumer name within the group (env MM_CONSUMER_NAME, default <host>-<pid>)')
  .option('--batch-size <n>', 'entries per read and per transaction (env MM_BATCH_SIZE, default 1000)')
  .option('--block-ms <ms>', 'how long a read waits for new entries (env MM_BLOCK_MS, default 2000)')
  .option(
    '--claim-idle-ms <ms>',
    'reclaim entries pending this long, e.g. from dead consumers (env MM_CLAIM_IDLE_MS, default 30000)',
  )
  .option(
    '--max-deliveries <n>',
    'deliveries before a failing event moves to <topic>.dlq (env MM_MAX_DELIVERIES, default 5)',
  )
  .option('--start-id <id>', 'where a new group starts: 0, $ or a stream id (env MM_START_ID, default 0)')
  .option('--lag-warn-s <s>', 'warn and report degraded above this lag (env MM_LAG_WARN_S, default 60)')
  .option(
    '--strict',
    'dead-letter events no handler takes instead of recording them as skipped (env MM_STRICT)',
  )
  .option('--handler <module>', 'JS module exporting handlers by event type (env MM_CONSUMER_HANDLER)')
  .action((flags: ConsumerFlags) =>
    runCli('mm-consumer', async () => {
      const config = loadConsumerConfig(flags, process.env, { hostname: hostname(), pid: process.pid });
      // Loaded when a command runs, so --help and --version start without the clients' modules.
      const [
        { createConsumerService },
        { loadHandlerModule },
        { builtinHandlersFor },
        { createMetricsRegistry },
        { runUntilSignal },
        { connect, requireStore },
      ] = await Promise.all([
        import('../src/consumer/consumer-service.ts'),
        import('../src/consumer/handler-module.ts'),
        import('../src/consumer/lint-profile-handler.ts'),
        import('../src/core/metrics.ts'),
        import('../src/core/serve-part.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const handlers = config.handlerModule
        ? await loadHandlerModule(config.handlerModule, process.cwd())
        : builtinHandlersFor(config.group);
      const logger = createLogger({ level: config.logLevel, file: config.logFile });
      const ports = await connect(config.deployment, { logger, role: 'mm-consumer', maxDbConnections: 4 });
      const service = createConsumerService(
        { store: requireStore(ports), bus: ports.bus, logger, registry: createMetricsRegistry(), handlers },
        config,
      );
      service.worker.finished.catch(() => {
        logger.close();
        process.exit(1);
      });
      await runUntilSignal(service, { logger, close: ports.close, name: 'mm-consumer' });
      return undefined;
    }),
  );

addCommonOptions(program.command('replay'), { http: false })
  .description('move a group back (or forward) so entries are delivered again; the ledger skips applied ones')
  .option('--group <name>', 'consumer group (default markdown-lint-consumer)')
  .option('--topic <topic>', 'stream to replay (default identity)')
  .requiredOption('--from <position>', 'stream id (inclusive), ISO time, start or end')
  .option('--dry-run', 'only print how many entries would be re-delivered')
  .action((flags: ReplayFlags) =>
    runCli('mm-consumer', async () => {
      const config = loadReplayConfig(flags, process.env);
      const [{ describeReplay, parseReplayFrom, runReplay }, { connect }] = await Promise.all([
        import('../src/consumer/replay.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const from = parseReplayFrom(config.from);
      const logger = createLogger({
        level: config.logLevel === 'info' ? 'warn' : config.logLevel,
        file: config.logFile,
      });
      const ports = await connect(config.deployment, {
        logger,
        role: 'mm-consumer-replay',
        maxDbConnections: 1,
      });
      try {
        const report = await runReplay(
          { bus: ports.bus, ledger: ports.store?.ledger },
          { group: config.group, topic: config.topic, from, dryRun: config.dryRun },
        );
        for (const line of describeReplay(report)) process.stdout.write(`${line}\n`);
      } finally {
        await ports.close();
      }
      return 0;
    }),
  );

program.parse();

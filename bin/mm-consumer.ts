#!/usr/bin/env node
// mm-consumer: applies stream events exactly once per consumer group; replays a group's position.
import { hostname } from 'node:os';
import { type Command, Command as Program } from 'commander';
import {
  consumerSettings,
  loadConsumerConfig,
  loadReplayConfig,
  replaySettings,
} from '../src/consumer/config.ts';
import { versionLine } from '../src/core/build-info.ts';
import { addSettings, createProgram, flagsOf, runCli } from '../src/core/cli.ts';
import { createLogger } from '../src/core/logger.ts';

const program = createProgram(new Program('mm-consumer'))
  .description('Applies stream events exactly once per consumer group through the event ledger.')
  .version(versionLine('mm-consumer'), '-V, --version');

addSettings(program.command('run', { isDefault: true }), consumerSettings)
  .description('consume, apply and acknowledge events; serve health and metrics (default)')
  .action((_options, command: Command) =>
    runCli('mm-consumer', async () => {
      const flags = flagsOf(command, consumerSettings);
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
      const logger = createLogger({ level: config.logLevel, file: config.logFile, service: 'consumer' });
      const ports = await connect(config.deployment, { logger, role: 'mm-consumer', maxDbConnections: 4 });
      const service = createConsumerService(
        { store: requireStore(ports), bus: ports.bus, logger, registry: createMetricsRegistry(), handlers },
        config,
      );
      service.worker.finished.catch(() => {
        logger.close();
        process.exit(1);
      });
      await runUntilSignal(service, {
        logger,
        close: ports.close,
        name: 'mm-consumer',
        announce: { registry: ports.registry, role: 'consumer', name: config.name, logger },
      });
      return undefined;
    }),
  );

addSettings(program.command('replay'), replaySettings)
  .description('move a group back (or forward) so entries are delivered again; the ledger skips applied ones')
  .action((_options, command: Command) =>
    runCli('mm-consumer', async () => {
      const config = loadReplayConfig(flagsOf(command, replaySettings), process.env);
      const [{ describeReplay, parseReplayFrom, runReplay }, { connect }] = await Promise.all([
        import('../src/consumer/replay.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const from = parseReplayFrom(config.from);
      const logger = createLogger({ level: config.logLevel, file: config.logFile, service: 'consumer' });
      const ports = await connect(config.deployment, {
        logger,
        role: 'mm-consumer-replay',
        maxDbConnections: 1,
      });
      try {
        const report = await runReplay(
          { bus: ports.bus, ledger: ports.store?.ledger },
          {
            group: config.group,
            topic: config.topic,
            from,
            dryRun: config.dryRun,
            includeDeadLetters: config.includeDeadLetters,
          },
        );
        for (const line of describeReplay(report)) process.stdout.write(`${line}\n`);
      } finally {
        await ports.close();
      }
      return 0;
    }),
  );

program.parse();

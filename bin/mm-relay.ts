#!/usr/bin/env node
// mm-relay: publishes committed outbox rows to Redis Streams (or the local stream shim), at least once.
import { type Command, Command as Program } from 'commander';
import { versionLine } from '../src/core/build-info.ts';
import { addSettings, createProgram, flagsOf, runCli } from '../src/core/cli.ts';
import { createLogger } from '../src/core/logger.ts';
import { loadRelayConfig, relaySettings } from '../src/relay/config.ts';

const program = createProgram(new Program('mm-relay'))
  .description('Moves committed outbox rows to their Redis stream, in order, at least once.')
  .version(versionLine('mm-relay'), '-V, --version');

addSettings(program.command('run', { isDefault: true }), relaySettings)
  .description('relay the outbox to the streams and serve health and metrics (default)')
  .action((_options, command: Command) =>
    runCli('mm-relay', async () => {
      const config = loadRelayConfig(flagsOf(command, relaySettings), process.env);
      // Loaded when a command runs, so --help and --version start without the clients' modules.
      const [{ createMetricsRegistry }, { runRelay }, { connect, requireStore }] = await Promise.all([
        import('../src/core/metrics.ts'),
        import('../src/relay/run-relay.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const logger = createLogger({ level: config.logLevel, file: config.logFile, service: 'relay' });
      const ports = await connect(config.deployment, { logger, role: 'mm-relay', maxDbConnections: 4 });
      await runRelay(config, {
        ports: { ...ports, store: requireStore(ports) },
        logger,
        registry: createMetricsRegistry(),
        announce: { registry: ports.registry, role: 'relay', logger },
      });
      return undefined;
    }),
  );

program.parse();

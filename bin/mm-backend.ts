#!/usr/bin/env node
// mm-backend: the application API (users + outbox), migrations, and the offline drills.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { type BackendFlags, loadBackendConfig } from '../src/backend/config.ts';
import { versionLine } from '../src/core/build-info.ts';
import { addCommonOptions, runCli, withUsageExits } from '../src/core/cli.ts';
import {
  type CommonFlags,
  commonDefaults,
  failOnProblems,
  requireDatabase,
  resolveCommon,
} from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import { type DrillFlags, loadDrillConfig } from '../src/drills/config.ts';
import { DrillNames } from '../src/drills/drill.ts';
import { loadStackConfig, type StackFlags, stackDefaults } from '../src/stack/config.ts';

const program = withUsageExits(new Command('mm-backend'))
  .description('The markdown manager application API: writes users and their events in one transaction.')
  .version(versionLine('mm-backend'), '-V, --version');

addCommonOptions(program.command('serve', { isDefault: true }), { port: 8000 })
  .description('serve the users API, health and metrics (default)')
  .option('--topics <list>', 'topics whose streams health reports on (env MM_TOPICS, default identity)')
  .action((flags: BackendFlags) =>
    runCli('mm-backend', async () => {
      const config = loadBackendConfig(flags, process.env);
      // Modules loaded when a command runs, so --help and --version start without the clients'.
      const [{ createBackend }, { createMetricsRegistry }, { runUntilSignal }, { connect, requireStore }] =
        await Promise.all([
          import('../src/backend/backend.ts'),
          import('../src/core/metrics.ts'),
          import('../src/core/serve-part.ts'),
          import('../src/wiring/connect.ts'),
        ]);
      const logger = createLogger({ level: config.logLevel, file: config.logFile });
      const ports = await connect(config.deployment, { logger, role: 'mm-backend' });
      const backend = createBackend(
        { store: requireStore(ports), bus: ports.bus, logger, registry: createMetricsRegistry() },
        config,
      );
      await runUntilSignal(backend, { logger, close: ports.close, name: 'mm-backend' });
      return undefined;
    }),
  );

addCommonOptions(program.command('migrate'), { http: false })
  .description('apply database migrations (idempotent; safe to run from several processes)')
  .action((flags: CommonFlags) =>
    runCli('mm-backend', async () => {
      const problems: string[] = [];
      const common = resolveCommon(flags, process.env, { port: 0 }, problems);
      requireDatabase(common.deployment, problems);
      failOnProblems(problems);
      const { connect, requireStore } = await import('../src/wiring/connect.ts');
      const logger = createLogger({ level: common.logLevel, file: common.logFile });
      const ports = await connect(common.deployment, { logger, role: 'mm-backend-migrate' });
      try {
        const report = await requireStore(ports).migrate();
        for (const name of report.applied) process.stdout.write(`applied ${name}\n`);
        process.stdout.write(
          `migrations: ${report.applied.length} applied, ${report.alreadyApplied.length} already applied\n`,
        );
      } finally {
        await ports.close();
      }
      return 0;
    }),
  );

program
  .command('stack')
  .description('run backend, relay and consumer in one process in local mode (what npm start runs)')
  .addOption(
    new Option(
      '--local [file]',
      `the SQLite file (env MM_LOCAL, default ${commonDefaults.localFile})`,
    ).preset(commonDefaults.localFile),
  )
  .option('--demo', 'also write sample users, one poison event and one failing-handler event')
  .option('--host <host>', `address to listen on (env MM_HOST, default ${commonDefaults.host})`)
  .option('--backend-port <port>', `backend port (env MM_BACKEND_PORT, default ${stackDefaults.backendPort})`)
  .option('--relay-port <port>', `relay port (env MM_RELAY_PORT, default ${stackDefaults.relayPort})`)
  .option(
    '--consumer-port <port>',
    `consumer port (env MM_CONSUMER_PORT, default ${stackDefaults.consumerPort})`,
  )
  .option('--log-level <level>', 'debug, info, warn or error (env MM_LOG_LEVEL, default info)')
  .option('--log-file <path>', 'also append JSON log lines to this file (env MM_LOG_FILE)')
  .action((flags: StackFlags) =>
    runCli('mm-backend', async () => {
      const config = loadStackConfig(flags, process.env);
      const [{ commandsFor }, { runStack }, { connect, requireStore }] = await Promise.all([
        import('../src/stack/banner.ts'),
        import('../src/stack/run-stack.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const logger = createLogger({ level: config.logLevel, file: config.logFile });
      const ports = await connect(config.deployment, { logger, role: 'mm-stack' });
      await runStack(config, {
        store: requireStore(ports),
        bus: ports.bus,
        close: ports.close,
        logger,
        out: (text) => void process.stdout.write(text),
        commands: commandsFor(process.argv[1], process.cwd()),
        consumerName: `${hostname()}-${process.pid}`,
      });
      return undefined;
    }),
  );

program
  .command('drill')
  .description(
    "run the runbook's recovery drills offline, in one process on a local file; exit 0 if all pass",
  )
  .argument('<name>', `${DrillNames.join(', ')} or all`)
  .addOption(new Option('--local [file]', 'the SQLite file (default: a fresh temporary file)'))
  .option('--log-file <path>', "also append the services' JSON log lines to this file")
  .action((name: string, flags: DrillFlags) =>
    runCli('mm-backend', async () => {
      const config = loadDrillConfig(name, flags, process.env, () =>
        join(mkdtempSync(join(tmpdir(), 'mm-drill-')), 'drill.db'),
      );
      const [{ runDrills }, { connect, requireStore }] = await Promise.all([
        import('../src/drills/run-drills.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const lines: string[] = [];
      const logger = createLogger({
        level: 'info',
        file: config.logFile,
        sink: (line) => void lines.push(line),
      });
      const busFault = { unavailable: false };
      const ports = await connect(config.deployment, { logger, role: 'mm-drill', faults: busFault });
      try {
        return await runDrills(config, {
          store: requireStore(ports),
          bus: ports.bus,
          busFault,
          logger,
          logLines: () => lines,
          out: (text) => void process.stdout.write(text),
        });
      } finally {
        await ports.close();
        logger.close();
        if (config.temporary) rmSync(dirname(config.file), { recursive: true, force: true });
      }
    }),
  );

program.parse();

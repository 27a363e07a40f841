#!/usr/bin/env node
// mm-backend: the application API (users + outbox), migrations, and the offline drills.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Command, Command as Program } from 'commander';
import {
  backendSettings,
  loadBackendConfig,
  loadMigrateConfig,
  migrateSettings,
} from '../src/backend/config.ts';
import {
  addUserSettings,
  consoleSettings,
  loadConsoleConfig,
  resolveAddUser,
} from '../src/console/config.ts';
import { versionLine } from '../src/core/build-info.ts';
import { addSettings, createProgram, flagsOf, runCli } from '../src/core/cli.ts';
import { localDeployment } from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import { filePlace, redisPlace } from '../src/dlq/model/place.ts';
import { drillSettings, loadDrillConfig } from '../src/drills/config.ts';
import { DrillNames } from '../src/drills/drill.ts';
import { loadStackConfig, stackSettings } from '../src/stack/config.ts';

const program = createProgram(new Program('mm-backend'))
  .description('The markdown manager application API: writes users and their events in one transaction.')
  .version(versionLine('mm-backend'), '-V, --version');

addSettings(program.command('serve', { isDefault: true }), backendSettings)
  .description('serve the users API, health and metrics (default)')
  .action((_options, command: Command) =>
    runCli('mm-backend', async () => {
      const config = loadBackendConfig(flagsOf(command, backendSettings), process.env);
      // Modules loaded when a command runs, so --help and --version start without the clients'.
      const [{ createBackend }, { createMetricsRegistry }, { runUntilSignal }, { connect, requireStore }] =
        await Promise.all([
          import('../src/backend/backend.ts'),
          import('../src/core/metrics.ts'),
          import('../src/core/serve-part.ts'),
          import('../src/wiring/connect.ts'),
        ]);
      const logger = createLogger({ level: config.logLevel, file: config.logFile, service: 'backend' });
      const ports = await connect(config.deployment, { logger, role: 'mm-backend' });
      const backend = createBackend(
        { store: requireStore(ports), bus: ports.bus, logger, registry: createMetricsRegistry() },
        config,
      );
      await runUntilSignal(backend, {
        logger,
        close: ports.close,
        name: 'mm-backend',
        announce: { registry: ports.registry, role: 'backend', logger },
      });
      return undefined;
    }),
  );

addSettings(program.command('migrate'), migrateSettings)
  .description('apply database migrations (idempotent; safe to run from several processes)')
  .action((_options, command: Command) =>
    runCli('mm-backend', async () => {
      const config = loadMigrateConfig(flagsOf(command, migrateSettings), process.env);
      const { connect, requireStore } = await import('../src/wiring/connect.ts');
      const logger = createLogger({ level: config.logLevel, file: config.logFile, service: 'migrate' });
      const ports = await connect(config.deployment, { logger, role: 'mm-backend-migrate' });
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

addSettings(program.command('stack'), stackSettings)
  .description('run backend, relay and consumer in one process in local mode (what npm start runs)')
  .action((_options, command: Command) =>
    runCli('mm-backend', async () => {
      const config = loadStackConfig(flagsOf(command, stackSettings), process.env);
      const [{ commandsFor }, { runStack }, { connect, requireStore }, { loadConsoleUsers }] =
        await Promise.all([
          import('../src/stack/banner.ts'),
          import('../src/stack/run-stack.ts'),
          import('../src/wiring/connect.ts'),
          import('../src/console/auth/users.ts'),
        ]);
      const consoleUsers = loadConsoleUsers(config.console.users);
      const logger = createLogger({ level: config.logLevel, file: config.logFile, service: 'stack' });
      const ports = await connect(config.deployment, { logger, role: 'mm-stack' });
      await runStack(config, {
        store: requireStore(ports),
        bus: ports.bus,
        registry: ports.registry,
        consoleUsers,
        openCaseFile: (file) =>
          connect(localDeployment(file, process.env), { logger, role: 'mm-console-export' }),
        close: ports.close,
        logger,
        out: (text) => void process.stdout.write(text),
        commands: commandsFor(process.argv[1], process.cwd()),
        consumerName: `${hostname()}-${process.pid}`,
      });
      return undefined;
    }),
  );

const consoleCommand = addSettings(program.command('console'), consoleSettings)
  .description(
    'serve the operations console (:8090): health, lag, streams, dead letters, actions; prints a sign-in URL',
  )
  .action((_options, command: Command) =>
    runCli('mm-backend', async () => {
      const config = loadConsoleConfig(flagsOf(command, consoleSettings), process.env);
      const [{ runConsole }, { loadConsoleUsers }, { connect }] = await Promise.all([
        import('../src/console/run-console.ts'),
        import('../src/console/auth/users.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const users = loadConsoleUsers(config.users);
      const logger = createLogger({ level: config.logLevel, file: config.logFile });
      const ports = await connect(config.deployment, { logger, role: 'mm-console', maxDbConnections: 2 });
      await runConsole(config, {
        ports,
        users,
        logger,
        openCaseFile: (file) =>
          connect(localDeployment(file, process.env), { logger, role: 'mm-console-export' }),
        place:
          config.deployment.kind === 'local'
            ? filePlace(resolve(config.deployment.file))
            : redisPlace(config.deployment.redisUrl, config.deployment.keyPrefix),
        out: (text) => void process.stdout.write(text),
      });
      return undefined;
    }),
  );

addSettings(consoleCommand.command('add-user'), addUserSettings)
  .description(
    'hash a sign-in token for a console user: prints the token once and the entry (or appends it to --file)',
  )
  .argument('<name>', 'the name the audit trail records')
  .action((name: string, _options, command: Command) =>
    runCli('mm-backend', async () => {
      const { addConsoleUser } = await import('../src/console/add-user.ts');
      const flags = flagsOf(command, addUserSettings);
      return addConsoleUser(
        name,
        resolveAddUser(flags, process.env),
        (text) => void process.stdout.write(text),
      );
    }),
  );

addSettings(program.command('drill'), drillSettings)
  .description(
    "run the runbook's recovery drills in one process, on a local file or on Postgres and Redis; exit 0 if all pass",
  )
  .argument('<name>', `${DrillNames.join(', ')} or all`)
  .action((name: string, _options, command: Command) =>
    runCli('mm-backend', async () => {
      const config = loadDrillConfig(name, flagsOf(command, drillSettings), process.env, () =>
        join(mkdtempSync(join(tmpdir(), 'mm-drill-')), 'drill.db'),
      );
      const [{ runDrills }, { connect, requireStore }] = await Promise.all([
        import('../src/drills/run-drills.ts'),
        import('../src/wiring/connect.ts'),
      ]);
      const lines: string[] = [];
      const logger = createLogger({
        level: 'info',
        service: 'drill',
        file: config.logFile,
        sink: (line) => void lines.push(line),
      });
      const busFault = { unavailable: false };
      const ports = await connect(config.deployment, { logger, role: 'mm-drill', faults: busFault });
      const { deployment } = config;
      try {
        const store = requireStore(ports);
        // A local file is migrated when opened; the drill's database is brought to the same schema.
        if (deployment.kind === 'production') await store.migrate();
        return await runDrills(config, {
          store,
          bus: ports.bus,
          busFault,
          logger,
          logLines: () => lines,
          out: (text) => void process.stdout.write(text),
        });
      } finally {
        await ports.close();
        logger.close();
        if (deployment.kind === 'local' && config.temporary) {
          rmSync(dirname(deployment.file), { recursive: true, force: true });
        }
      }
    }),
  );

program.parse();

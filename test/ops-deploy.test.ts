// The deployment files, parsed and held against the built binaries: ops/compose.yaml (services,
// commands with real flags, ports, Redis settings) and ops/systemd units (INI, ExecStart flags, and
// systemd-analyze verify).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { type BinaryName, bundlePath } from './helpers/binaries.ts';
import { opsPath, readOps } from './helpers/ops-files.ts';

const helpCache = new Map<string, string>();
/** `--help` of one subcommand of a built bundle. */
const helpOf = (binary: string, command: string): string => {
  const key = `${binary} ${command}`;
  const cached = helpCache.get(key);
  if (cached !== undefined) return cached;
  const result = spawnSync(process.execPath, [bundlePath(binary as BinaryName), command, '--help'], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `${key} --help: ${result.stderr}`);
  assert.ok(result.stdout.startsWith(`Usage: ${binary} ${command}`), `${key} is a subcommand`);
  helpCache.set(key, result.stdout);
  return result.stdout;
};

/** Fails unless every --flag of `args` is one `binary command --help` lists; returns flag values. */
const assertRealFlags = (
  where: string,
  binary: string,
  command: string,
  args: readonly string[],
): Map<string, string> => {
  const help = helpOf(binary, command);
  const values = new Map<string, string>();
  args.forEach((arg, i) => {
    if (!arg.startsWith('--')) return;
    const [flag = '', inline] = arg.split('=');
    assert.match(help, new RegExp(`\\s${flag}[ ,\\n]`), `${where}: ${binary} ${command} has no ${flag}`);
    values.set(flag, inline ?? args[i + 1] ?? '');
  });
  return values;
};

/** Every `(env NAME ...)` the binaries document, for the environment files. */
const documentedEnv = (): Set<string> => {
  const names = new Set<string>();
  const commands: Array<[string, string]> = [
    ['mm-backend', 'serve'],
    ['mm-backend', 'migrate'],
    ['mm-relay', 'run'],
    ['mm-consumer', 'run'],
    ['mm-dlq', 'list'],
  ];
  for (const [binary, command] of commands) {
    for (const match of helpOf(binary, command).matchAll(/env ([A-Z][A-Z0-9_]+)/g))
      names.add(match[1] as string);
  }
  return names;
};

type ComposeService = {
  image?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
};

describe('ops/compose.yaml', () => {
  const compose = parse(readOps('compose.yaml'), { merge: true }) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const services = compose.services;

  it('runs Postgres, Redis, the migration, the services on their runbook ports, and Prometheus', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'backend',
      'consumer',
      'consumer-2',
      'migrate',
      'postgres',
      'prometheus',
      'redis',
      'relay',
    ]);
    const ports: Record<string, string> = {
      backend: '8000',
      relay: '8080',
      consumer: '8081',
      'consumer-2': '8082',
    };
    for (const [name, port] of Object.entries(ports)) {
      const service = services[name] as ComposeService;
      assert.deepEqual(service.ports, [`${port}:${port}`], name);
      assert.equal(service.environment?.MM_HOST, '0.0.0.0', `${name} listens beyond the container`);
      assert.match(service.environment?.DATABASE_URL ?? '', /^postgres:\/\/.*@postgres:5432\//);
      assert.equal(service.environment?.REDIS_URL, 'redis://redis:6379');
      assert.ok(service.volumes?.includes('../dist:/app:ro'), `${name} runs the bundles of npm run build`);
      assert.equal(service.depends_on?.migrate?.condition, 'service_completed_successfully');
    }
    assert.equal(services.migrate?.depends_on?.postgres?.condition, 'service_healthy');
    // Published on every interface: the users API must not be open to anyone who reaches the host.
    assert.match(services.backend?.environment?.MM_API_TOKENS ?? '', /^\$\{MM_API_TOKENS:\?/);
  });

  it('gives Redis an append-only file and noeviction', () => {
    const command = services.redis?.command ?? [];
    const setting = (name: string): string | undefined => command[command.indexOf(name) + 1];
    assert.equal(command[0], 'redis-server');
    assert.equal(setting('--appendonly'), 'yes');
    assert.equal(setting('--maxmemory-policy'), 'noeviction');
    assert.match(setting('--appendfsync') ?? '', /^(always|everysec)$/);
    assert.ok(
      services.redis?.volumes?.some((v) => v.endsWith(':/data')),
      'the AOF survives the container',
    );
  });

  it("runs each service's command with flags the built binaries have, on its own port", () => {
    const ports: Record<string, string> = {
      backend: '8000',
      relay: '8080',
      consumer: '8081',
      'consumer-2': '8082',
    };
    for (const [name, service] of Object.entries(services)) {
      const [node, bundle, command, ...args] = service.command ?? [];
      if (node !== 'node') continue;
      const binary = (bundle ?? '').replace(/\.mjs$/, '');
      assert.ok(existsSync(bundlePath(binary as BinaryName)), `${name}: ${bundle} is a bundle`);
      const flags = assertRealFlags(`compose ${name}`, binary, command ?? '', args);
      if (name !== 'migrate') {
        assert.equal(flags.get('--port'), ports[name], `${name} --port`);
        assert.match(flags.get('--log-file') ?? '', /^\/var\/log\/markdown-manager\/[a-z0-9-]+\.log$/);
      }
    }
    assert.deepEqual(services.migrate?.command, ['node', 'mm-backend.mjs', 'migrate']);
    assert.equal(
      new Set(
        ['consumer', 'consumer-2'].map((c) => services[c]?.command?.join(' ').match(/--name (\S+)/)?.[1]),
      ).size,
      2,
      'each consumer has its own name in the group',
    );
  });

  it('scrapes the compose services with the alert rules loaded', () => {
    const mounts = services.prometheus?.volumes ?? [];
    for (const mount of mounts) {
      const source = mount.split(':')[0] ?? '';
      assert.ok(existsSync(opsPath(source.replace(/^\.\//, ''))), `${source} exists`);
    }
    const config = parse(readOps('prometheus/compose-prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        metrics_path: string;
        static_configs: Array<{ targets: string[] }>;
      }>;
    };
    assert.deepEqual(config.rule_files, ['alerts.yml']);
    const targets = config.scrape_configs.flatMap((job) => {
      assert.equal(job.metrics_path, '/metrics/prometheus');
      return job.static_configs.flatMap((s) => s.targets);
    });
    for (const target of targets) {
      const [host, port] = target.split(':');
      assert.ok(
        services[host ?? '']?.ports?.includes(`${port}:${port}`),
        `${target} is a compose service port`,
      );
    }
    assert.equal(targets.length, 4);
  });
});

type Unit = Record<string, Record<string, string[]>>;

/** systemd's INI: sections, `Key=Value` (repeatable), `#`/`;` comments, trailing-backslash continuations. */
const parseUnit = (text: string): Unit => {
  const unit: Unit = {};
  let section = '';
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section !== '' && eq > 0, `not a unit line: ${line}`);
    const values = unit[section] ?? {};
    unit[section] = values;
    const key = line.slice(0, eq).trim();
    values[key] = [...(values[key] ?? []), line.slice(eq + 1).trim()];
  }
  return unit;
};

describe('ops/systemd units', () => {
  const dir = opsPath('systemd');
  const unitFiles = readdirSync(dir).filter((f) => f.endsWith('.service'));
  const units = new Map(unitFiles.map((f) => [f, parseUnit(readFileSync(join(dir, f), 'utf8'))]));
  const one = (unit: Unit, section: string, key: string): string => {
    const values = unit[section]?.[key] ?? [];
    assert.equal(values.length, 1, `${section}.${key}`);
    return values[0] as string;
  };

  it('has a unit per service and a oneshot migration they all require', () => {
    assert.deepEqual(unitFiles.sort(), [
      'mm-backend.service',
      'mm-consumer@.service',
      'mm-migrate.service',
      'mm-relay.service',
    ]);
    const migrate = units.get('mm-migrate.service') as Unit;
    assert.equal(one(migrate, 'Service', 'Type'), 'oneshot');
    assert.equal(one(migrate, 'Service', 'RemainAfterExit'), 'yes');
    for (const name of ['mm-backend.service', 'mm-relay.service', 'mm-consumer@.service']) {
      const unit = units.get(name) as Unit;
      assert.match(one(unit, 'Unit', 'Requires'), /\bmm-migrate\.service\b/, name);
      assert.match(one(unit, 'Unit', 'After'), /\bmm-migrate\.service\b/, name);
      assert.equal(one(unit, 'Service', 'Restart'), 'on-failure', name);
      assert.equal(one(unit, 'Service', 'LogsDirectory'), 'markdown-manager', name);
    }
  });

  it('starts the single executables with flags they have, on the runbook ports, logging where the runbook greps', () => {
    const expected: Record<string, { binary: string; command: string; port: string }> = {
      'mm-backend.service': { binary: 'mm-backend', command: 'serve', port: '8000' },
      'mm-relay.service': { binary: 'mm-relay', command: 'run', port: '8080' },
      'mm-consumer@.service': { binary: 'mm-consumer', command: 'run', port: '808%i' },
      'mm-migrate.service': { binary: 'mm-backend', command: 'migrate', port: '' },
    };
    for (const [name, unit] of units) {
      const want = expected[name];
      assert.ok(want, name);
      const [exe, command, ...args] = one(unit, 'Service', 'ExecStart').split(/\s+/);
      assert.equal(exe, `/usr/local/bin/${want.binary}`, name);
      assert.equal(command, want.command, name);
      const flags = assertRealFlags(name, want.binary, want.command, args);
      if (want.port) {
        assert.equal(flags.get('--port'), want.port, name);
        assert.match(flags.get('--log-file') ?? '', /^\/var\/log\/markdown-manager\/[a-z0-9%-]+\.log$/, name);
      }
      assert.equal(one(unit, 'Service', 'EnvironmentFile'), '/etc/mm/mm.env', name);
      assert.equal(one(unit, 'Service', 'User'), 'mm', name);
      assert.equal(one(unit, 'Install', 'WantedBy'), 'multi-user.target', name);
    }
  });

  it('mm.env.example sets only variables the binaries read', () => {
    const known = documentedEnv();
    const lines = readFileSync(join(dir, 'mm.env.example'), 'utf8').split('\n');
    const keys = lines.flatMap((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []);
    assert.ok(keys.includes('DATABASE_URL') && keys.includes('REDIS_URL') && keys.includes('MM_LOCAL'));
    for (const key of keys)
      assert.ok(known.has(key), `${key} is read by the binaries (${[...known].join(', ')})`);
  });

  const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).status === 0;
  it('passes systemd-analyze verify with ExecStart pointing at an executable', {
    skip: analyze ? false : 'needs systemd-analyze',
  }, () => {
    const work = mkdtempSync(join(tmpdir(), 'mm-units-'));
    try {
      const stub = join(work, 'stub');
      writeFileSync(stub, '#!/bin/sh\nexit 0\n');
      chmodSync(stub, 0o755);
      for (const file of unitFiles) {
        const text = readFileSync(join(dir, file), 'utf8').replace(/\/usr\/local\/bin\/mm-[a-z]+/g, stub);
        writeFileSync(join(work, file), text);
      }
      const instances = unitFiles.map((f) => join(work, f.replace('@.service', '@1.service')));
      const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...instances], {
        cwd: work,
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr.trim(), '', 'no warnings (unknown keys, bad values)');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

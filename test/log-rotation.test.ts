// Log rotation as logrotate does it: the log files are moved away and each service gets SIGHUP; the
// services keep running, reopen their --log-file by name, and the runbook's grep patterns find the
// later dead letters and failures in the new files. Every line carries `service`. The shipped
// logrotate file passes logrotate's own check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from './helpers/eventually.ts';
import {
  type CreatedUser,
  dlqBacklog,
  type LocalStack,
  oversizedUser,
  RELAY_MAX_EVENT_BYTES,
  startLocalStack,
} from './helpers/local-stack.ts';
import { opsPath, readOps } from './helpers/ops-files.ts';
import { grepFor, type LogLine, runbookGreps, runGrep } from './helpers/runbook-greps.ts';

const linesOf = (file: string): LogLine[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);

describe('log files rotated with SIGHUP', () => {
  let stack: LocalStack;
  let oversized: CreatedUser;
  let failing: CreatedUser;
  const names = ['backend', 'relay', 'consumer-1'];

  before(async () => {
    stack = await startLocalStack({
      relayArgs: ['--max-event-bytes', String(RELAY_MAX_EVENT_BYTES), '--max-attempts', '1'],
    });
    await stack.createUser({ email: `before.${Date.now()}@example.com` });
    for (const name of names) renameSync(stack.logFile(name), `${stack.logFile(name)}.1`);
    const services = [stack.backend, stack.relay, ...stack.consumers];
    for (const service of services) process.kill(service.pid, 'SIGHUP');
    for (const service of services) await service.waitForLog(/Log file reopened on SIGHUP/);
    oversized = await stack.createUser(oversizedUser());
    failing = await stack.createUser({ email: `fail.${Date.now()}@example.com`, display_name: 'fail now' });
    await eventually(async () => (await dlqBacklog(stack)) === 2, 20_000, { message: 'two dead letters' });
  });
  after(async () => {
    await stack?.stop();
  });

  it('every service keeps running and writes to a new file by the same name', async () => {
    for (const name of names) {
      assert.ok(existsSync(stack.logFile(name)), `${name}.log was opened again`);
      const reopened = linesOf(stack.logFile(name));
      assert.equal(reopened[0]?.msg, 'Log file reopened on SIGHUP', name);
      const moved = linesOf(`${stack.logFile(name)}.1`);
      assert.ok(
        !moved.some((line) => line.msg.startsWith('Log file reopened')),
        `${name}.log.1 got no later line`,
      );
    }
    for (const service of [stack.backend, stack.relay, ...stack.consumers]) {
      assert.equal((await fetch(`${service.url}/health`)).status, 200);
    }
  });

  it("the runbook's patterns find the later dead letters and failures in the new files", () => {
    const greps = runbookGreps();
    const relayDlq = runGrep(grepFor(greps, 'Moved event', '/relay.log'), stack.logDir);
    assert.deepEqual(
      relayDlq.map((line) => line.event_id),
      [oversized.eventId],
    );
    const everyDlq = runGrep(grepFor(greps, 'Moved event', '/*.log'), stack.logDir);
    assert.deepEqual(everyDlq.map((line) => `${line.service} ${line.event_id}`).sort(), [
      `consumer ${failing.eventId}`,
      `relay ${oversized.eventId}`,
    ]);
    const failures = runGrep(grepFor(greps, 'Failed to process event', '/*.log'), stack.logDir);
    assert.ok(failures.length >= 1 && failures.every((line) => line.event_id === failing.eventId));
  });

  it('every line of every file, before and after the rotation, names its service', () => {
    for (const file of readdirSync(stack.logDir)) {
      for (const line of linesOf(join(stack.logDir, file))) {
        assert.equal(typeof line.service, 'string', `${file}: ${JSON.stringify(line)}`);
      }
    }
  });
});

describe('ops/logrotate/markdown-manager', () => {
  const logrotate = spawnSync('sh', ['-c', 'command -v logrotate'], { encoding: 'utf8' }).status === 0;

  it('rotates the services log files and signals them with SIGHUP', () => {
    const config = readOps('logrotate/markdown-manager');
    assert.match(config, /^\/var\/log\/markdown-manager\/\*\.log \{/m);
    assert.match(
      config,
      /systemctl kill --signal=HUP .*mm-backend\.service mm-relay\.service 'mm-consumer@\*\.service'/,
    );
    assert.doesNotMatch(config, /copytruncate/);
    for (const unit of ['mm-backend.service', 'mm-relay.service', 'mm-consumer@.service']) {
      assert.match(readOps(`systemd/${unit}`), /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m, unit);
    }
  });

  it('passes logrotate --debug on a copy pointed at a scratch directory', {
    skip: logrotate ? false : 'needs logrotate',
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-logrotate-'));
    try {
      const config = readFileSync(opsPath('logrotate/markdown-manager'), 'utf8')
        .replaceAll('/var/log/markdown-manager', dir)
        .replace('create 0640 mm mm', 'create 0640');
      writeFileSync(join(dir, 'conf'), config);
      writeFileSync(join(dir, 'relay.log'), '{}\n');
      const result = spawnSync(
        'logrotate',
        ['--debug', '--force', '--state', join(dir, 'state'), join(dir, 'conf')],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr + result.stdout, /rotating log .*relay\.log/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from './logger.ts';
import { redactSecrets } from './redact.ts';

describe('logger', () => {
  it('writes one JSON object per line with bindings, level filter and a log file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-log-'));
    const file = join(dir, 'relay.log');
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', file, sink: (line) => lines.push(line) });
    const child = logger.child({ service: 'relay' });
    child.debug('hidden');
    child.warn('Moved event 0190 to DLQ: too big', { attempts: 5 });
    logger.close();
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0] ?? '');
    assert.equal(record.level, 'warn');
    assert.equal(record.service, 'relay');
    assert.equal(record.msg, 'Moved event 0190 to DLQ: too big');
    assert.equal(record.attempts, 5);
    assert.equal(readFileSync(file, 'utf8'), lines[0]);
    rmSync(dir, { recursive: true });
  });

  it('never writes a password from a connection URL', () => {
    const lines: string[] = [];
    const logger = createLogger({ sink: (line) => lines.push(line) });
    logger.error('cannot reach postgres://app:s3cret@db:5432/mm', {
      url: 'redis://:hunter2@cache:6379',
      error: new Error('auth failed for postgres://app:s3cret@db/mm'),
    });
    assert.doesNotMatch(lines.join(''), /s3cret|hunter2/);
    assert.match(lines.join(''), /postgres:\/\/app:\*\*\*@db:5432/);
  });

  it('redacts only the password part', () => {
    assert.equal(redactSecrets('postgres://root@127.0.0.1/x'), 'postgres://root@127.0.0.1/x');
    assert.equal(redactSecrets('redis://u:p@h:1/0'), 'redis://u:***@h:1/0');
  });
});

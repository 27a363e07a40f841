import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDrillOutput, healthSummary, psqlTable } from './drill-output.ts';

describe('drill output', () => {
  it('prints runbook steps, commands, indented evidence and PASS/FAIL lines, and counts them', () => {
    let text = '';
    const out = createDrillOutput((chunk) => {
      text += chunk;
    });
    out.step('Stop Redis');
    out.command('docker compose stop redis', 'the shim refuses every operation');
    out.evidence('{\n  "status": "unhealthy"\n}\n');
    assert.equal(out.check(true, 'relay is unhealthy'), true);
    assert.equal(out.check(false, 'nothing dead-lettered', '2 dead letters'), false);
    assert.equal(
      text,
      [
        '',
        '# Stop Redis',
        '$ docker compose stop redis',
        '    (here: the shim refuses every operation)',
        '    {',
        '      "status": "unhealthy"',
        '    }',
        '  PASS  relay is unhealthy',
        '  FAIL  nothing dead-lettered: 2 dead letters',
        '',
      ].join('\n'),
    );
    assert.deepEqual(out.tally(), { passed: 1, failed: 1 });
  });

  it('renders rows the way psql does', () => {
    assert.equal(
      psqlTable([
        { event_id: 'e1', consumer_group: 'markdown-lint-consumer' },
        { event_id: 'e22', consumer_group: 'g' },
      ]),
      [
        ' event_id | consumer_group',
        '----------+------------------------',
        ' e1       | markdown-lint-consumer',
        ' e22      | g',
        '(2 rows)',
      ].join('\n'),
    );
    assert.equal(psqlTable([], ['a', 'b']), ' a | b\n---+---\n(0 rows)');
    assert.equal(psqlTable([]), '(0 rows)');
  });

  it('cuts a health report down to each check status and reason', () => {
    const report = {
      status: 'unhealthy',
      service: 'relay',
      time: 't',
      checks: {
        database: { status: 'healthy', latency_ms: 1 },
        relay: { status: 'unhealthy', reason: 'down' },
      },
    };
    assert.deepEqual(healthSummary(report), {
      status: 'unhealthy',
      service: 'relay',
      checks: { database: { status: 'healthy' }, relay: { status: 'unhealthy', reason: 'down' } },
    });
  });
});

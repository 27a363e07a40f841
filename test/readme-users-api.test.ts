// The README documents what a newcomer needs first and cannot guess: every route of the users API
// (read from the app itself), where the runbook is, that `npm start` keeps its terminal, and what the
// sqlite3 examples need.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { mountUserRoutes } from '../src/backend/routes.ts';
import type { UserService } from '../src/backend/user-service.ts';
import { ROOT } from './helpers/ops-files.ts';

const readme = readFileSync(`${ROOT}README.md`, 'utf8');

const section = (heading: string): string => {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};

describe('README', () => {
  it('lists every route of the users API with its method', () => {
    const app = new Hono();
    mountUserRoutes(app, {} as UserService, () => {});
    const routes = app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method} ${route.path.replace(':id', '{id}')}`);
    assert.ok(routes.length >= 4, routes.join(', '));
    const api = section('The users API');
    for (const route of new Set(routes)) assert.ok(api.includes(`\`${route}\``), `README documents ${route}`);
  });

  it('says where the runbook is, that npm start keeps its terminal, and what sqlite3 needs', () => {
    const setUp = section('Set up');
    assert.match(setUp, /\[`ops\/RUNBOOK\.md`\]\(ops\/RUNBOOK\.md\)/);
    assert.match(setUp, /npm start .*runs until Ctrl-C/);
    assert.match(setUp, /npm test .*in a second terminal/);
    assert.match(readme, /The `sqlite3` lines need the SQLite command-line shell/);
  });
});

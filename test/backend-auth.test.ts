// The users API with bearer tokens: mutating routes answer 401 without a configured token, reads stay
// open, health and metrics stay open and never show a token, and `serve` refuses a public address
// without tokens (exit 78) unless --insecure-no-auth, which health then reports.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { type LocalPorts, openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { apiTokenList, isKnownToken, isLoopbackHost } from '../src/backend/api-tokens.ts';
import { type Backend, createBackend } from '../src/backend/backend.ts';
import { loadBackendConfig } from '../src/backend/config.ts';
import { ConfigError } from '../src/core/errors.ts';
import { createMetricsRegistry } from '../src/core/metrics.ts';
import { recordingLogger } from './helpers/backend.ts';
import { assertNoBinariesLeft, runBinary, startBinary } from './helpers/binaries.ts';

const TOKENS = ['first-token-0123456789', 'second-token-9876543210'];
const body = (email: string) => JSON.stringify({ email, display_name: 'T' });

describe('API tokens, pure parts', () => {
  it('knows a configured token and nothing else, whatever the length', () => {
    assert.equal(isKnownToken(TOKENS, 'second-token-9876543210'), true);
    assert.equal(isKnownToken(TOKENS, 'second-token-987654321'), false);
    assert.equal(isKnownToken(TOKENS, ''), false);
    assert.equal(isKnownToken([], 'x'), false);
  });

  it('reads MM_API_TOKENS as a comma-separated list', () => {
    assert.deepEqual(apiTokenList.parse(' a1 ,b2,, '), ['a1', 'b2']);
    assert.equal(apiTokenList.parse('has space'), undefined);
  });

  it('tells loopback addresses from public ones', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com']) assert.ok(!isLoopbackHost(host), host);
  });

  it('refuses a public address without tokens, as a configuration problem', () => {
    assert.throws(
      () => loadBackendConfig({ host: '0.0.0.0' }, { MM_LOCAL: 'x.db' }),
      (error: unknown) => error instanceof ConfigError && /MM_API_TOKENS is empty/.test(error.message),
    );
    assert.equal(
      loadBackendConfig({ host: '0.0.0.0', insecureNoAuth: true }, { MM_LOCAL: 'x.db' }).insecureNoAuth,
      true,
    );
    assert.deepEqual(
      loadBackendConfig({ host: '0.0.0.0' }, { MM_LOCAL: 'x.db', MM_API_TOKENS: 'a,b' }).apiTokens,
      ['a', 'b'],
    );
    assert.deepEqual(loadBackendConfig({}, { MM_LOCAL: 'x.db' }).apiTokens, []);
  });
});

describe('users API with MM_API_TOKENS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-auth-'));
  let local: LocalPorts;
  let backend: Backend;

  before(async () => {
    local = await openLocalPorts({ file: join(dir, 'auth.db'), logger: recordingLogger() });
    backend = createBackend(
      {
        store: local.store,
        bus: local.bus,
        logger: recordingLogger(),
        registry: createMetricsRegistry({ defaults: false }),
      },
      { host: '127.0.0.1', port: 0, topics: ['identity'], apiTokens: TOKENS },
    );
  });
  after(async () => {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (headers: Record<string, string>, email: string) =>
    backend.app.request('/api/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body(email),
    });

  it('answers 401 without a token or with a wrong one, and writes nothing', async () => {
    const missing = await post({}, 'a@example.com');
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await post({ authorization: 'Bearer nope' }, 'a@example.com')).status, 401);
    assert.equal((await post({ authorization: `Basic ${TOKENS[0]}` }, 'a@example.com')).status, 401);
    assert.equal(await local.store.outbox.backlog().then((b) => b.count), 0);
  });

  it('writes with any configured token; reads need none', async () => {
    const created = await post({ authorization: `Bearer ${TOKENS[1]}` }, 'b@example.com');
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    assert.equal((await backend.app.request(`/api/users/${id}`)).status, 200);
    const disabled = await backend.app.request(`/api/users/${id}/disable`, { method: 'POST' });
    assert.equal(disabled.status, 401);
    const patched = await backend.app.request(`/api/users/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `bearer ${TOKENS[0]}` },
      body: JSON.stringify({ display_name: 'U' }),
    });
    assert.equal(patched.status, 200);
  });

  it('keeps health and metrics open, and no token appears in them', async () => {
    for (const path of ['/health', '/health/detailed', '/monitoring/metrics', '/metrics/prometheus']) {
      const response = await backend.app.request(path);
      assert.equal(response.status, 200, path);
      const text = await response.text();
      for (const token of TOKENS) assert.ok(!text.includes(token), `${path} shows a token`);
    }
  });
});

describe('mm-backend serve on a public address', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-auth-bin-'));
  afterEach(assertNoBinariesLeft);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 78 on --host 0.0.0.0 without tokens, naming the fix', async () => {
    const run = await runBinary('mm-backend', ['serve', '--local', join(dir, 'a.db'), '--host', '0.0.0.0'], {
      env: { MM_API_TOKENS: '' },
    });
    assert.equal(run.code, 78, run.stderr);
    assert.match(run.stderr, /MM_API_TOKENS is empty.*--insecure-no-auth/);
  });

  it('serves with --insecure-no-auth and says so in /health/detailed', async () => {
    const backend = await startBinary(
      'mm-backend',
      ['serve', '--local', join(dir, 'b.db'), '--host', '0.0.0.0', '--insecure-no-auth'],
      { env: { MM_API_TOKENS: '' } },
    );
    try {
      const report = (await (await fetch(`${backend.url}/health/detailed`)).json()) as {
        status: string;
        checks: { auth: { status: string; reason: string } };
      };
      assert.equal(report.checks.auth.status, 'degraded');
      assert.match(report.checks.auth.reason, /open to anyone/);
      assert.equal(report.status, 'degraded');
    } finally {
      await backend.stop();
    }
  });
});

// The console in a real headless Chromium against `mm-backend stack --demo`: an operator signs in,
// sees three healthy services, finds a demo dead letter under its fingerprint, reads its payload and
// ledger state, reprocesses it after the dry run and resolves the other, until the open backlog is
// 0 and the audit trail names the operator; a viewer gets no action buttons and 403 on a forged
// POST; a POST without the CSRF token gets 403; five wrong tokens are rate-limited. Screenshots of
// each page go to test/artifacts/console/.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashToken } from '../src/console/auth/token-hash.ts';
import { bundlePath } from './helpers/binaries.ts';
import { artifactsDir, launchChromium, skipUnlessChromium } from './helpers/browser.ts';
import { eventually } from './helpers/eventually.ts';
import { freePort } from './helpers/free-port.ts';

const ADA = { name: 'ada', token: 'ada-operator-token-0123' };
const VIC = { name: 'vic', token: 'vic-viewer-token-4567' };

describe('operations console in Chromium', { skip: skipUnlessChromium() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-console-'));
  const shots = artifactsDir('console');
  let stack: ChildProcess;
  let output = '';
  let base = '';
  let backendUrl = '';
  let browser: Browser;
  let operator: BrowserContext;
  let page: Page;

  const shot = (p: Page, name: string) => p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  const signIn = async (context: BrowserContext, user: { name: string; token: string }): Promise<Page> => {
    const p = await context.newPage();
    await p.goto(`${base}/`);
    assert.match(p.url(), /\/sign-in$/, 'an anonymous visit lands on the sign-in form');
    await p.fill('input[name=name]', user.name);
    await p.fill('input[name=token]', user.token);
    await Promise.all([p.waitForURL(`${base}/`), p.click('button[type=submit]')]);
    return p;
  };

  before(async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const users = [
      `${ADA.name}:operator:${hashToken(ADA.token)}`,
      `${VIC.name}:viewer:${hashToken(VIC.token)}`,
    ].join(',');
    stack = spawn(
      process.execPath,
      [
        bundlePath('mm-backend'),
        'stack',
        '--local',
        join(dir, 'mm.db'),
        '--demo',
        '--backend-port',
        String(ports[0]),
        '--relay-port',
        String(ports[1]),
        '--consumer-port',
        String(ports[2]),
        '--console-port',
        String(ports[3]),
      ],
      { env: { ...process.env, MM_CONSOLE_USERS: users }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    stack.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    stack.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    base = `http://127.0.0.1:${ports[3]}`;
    backendUrl = `http://127.0.0.1:${ports[0]}`;
    // Both demo dead letters reached identity.dlq (the stack says so).
    await eventually(
      () => (output.match(/is dead letter \S+ in identity\.dlq/g) ?? []).length === 2,
      60_000,
      {
        message: `demo dead letters; output: ${output.slice(-400)}`,
      },
    );
    browser = await launchChromium();
    operator = await browser.newContext();
  });

  after(async () => {
    await browser?.close();
    if (stack && stack.exitCode === null) {
      const exited = new Promise((resolve) => stack.once('exit', resolve));
      stack.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a sign-in URL with a token, and shows nothing without signing in', async () => {
    assert.match(output, new RegExp(`${base}/\\?token=[\\w-]{20,}`));
    const anonymous = await fetch(`${base}/`, { redirect: 'manual' });
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get('location'), '/sign-in');
  });

  it('signs the operator in and shows 3 healthy services on the overview', async () => {
    page = await signIn(operator, ADA);
    const cookie = (await operator.cookies()).find((c) => c.name === 'mm_console_session');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    await eventually(async () => {
      await page.reload();
      return (await page.locator('.service[data-status=healthy]').count()) === 3;
    }, 20_000);
    assert.equal((await page.textContent('#healthy-count'))?.trim(), '3 of 3');
    assert.deepEqual(
      (
        await page.locator('.service').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-role')))
      ).sort(),
      ['backend', 'consumer', 'relay'],
    );
    assert.equal(await page.locator('tr[data-stream="identity.dlq"] .open-backlog').textContent(), '2');
    // Traffic for the events/s chart: it shows up in the next 5 s sample, and the page's script
    // swaps the refreshed <main> in without a reload.
    for (let i = 0; i < 40; i += 1) {
      const created = await fetch(`${backendUrl}/api/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `load${i}@example.com`, display_name: `Load ${i}` }),
      });
      assert.equal(created.status, 201);
    }
    await page.waitForFunction(
      "/peak (\\d+(\\.\\d+)?)\\/s/.exec(document.body.textContent)?.[1] !== '1'",
      null,
      {
        timeout: 20_000,
      },
    );
    await shot(page, 'overview');
  });

  it('lists a demo dead letter under its fingerprint', async () => {
    await page.goto(`${base}/dead-letters?stream=identity.dlq`);
    assert.equal(await page.locator('tr[data-fingerprint]').count(), 2);
    const rejected = page.locator('tr[data-fingerprint]', { hasText: 'email' });
    assert.equal(
      await rejected.locator('td.num').nth(1).textContent(),
      '1',
      'one open under its fingerprint',
    );
    await shot(page, 'dead-letters');
  });

  let relayDeadLetter = '';

  it("shows a dead letter's payload and its ledger state", async () => {
    await page.goto(`${base}/dead-letters?stream=identity.dlq&stage=relay`);
    relayDeadLetter = (await page.locator('tr[data-id]').first().getAttribute('data-id')) ?? '';
    await page.click(`a[href$="/${relayDeadLetter}"] >> nth=0`);
    assert.match((await page.textContent('pre.payload')) ?? '', /"display_name": "Grace Hopper"/);
    assert.equal(
      await page.locator('tr[data-group="markdown-lint-consumer"] .ledger-state').textContent(),
      'not applied',
    );
    await shot(page, 'dead-letter');
  });

  it('reprocesses after a ledger-aware dry run, and the ledger then says applied', async () => {
    await page.click('a.button:has-text("Reprocess")');
    assert.equal(await page.locator('.dry-run .would-apply').textContent(), '1');
    assert.equal(await page.locator('.dry-run .already-applied').textContent(), '0');
    await shot(page, 'confirm-reprocess');
    await page.fill('textarea[name=note]', 'size limit raised');
    await page.click('button.confirm-button');
    assert.match((await page.textContent('.outcome')) ?? '', /audit record names ada/);
    await eventually(async () => {
      await page.goto(`${base}/dead-letters/identity.dlq/${relayDeadLetter}`);
      return (
        (await page.locator('tr[data-group="markdown-lint-consumer"] .ledger-state').textContent()) ===
        'applied'
      );
    }, 20_000);
    assert.equal(await page.locator('table.audit td.actor').first().textContent(), 'ada');
  });

  it('resolves the other one with a note: the open backlog is 0, the audit names the operator', async () => {
    await page.goto(`${base}/dead-letters?stream=identity.dlq&stage=consumer`);
    const id = (await page.locator('tr[data-id]').first().getAttribute('data-id')) ?? '';
    await page.goto(`${base}/dead-letters/identity.dlq/${id}/resolve`);
    await page.fill('textarea[name=note]', 'legacy import, fixed at the source');
    await page.click('button.confirm-button');
    await page.goto(`${base}/dead-letters?stream=identity.dlq`);
    assert.equal(await page.locator('b.open-backlog').textContent(), '0');
    await page.goto(`${base}/dead-letters/identity.dlq/${id}`);
    assert.equal(await page.locator('table.audit td.actor').first().textContent(), 'ada');
    await page.goto(`${base}/`);
    assert.equal(await page.locator('tr[data-stream="identity.dlq"] .open-backlog').textContent(), '0');
  });

  it('shows streams and groups with their consumers and parked counts', async () => {
    await page.goto(`${base}/streams`);
    const text = (await page.textContent('main')) ?? '';
    assert.match(text, /markdown-lint-consumer/);
    assert.match(text, /Parked aggregates: markdown-lint-consumer 0/);
    await shot(page, 'streams');
  });

  it('refuses a POST without the CSRF token', async () => {
    const status = await page.evaluate(async (url) => {
      const response = await fetch(url, { method: 'POST', body: new URLSearchParams({ note: 'x' }) });
      return response.status;
    }, `${base}/dead-letters/identity.dlq/${relayDeadLetter}/resolve`);
    assert.equal(status, 403);
  });

  it('shows a viewer no action buttons and answers a forged POST with 403', async () => {
    const context = await browser.newContext();
    const viewer = await signIn(context, VIC);
    await viewer.goto(`${base}/dead-letters/identity.dlq/${relayDeadLetter}`);
    assert.equal(await viewer.locator('.actions').count(), 0);
    await viewer.goto(`${base}/dead-letters?stream=identity.dlq`);
    assert.equal(await viewer.locator('a:has-text("Reprocess")').count(), 0);
    await shot(viewer, 'viewer-dead-letters');
    // Even with the viewer's own valid CSRF token, the action is for operators only.
    const status = await viewer.evaluate(async (url) => {
      // biome-ignore lint/suspicious/noExplicitAny: runs in the page, where the DOM exists
      const page = globalThis as any;
      const csrf = page.document.querySelector('input[name=_csrf]').value;
      const response = await fetch(url, {
        method: 'POST',
        body: new URLSearchParams({ _csrf: csrf, note: 'x' }),
      });
      return response.status;
    }, `${base}/dead-letters/identity.dlq/${relayDeadLetter}/reprocess`);
    assert.equal(status, 403);
    await context.close();
  });

  it('rate-limits sign-in after 5 wrong tokens, even for the right one', async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    for (let i = 0; i < 5; i += 1) {
      await p.goto(`${base}/sign-in`);
      await p.fill('input[name=name]', ADA.name);
      await p.fill('input[name=token]', `wrong-${i}`);
      const [response] = await Promise.all([
        p.waitForResponse(`${base}/sign-in`),
        p.click('button[type=submit]'),
      ]);
      assert.equal(response.status(), 401);
    }
    await p.goto(`${base}/sign-in`);
    await p.fill('input[name=name]', ADA.name);
    await p.fill('input[name=token]', ADA.token);
    const [response] = await Promise.all([
      p.waitForResponse(`${base}/sign-in`),
      p.click('button[type=submit]'),
    ]);
    assert.equal(response.status(), 429);
    await shot(p, 'rate-limited');
    await context.close();
  });
});

// `mm-backend console add-user` as an operator runs it (the built bundle): the entry it prints or
// appends, that a console started with the file signs that user in, and bad input refused with a
// clear message, a non-zero exit, nothing printed and the file untouched.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { hashToken, verifyToken } from '../src/console/auth/token-hash.ts';
import { parseUserEntries } from '../src/console/auth/users.ts';
import { assertNoBinariesLeft, runBinary, startBinary } from './helpers/binaries.ts';

const ENTRY = /^([^:]+):(viewer|operator):(scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43})$/;
const TOKEN_LINE = /^token for (\S+) \(shown once, sign in with it\): ([\w-]{32})$/;

const addUser = (args: readonly string[], env: Record<string, string> = {}) =>
  runBinary('mm-backend', ['console', 'add-user', ...args], { env });

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

/** Signs in through the console's own form, as a browser would; the session cookie, or the status. */
const signIn = async (base: string, name: string, token: string): Promise<string | number> => {
  const form = await fetch(`${base}/sign-in`);
  const pre = form.headers.get('set-cookie')?.split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${base}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, name, token }).toString(),
  });
  const session = (response.headers.getSetCookie() ?? [])
    .map((cookie) => cookie.split(';')[0] ?? '')
    .find((cookie) => cookie.startsWith('mm_console_session='));
  return response.status === 303 && session ? session : response.status;
};

describe('mm-backend console add-user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-add-user-'));
  afterEach(assertNoBinariesLeft);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the entry and a new token, shown once, that the entry verifies', async () => {
    const run = await addUser(['ada', '--role', 'operator']);
    assert.equal(run.code, 0, run.stderr);
    const [entry, tokenLine, ...rest] = lines(run.stdout);
    assert.deepEqual(rest, []);
    const [, name, role, hash] = ENTRY.exec(entry ?? '') ?? [];
    assert.deepEqual([name, role], ['ada', 'operator']);
    const [, tokenFor, token] = TOKEN_LINE.exec(tokenLine ?? '') ?? [];
    assert.equal(tokenFor, 'ada');
    assert.equal(verifyToken(token ?? '', hash ?? ''), true);
    assert.equal(verifyToken(`${token}x`, hash ?? ''), false);
    assert.deepEqual(parseUserEntries(entry ?? '', 'MM_CONSOLE_USERS'), [{ name, role, hash }]);
    assert.ok(!run.stdout.includes(hashToken(token ?? '')), 'a fresh salt per hash');

    const viewer = await addUser(['vic']);
    const [vicEntry, vicToken] = lines(viewer.stdout);
    assert.equal(ENTRY.exec(vicEntry ?? '')?.[2], 'viewer', 'viewer is the default role');
    assert.notEqual(TOKEN_LINE.exec(vicToken ?? '')?.[2], token, 'a new token each time');
  });

  it('appends to --file one line per user, readable only by its owner; a token given is not printed', async () => {
    const file = join(dir, 'users');
    const ada = await addUser(['ada', '--role', 'operator', '--token', 'ada-token-0123', '--file', file]);
    assert.equal(ada.code, 0, ada.stderr);
    assert.equal(ada.stdout, `added ada (operator) to ${file}\n`);
    const vic = await addUser(['vic', '--file', file], { MM_CONSOLE_NEW_TOKEN: 'vic-token-4567' });
    assert.equal(vic.stdout, `added vic (viewer) to ${file}\n`);
    const written = readFileSync(file, 'utf8');
    assert.ok(written.endsWith('\n'));
    const entries = lines(written).map((line) => ENTRY.exec(line));
    assert.deepEqual(
      entries.map((match) => `${match?.[1]}:${match?.[2]}`),
      ['ada:operator', 'vic:viewer'],
    );
    assert.equal(verifyToken('ada-token-0123', entries[0]?.[3] ?? ''), true);
    assert.equal(verifyToken('vic-token-4567', entries[1]?.[3] ?? ''), true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('writes entries a console started with the file signs in with, in their role', async () => {
    const file = join(dir, 'sign-in-users');
    const ada = await addUser(['ada', '--role', 'operator', '--file', file]);
    const token = TOKEN_LINE.exec(lines(ada.stdout)[1] ?? '')?.[2] ?? '';
    await addUser(['vic', '--token', 'vic-token-4567', '--file', file]);
    const served = await startBinary('mm-backend', ['console', '--local', join(dir, 'console.db')], {
      env: { MM_CONSOLE_USERS: file },
    });
    try {
      const adaSession = await signIn(served.url, 'ada', token);
      assert.equal(typeof adaSession, 'string', `ada signs in (got ${adaSession})`);
      const page = await fetch(`${served.url}/`, { headers: { cookie: String(adaSession) } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /ada \(operator\)/);
      const vicSession = await signIn(served.url, 'vic', 'vic-token-4567');
      const vicPage = await fetch(`${served.url}/`, { headers: { cookie: String(vicSession) } });
      assert.match(await vicPage.text(), /vic \(viewer\)/);
      assert.equal(await signIn(served.url, 'ada', 'vic-token-4567'), 401, "another user's token");
      assert.equal(await signIn(served.url, 'ada', ''), 401, 'an empty token');
    } finally {
      assert.equal(await served.stop(), 0);
    }
  });

  it('appends on a line of its own when the file does not end with a newline', async () => {
    const file = join(dir, 'hand-written');
    writeFileSync(file, `ada:operator:${hashToken('ada-token-0123')}`, { mode: 0o600 });
    const bob = await addUser(['bob', '--token', 'bob-token-8910', '--file', file]);
    assert.equal(bob.code, 0, bob.stderr);
    const users = parseUserEntries(readFileSync(file, 'utf8'), file);
    assert.deepEqual(
      users.map((user) => `${user.name}:${user.role}`),
      ['ada:operator', 'bob:viewer'],
    );
    assert.equal(verifyToken('bob-token-8910', users[1]?.hash ?? ''), true);
  });

  it('refuses bad input with a clear message and a non-zero exit, printing no token and changing nothing', async () => {
    const file = join(dir, 'kept');
    await addUser(['ada', '--role', 'operator', '--token', 'ada-token-0123', '--file', file]);
    const before = readFileSync(file, 'utf8');
    const cases: Array<{ args: string[]; code: number; says: RegExp }> = [
      { args: ['bob', '--role', 'admin'], code: 78, says: /--role must be one of viewer, operator/ },
      { args: [''], code: 78, says: /name must be 1-64 of A-Z a-z 0-9 \. _ @ -/ },
      { args: [' ada'], code: 78, says: /name must be 1-64 of/ },
      { args: ['#ada'], code: 78, says: /name must be 1-64 of/ },
      { args: ['a,b'], code: 78, says: /name must be 1-64 of/ },
      { args: ['a:b'], code: 78, says: /name must be 1-64 of/ },
      { args: ['x'.repeat(65)], code: 78, says: /name must be 1-64 of/ },
      { args: ['ada'], code: 1, says: new RegExp(`ada is already in ${file}`) },
      { args: ['ada', '--role', 'viewer', '--token', 'other-token'], code: 1, says: /ada is already in/ },
      { args: ['bob', '--token', ''], code: 78, says: /--token must be a token that is not empty/ },
      { args: ['bob', '--token', '   '], code: 78, says: /--token must be a token that is not empty/ },
      { args: [], code: 64, says: /missing required argument 'name'/ },
    ];
    for (const { args, code, says } of cases) {
      for (const where of [['--file', file], []]) {
        // Without --file there is no file to hold a name twice.
        if (!where.length && code === 1) continue;
        const run = await addUser([...args, ...where]);
        const label = JSON.stringify([...args, ...where]);
        assert.equal(run.code, code, `${label}: ${run.stderr}`);
        assert.match(run.stderr, says, label);
        assert.equal(run.stdout, '', `${label} prints no entry and no token`);
        assert.equal(readFileSync(file, 'utf8'), before, `${label} leaves the file as it was`);
      }
    }
  });

  it('refuses to append to a users file that is already broken, naming the problem', async () => {
    const file = join(dir, 'broken');
    const text = `ada:admin:${hashToken('t')}\n`;
    writeFileSync(file, text);
    const run = await addUser(['bob', '--file', file]);
    assert.equal(run.code, 78);
    assert.match(run.stderr, /broken entry 1 \(ada\): the role must be viewer or operator/);
    assert.equal(run.stdout, '');
    assert.equal(readFileSync(file, 'utf8'), text);
  });
});

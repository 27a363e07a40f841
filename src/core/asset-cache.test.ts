import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  cachedFilePath,
  ensureCachedFile,
  ensurePrivateDirectory,
  isVerified,
  sha256Hex,
  writeAtomically,
} from './asset-cache.ts';

describe('asset cache', () => {
  const root = mkdtempSync(join(tmpdir(), 'mm-asset-cache-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const bytes = new Uint8Array(256 * 1024).map((_, i) => (i * 31) % 251);
  const sha = sha256Hex(bytes);

  it('keys the file by version and content hash, in safe path segments', () => {
    assert.equal(
      cachedFilePath('/c/mm', 'better_sqlite3.node', '0.1.0', sha),
      `/c/mm/0.1.0-${sha.slice(0, 16)}/better_sqlite3.node`,
    );
    assert.equal(cachedFilePath('/c', '../x', '1.0.0+build/7', 'ab'), '/c/1.0.0_build_7-ab/.._x');
  });

  it('verifies content by hash: missing, truncated and altered files fail', () => {
    const path = join(root, 'verify', 'file');
    assert.equal(isVerified(path, sha), false);
    writeAtomically(path, bytes);
    assert.equal(isVerified(path, sha), true);
    writeFileSync(path, bytes.subarray(0, 1000));
    assert.equal(isVerified(path, sha), false);
    const altered = Uint8Array.from(bytes);
    altered[500] = (altered[500] ?? 0) ^ 1;
    writeFileSync(path, altered);
    assert.equal(isVerified(path, sha), false);
  });

  it('writes atomically: the whole file, executable, and no temporary file left', () => {
    const path = join(root, 'atomic', 'deep', 'addon.node');
    writeAtomically(path, bytes);
    assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
    assert.deepEqual(readdirSync(dirname(path)), ['addon.node']);
    writeAtomically(path, bytes.subarray(0, 10));
    assert.equal(readFileSync(path).length, 10);
    assert.deepEqual(readdirSync(dirname(path)), ['addon.node']);
  });

  it('writes a missing file, keeps a good one and replaces a corrupted one', () => {
    const path = cachedFilePath(join(root, 'ensure'), 'addon.node', '1.2.3', sha);
    assert.deepEqual(ensureCachedFile(path, bytes, sha), { path, state: 'written' });
    assert.deepEqual(ensureCachedFile(path, bytes, sha), { path, state: 'cached' });
    writeFileSync(path, 'not an addon');
    assert.deepEqual(ensureCachedFile(path, bytes, sha), { path, state: 'replaced' });
    assert.equal(isVerified(path, sha), true);
    assert.deepEqual(readdirSync(dirname(path)), ['addon.node']);
  });

  it('refuses bytes that do not match the expected hash', () => {
    const path = join(root, 'mismatch', 'addon.node');
    assert.throws(() => ensureCachedFile(path, bytes, sha256Hex(new Uint8Array([1]))), /checksum/);
  });

  it('leaves no temporary file behind when the rename fails', () => {
    const dir = join(root, 'rename-fails');
    const target = join(dir, 'addon.node');
    writeAtomically(join(target, 'inside'), bytes); // the target is a non-empty directory
    assert.throws(() => writeAtomically(target, bytes));
    assert.deepEqual(readdirSync(dir), ['addon.node']);
  });

  it('fails instead of spinning where a directory cannot be made (procfs answers ENOENT)', () => {
    assert.throws(() => writeAtomically('/proc/self/.cache/mm/1.0.0-ab/addon.node', bytes), /ENOENT/);
  });

  it('accepts only a private directory of this user as a cache root in a shared place', () => {
    const own = join(root, 'private', 'mm-1');
    ensurePrivateDirectory(own);
    ensurePrivateDirectory(own);
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    assert.throws(() => ensurePrivateDirectory(open), /closed to others/);
    const link = join(root, 'link');
    symlinkSync(own, link);
    assert.throws(() => ensurePrivateDirectory(link), /closed to others/);
  });
});

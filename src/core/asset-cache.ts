// Keeps bytes that must exist as a file (a native addon carried inside an executable) in a cache
// directory, one file per version and content hash, verified before use and written atomically.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const safeSegment = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_');

/** `<root>/<version>-<first 16 hex of sha256>/<name>`: a new build never reuses an old file. */
export const cachedFilePath = (root: string, name: string, version: string, sha256: string): string =>
  join(root, `${safeSegment(version)}-${sha256.slice(0, 16)}`, safeSegment(name));

/** True when `path` exists and holds exactly the bytes whose hash is `sha256`. */
export const isVerified = (path: string, sha256: string): boolean => {
  try {
    return sha256Hex(readFileSync(path)) === sha256;
  } catch {
    return false; // missing or unreadable: written afresh
  }
};

/**
 * mkdir -p, one level at a time: Node's recursive mkdir spins forever where mkdir answers ENOENT
 * under an existing parent (a HOME inside /proc, say); here that is an error like any other.
 */
const makeDirectories = (dir: string): void => {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at) && dirname(at) !== at; at = dirname(at)) missing.unshift(at);
  for (const each of missing) {
    try {
      mkdirSync(each, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // made by a racing process
    }
  }
};

/**
 * Makes `dir` (mode 0700) unless it exists, then insists that it is a real directory of this user
 * that nobody else may write to: in a shared place like /tmp, someone else could otherwise swap
 * the file between its verification and its loading.
 */
export const ensurePrivateDirectory = (dir: string): void => {
  makeDirectories(dir);
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a directory of this user closed to others`);
  }
};

/**
 * Writes `bytes` to a private temporary file next to `path`, flushes it, then renames it over
 * `path`: readers see the old file or the whole new one, never a part. Several processes may do
 * this at once; each renames its own complete copy.
 */
export const writeAtomically = (path: string, bytes: Uint8Array, mode = 0o755): void => {
  makeDirectories(dirname(path));
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      for (let offset = 0; offset < bytes.length; ) {
        offset += writeSync(fd, bytes, offset, bytes.length - offset);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
};

export type CachedFile = {
  readonly path: string;
  /** `cached`: a verified file was there; `written`: none was; `replaced`: one failed verification. */
  readonly state: 'cached' | 'written' | 'replaced';
};

/** Makes sure `path` holds `bytes` (hash `sha256`), rewriting it when missing or corrupted. */
export const ensureCachedFile = (path: string, bytes: Uint8Array, sha256: string): CachedFile => {
  if (isVerified(path, sha256)) return { path, state: 'cached' };
  const existed = existsSync(path);
  writeAtomically(path, bytes);
  if (!isVerified(path, sha256)) throw new Error(`${path} does not match its checksum after writing`);
  return { path, state: existed ? 'replaced' : 'written' };
};

// The SQLite native addon of a single executable: carried inside it as an asset, unpacked to a
// per-version cache file (verified, written atomically) and loaded, only for local mode on a runtime
// without node:sqlite. Bundles and development runs load better-sqlite3 from node_modules instead.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasNodeSqlite } from '../adapters/sqlite/driver/driver-node-sqlite.ts';
import { cachedFilePath, ensureCachedFile, ensurePrivateDirectory, sha256Hex } from '../core/asset-cache.ts';
import { buildInfo } from '../core/build-info.ts';
import { ConfigError, coerceError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { builtinModule, isSingleExecutable } from '../core/runtime.ts';

/** The asset key build.mjs stores the addon under, and the cached file's name. */
export const sqliteAddonAsset = 'better_sqlite3.node';

type Sea = { getAsset(key: string): ArrayBuffer };

export type SqliteAddonOptions = {
  /** Per-user cache directory (XDG_CACHE_HOME or ~/.cache); the temp directory is the fallback. */
  readonly cacheDir: string | undefined;
  readonly logger: Logger;
};

type CacheRoot = { readonly dir: string; readonly shared: boolean };

const cacheRoots = (cacheDir: string | undefined): CacheRoot[] => [
  ...(cacheDir === undefined ? [] : [{ dir: join(cacheDir, 'mm'), shared: false }]),
  { dir: join(tmpdir(), `mm-${process.getuid?.() ?? 'user'}`), shared: true },
];

const readAsset = (): Uint8Array => {
  try {
    const sea = builtinModule<Sea>('node:sea');
    if (!sea) throw new Error('node:sea is missing');
    return new Uint8Array(sea.getAsset(sqliteAddonAsset));
  } catch (error) {
    throw new ConfigError([
      `this executable carries no SQLite addon (${coerceError(error).message}); local mode is unavailable`,
    ]);
  }
};

const dlopen = (path: string): object => {
  const module = { exports: {} };
  process.dlopen(module, path);
  return module.exports;
};

const unpackAndLoad = async (options: SqliteAddonOptions): Promise<object | undefined> => {
  if (!isSingleExecutable() || (await hasNodeSqlite())) return undefined;
  const bytes = readAsset();
  const sha256 = sha256Hex(bytes);
  const failures: string[] = [];
  for (const root of cacheRoots(options.cacheDir)) {
    const path = cachedFilePath(root.dir, sqliteAddonAsset, buildInfo().version, sha256);
    try {
      if (root.shared) ensurePrivateDirectory(root.dir);
      const file = ensureCachedFile(path, bytes, sha256);
      if (file.state === 'replaced') {
        options.logger.warn(`replaced a corrupted SQLite addon at ${path}`, { path });
      }
      return dlopen(path);
    } catch (error) {
      failures.push(`${path}: ${coerceError(error).message}`);
    }
  }
  throw new ConfigError([
    `cannot unpack the SQLite addon for local mode (set XDG_CACHE_HOME to a writable directory): ${failures.join('; ')}`,
  ]);
};

let loading: Promise<object | undefined> | undefined;

/**
 * better-sqlite3's addon object for a single executable, or undefined where none is needed (not a
 * single executable, or node:sqlite is there). Loaded once per process.
 */
export const sqliteNativeBinding = (options: SqliteAddonOptions): Promise<object | undefined> => {
  loading ??= unpackAndLoad(options).catch((error: unknown) => {
    loading = undefined;
    throw coerceError(error);
  });
  return loading;
};

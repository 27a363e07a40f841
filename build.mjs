// Bundles each binary into one self-contained ESM file under dist/ (esbuild), sharing one core, and
// (--bin) into Node single executables under dist/bin.
// Usage: node build.mjs [--cjs] [--if-stale]   ESM bundles (--cjs: CommonJS bundles in dist/cjs too;
//                                              --if-stale: only when a bundle is missing or older
//                                              than its sources)
//        node build.mjs --bin [--if-stale]     dist/bin/<binary> + SHA256SUMS (--if-stale: only when
//                                              the sources changed since the last --bin build)
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { build } from 'esbuild';

export const binaries = ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'];
const root = new URL('./', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

const gitCommit = () => {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
};

export const buildInfo = () => ({
  version: pkg.version,
  commit: gitCommit(),
  date: new Date(process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) * 1000 : Date.now())
    .toISOString()
    .slice(0, 10),
});

// The migrations travel inside the bundle: the module that reads them from disk in development is
// replaced by one that returns their text.
const inlineMigrations = {
  name: 'inline-migrations',
  setup(b) {
    b.onLoad({ filter: /[\\/]adapters[\\/]migration-files\.ts$/ }, () => {
      const all = {};
      for (const dialect of ['postgres', 'sqlite']) {
        const dir = new URL(`migrations/${dialect}/`, root);
        all[dialect] = existsSync(dir)
          ? readdirSync(dir)
              .filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))
              .sort()
              .map((name) => ({ name, sql: readFileSync(new URL(name, dir), 'utf8') }))
          : [];
      }
      return {
        loader: 'ts',
        contents: `export const migrationFilePattern = /^\\d{3}_[a-z0-9_]+\\.sql$/;
export const readMigrations = (dialect) => (${JSON.stringify(all)})[dialect].map((m) => ({ ...m }));`,
      };
    });
  },
};

const common = (info) => ({
  bundle: true,
  platform: 'node',
  target: 'node20',
  define: { __MM_BUILD__: JSON.stringify(info) },
  plugins: [inlineMigrations],
  legalComments: 'none',
  logLevel: 'warning',
  // The console's pages are Hono JSX: compiled here, so no runtime needs a JSX transform.
  jsx: 'automatic',
  jsxImportSource: 'hono/jsx',
});

export const buildEsm = async (info = buildInfo()) => {
  mkdirSync(new URL('dist/', root), { recursive: true });
  await Promise.all(
    binaries.map(async (name) => {
      const outfile = new URL(`dist/${name}.mjs`, root).pathname;
      await build({
        ...common(info),
        entryPoints: [new URL(`bin/${name}.ts`, root).pathname],
        outfile,
        format: 'esm',
        // The native SQLite binding cannot be bundled; it is loaded from node_modules when local mode
        // runs on Node without node:sqlite. CommonJS dependencies get a require() from createRequire.
        external: ['better-sqlite3'],
        banner: {
          js: "import { createRequire as __mmCreateRequire } from 'node:module';\nconst require = __mmCreateRequire(import.meta.url);",
        },
      });
      chmodSync(outfile, 0o755);
    }),
  );
  if (existsSync(new URL('src/index.ts', root))) {
    await build({
      ...common(info),
      entryPoints: [new URL('src/index.ts', root).pathname],
      outfile: new URL('dist/index.mjs', root).pathname,
      format: 'esm',
      packages: 'external',
    });
  }
};

// A single executable's require() loads built-in modules only, so everything else must be inside.
const assertOnlyBuiltinsLeft = (name, metafile) => {
  const left = Object.values(metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((imported) => imported.external && !isBuiltin(imported.path))
    .map((imported) => imported.path);
  if (left.length > 0)
    throw new Error(`${name}: the CommonJS bundle still needs ${[...new Set(left)].join(', ')}`);
};

export const buildCjs = async (info = buildInfo(), outdir = new URL('dist/cjs/', root).pathname) => {
  mkdirSync(outdir, { recursive: true });
  await Promise.all(
    binaries.map(async (name) => {
      const result = await build({
        ...common(info),
        entryPoints: [new URL(`bin/${name}.ts`, root).pathname],
        outfile: join(outdir, `${name}.cjs`),
        format: 'cjs',
        metafile: true,
      });
      assertOnlyBuiltinsLeft(name, result.metafile);
      // import.meta is empty in CommonJS: code that finds files through it would break only there.
      const emptyMeta = result.warnings.filter((warning) => warning.id === 'empty-import-meta');
      if (emptyMeta.length > 0) {
        const where = emptyMeta.map((warning) => warning.location?.file).join(', ');
        throw new Error(`${name}: import.meta is used in ${where}, which the CommonJS bundle cannot serve`);
      }
    }),
  );
};

/** Newest modification time of what goes into the bundles. */
const newestSource = (path = root) => {
  const url = new URL(path, root);
  if (!existsSync(url)) return 0;
  const stat = statSync(url);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(url).reduce(
    (newest, name) => Math.max(newest, newestSource(new URL(name, `${url}/`))),
    0,
  );
};

export const isStale = () => {
  const sources = Math.max(
    ...['src', 'bin', 'migrations', 'package.json', 'build.mjs'].map((p) => newestSource(p)),
  );
  return binaries.some((name) => {
    const bundle = new URL(`dist/${name}.mjs`, root);
    return !existsSync(bundle) || statSync(bundle).mtimeMs < sources;
  });
};

// ---- single executables (Node SEA) ----

const run = promisify(execFile);
const dist = new URL('dist/', root).pathname;
const binDir = join(dist, 'bin');
const stampFile = join(binDir, '.inputs');
const seaFuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const localRequire = createRequire(import.meta.url);
const sqliteAddon = join(
  dirname(localRequire.resolve('better-sqlite3/package.json')),
  'build/Release/better_sqlite3.node',
);
const postject = localRequire.resolve('postject/dist/cli.js');

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const filesUnder = (dir) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
      )
    : [];

// What the executables are made of; the same hash means rebuilding would give the same programs.
const inputsHash = () => {
  const hash = createHash('sha256').update(`${process.version}\n`);
  const files = ['src', 'bin', 'migrations']
    .flatMap((dir) => filesUnder(new URL(dir, root).pathname))
    .filter((file) => !file.endsWith('.test.ts'));
  const project = ['build.mjs', 'package.json', 'package-lock.json'].map((f) => new URL(f, root).pathname);
  for (const file of [...files.sort(), ...project.filter((f) => existsSync(f)), sqliteAddon]) {
    hash.update(`${file}\n`).update(readFileSync(file));
  }
  return hash.digest('hex');
};

const isFresh = (inputs) =>
  binaries.every((name) => existsSync(join(binDir, name))) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8').trim() === inputs;

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

// One --bin build at a time per checkout (mkdir is atomic); a lock whose owner died is taken over.
const withBuildLock = async (work) => {
  const lock = join(dist, '.bin.lock');
  mkdirSync(dist, { recursive: true });
  for (const deadline = Date.now() + 10 * 60_000; ; ) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : 0);
      const orphaned = owner ? !isAlive(owner) : Date.now() - statSync(lock).mtimeMs > 30_000;
      if (orphaned) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by process ${owner}`);
      else await delay(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
};

// CJS bundle -> SEA blob (with V8 code cache and the SQLite addon as an asset) -> copy of this node
// -> postject. The asset key is the one src/wiring/sqlite-addon.ts reads.
const buildExecutable = async (work, name) => {
  const config = join(work, `${name}.sea.json`);
  const blob = join(work, `${name}.blob`);
  const exe = join(work, name);
  writeFileSync(
    config,
    JSON.stringify({
      main: join(work, `${name}.cjs`),
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      assets: { 'better_sqlite3.node': sqliteAddon },
    }),
  );
  await run(process.execPath, ['--experimental-sea-config', config]);
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  await run(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', seaFuse], {
    maxBuffer: 16 * 1024 * 1024,
  });
};

const inParallel = async (items, limit, task) => {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

/** Writes dist/bin/<binary> and dist/bin/SHA256SUMS; each file appears whole (rename into place). */
export const buildBinaries = async (info = buildInfo(), options = { ifStale: false }) => {
  if (process.platform !== 'linux') throw new Error('single executables are built on Linux');
  if (options.ifStale && isFresh(inputsHash())) return false;
  return withBuildLock(async () => {
    const inputs = inputsHash();
    if (options.ifStale && isFresh(inputs)) return false; // another build finished while we waited
    // Work directories left by an interrupted build (none can be in use: we hold the lock).
    for (const left of readdirSync(dist).filter((name) => name.startsWith('.bin-'))) {
      rmSync(join(dist, left), { recursive: true, force: true });
    }
    const work = mkdtempSync(join(dist, '.bin-'));
    try {
      await buildCjs(info, work);
      await inParallel(binaries, availableParallelism(), (name) => buildExecutable(work, name));
      const sums = binaries.map((name) => `${sha256(readFileSync(join(work, name)))}  ${name}\n`).join('');
      writeFileSync(join(work, 'SHA256SUMS'), sums);
      writeFileSync(join(work, 'inputs'), `${inputs}\n`);
      mkdirSync(binDir, { recursive: true });
      for (const name of [...binaries, 'SHA256SUMS']) renameSync(join(work, name), join(binDir, name));
      renameSync(join(work, 'inputs'), stampFile);
      return true;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const info = buildInfo();
  if (process.argv.includes('--bin')) {
    // Leaves dist/*.mjs alone: tests may be running them while the executables build.
    const started = Date.now();
    const built = await buildBinaries(info, { ifStale: process.argv.includes('--if-stale') });
    process.stdout.write(
      built
        ? `built ${binaries.map((b) => `dist/bin/${b}`).join(', ')} and SHA256SUMS (${info.version} ${info.commit}, ${((Date.now() - started) / 1000).toFixed(1)}s)\n`
        : 'dist/bin is up to date\n',
    );
  } else if (!process.argv.includes('--if-stale') || isStale()) {
    await buildEsm(info);
    if (process.argv.includes('--cjs')) await buildCjs(info);
    process.stdout.write(
      `built ${binaries.map((b) => `dist/${b}.mjs`).join(', ')} (${info.version} ${info.commit})\n`,
    );
  }
}

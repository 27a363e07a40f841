// Bundles each binary into one self-contained ESM file under dist/ (esbuild), sharing one core.
// Usage: node build.mjs [--cjs] [--if-stale]   (--cjs also writes CommonJS bundles for single
// executables; --if-stale builds only when a bundle is missing or older than its sources)
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

export const buildCjs = async (info = buildInfo()) => {
  mkdirSync(new URL('dist/cjs/', root), { recursive: true });
  await Promise.all(
    binaries.map((name) =>
      build({
        ...common(info),
        entryPoints: [new URL(`bin/${name}.ts`, root).pathname],
        outfile: new URL(`dist/cjs/${name}.cjs`, root).pathname,
        format: 'cjs',
      }),
    ),
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

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);
  const info = buildInfo();
  await buildEsm(info);
  if (process.argv.includes('--cjs')) await buildCjs(info);
  process.stdout.write(
    `built ${binaries.map((b) => `dist/${b}.mjs`).join(', ')} (${info.version} ${info.commit})\n`,
  );
}

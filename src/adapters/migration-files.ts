// Reads the numbered SQL migrations from migrations/<dialect>; build.mjs inlines them into each bundle.
import { readdirSync, readFileSync } from 'node:fs';

export type Migration = { readonly name: string; readonly sql: string };
export type Dialect = 'postgres' | 'sqlite';

export const migrationFilePattern = /^\d{3}_[a-z0-9_]+\.sql$/;

export const readMigrations = (dialect: Dialect): Migration[] => {
  const dir = new URL(`../../migrations/${dialect}/`, import.meta.url);
  return readdirSync(dir)
    .filter((name) => migrationFilePattern.test(name))
    .sort()
    .map((name) => ({ name, sql: readFileSync(new URL(name, dir), 'utf8') }));
};

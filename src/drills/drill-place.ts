// How the drills name where they run in the commands they print: `sqlite3 FILE` and `--local FILE` on
// a local file, `psql URL` and the connection flags on Postgres and Redis (passwords masked).
import { redactUrl } from '../core/redact.ts';
import { filePlace, type Place, redisPlace } from '../dlq/model/place.ts';
import type { DrillDeployment } from './config.ts';

export type DrillPlace = {
  /** `local file ./drill.db`, or the database and Redis with its key prefix. */
  readonly text: string;
  /** The flags that point mm-dlq and mm-consumer there. */
  readonly flags: readonly string[];
  /** A command line that runs the query there. */
  sqlLine(query: string): string;
  /** Where mm-dlq's own messages say it looked. */
  readonly dlq: Place;
};

export const shellWord = (value: string): string =>
  /^[\w./:@+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;

const databaseName = (url: string): string => {
  const name = URL.canParse(url) ? new URL(url).pathname.replace(/^\//, '') : '';
  return name === '' ? (redactUrl(url) ?? url) : name;
};

export const drillPlace = (deployment: DrillDeployment): DrillPlace => {
  if (deployment.kind === 'local') {
    const file = deployment.file;
    return {
      text: `local file ${file}`,
      flags: ['--local', shellWord(file)],
      sqlLine: (query) => `sqlite3 ${shellWord(file)} "${query}"`,
      dlq: filePlace(file),
    };
  }
  const { databaseUrl, redisUrl, keyPrefix } = deployment;
  const database = shellWord(redactUrl(databaseUrl) ?? databaseUrl);
  const dlq = redisPlace(redisUrl, keyPrefix);
  return {
    text: `Postgres database ${databaseName(databaseUrl)} and ${dlq.text}`,
    flags: [
      '--database-url',
      database,
      '--redis-url',
      shellWord(redactUrl(redisUrl) ?? redisUrl),
      ...(keyPrefix === '' ? [] : ['--key-prefix', shellWord(keyPrefix)]),
    ],
    sqlLine: (query) => `psql ${database} -c "${query}"`,
    dlq,
  };
};

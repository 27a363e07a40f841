// What `mm-backend stack` prints once it listens: where each service is and a few commands to try.
import { basename, dirname, join, relative } from 'node:path';
import type { StackUrls } from './compose-stack.ts';

/** How the user invokes the sibling binaries here (`node dist/mm-dlq.mjs`, or `mm-dlq`). */
export type Commands = { readonly dlq: string; readonly backend: string; readonly consumer: string };

/** Bundles run by node are named by path; anything else (installed, single executables) by name. */
export const commandsFor = (script: string | undefined, cwd: string): Commands => {
  const bundle = script !== undefined && /^mm-backend\.m?js$/.test(basename(script));
  const command = (name: string): string =>
    bundle && script
      ? `node ${join(relative(cwd, dirname(script)) || '.', `${name}${script.endsWith('.mjs') ? '.mjs' : '.js'}`)}`
      : name;
  return { dlq: command('mm-dlq'), backend: command('mm-backend'), consumer: command('mm-consumer') };
};

const quote = (value: string): string =>
  /^[\w./:@+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;

export const stackBanner = (
  urls: StackUrls,
  file: string,
  commands: Commands,
  consoleUrl?: string,
): string => {
  const local = `--local ${quote(file)}`;
  const body = JSON.stringify({ email: 'ada@example.com', display_name: 'Ada' });
  return [
    '',
    `mm is running in local mode on ${file} (one SQLite file: no Postgres, no Redis)`,
    `  backend   ${urls.backend}    /health  /health/detailed  /monitoring/metrics  /metrics/prometheus  /api/users`,
    `  relay     ${urls.relay}    /health  /health/detailed  /metrics  /metrics/prometheus`,
    `  consumer  ${urls.consumer}    /health  /health/detailed  /metrics  /metrics/prometheus`,
    ...(consoleUrl ? [`  console   ${consoleUrl}    (sign-in link, valid until the stack stops)`] : []),
    '',
    'Try:',
    `  curl -s -H 'content-type: application/json' -d '${body}' ${urls.backend}/api/users`,
    `  curl -s ${urls.relay}/metrics`,
    `  curl -s ${urls.consumer}/metrics`,
    `  curl -s ${urls.relay}/health/detailed`,
    `  ${commands.dlq} report --hours 24 ${local}`,
    `  ${commands.dlq} list --stream identity.dlq ${local}`,
    `  ${commands.consumer} replay --from start ${local}`,
    `  ${commands.backend} drill all`,
    '',
    'Ctrl-C stops all three (the work in flight is finished first).',
    '',
  ].join('\n');
};

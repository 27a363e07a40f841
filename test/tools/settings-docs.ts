// Writes the README's settings lists from the settings tables, so the docs say what --help says.
// Usage: node --import tsx test/tools/settings-docs.ts   (npm run docs:settings)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backendSettings, migrateSettings } from '../../src/backend/config.ts';
import { consoleSettings } from '../../src/console/config.ts';
import { consumerSettings, replaySettings } from '../../src/consumer/config.ts';
import { defaultText, meaningOf, notesOf, type Setting, type Table } from '../../src/core/settings.ts';
import { dlqSettings } from '../../src/dlq/settings.ts';
import { drillSettings } from '../../src/drills/config.ts';
import { relaySettings } from '../../src/relay/config.ts';
import { stackSettings } from '../../src/stack/config.ts';

export type CatalogEntry = { readonly binary: string; readonly command: string; readonly settings: Table };

/** Every command of every binary with its table, in the order the README lists them. */
export const settingsCatalog: readonly CatalogEntry[] = [
  { binary: 'mm-backend', command: 'serve', settings: backendSettings },
  { binary: 'mm-backend', command: 'migrate', settings: migrateSettings },
  { binary: 'mm-backend', command: 'stack', settings: stackSettings },
  { binary: 'mm-backend', command: 'console', settings: consoleSettings },
  { binary: 'mm-backend', command: 'drill', settings: drillSettings },
  { binary: 'mm-relay', command: 'run', settings: relaySettings },
  { binary: 'mm-consumer', command: 'run', settings: consumerSettings },
  { binary: 'mm-consumer', command: 'replay', settings: replaySettings },
  ...(['list', 'inspect', 'reprocess', 'resolve', 'report', 'purge', 'export'] as const).map((command) => ({
    binary: 'mm-dlq',
    command,
    settings: dlqSettings(command),
  })),
];

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (text: string | undefined): string =>
  text === undefined ? '-' : `\`${text.replace(/\|/g, '\\|')}\``;

/** One README row: flag, env, default, meaning (with the notes help prints too). */
export const settingCells = (setting: Setting<unknown>): string[] => {
  const notes = notesOf(setting);
  const meaning = notes.length === 0 ? meaningOf(setting) : `${meaningOf(setting)} (${notes.join(', ')})`;
  return [code(setting.flag), code(setting.env), code(defaultText(setting)), cell(meaning)];
};

const binaries = [...new Set(settingsCatalog.map((entry) => entry.binary))];

/**
 * One list per binary: each setting once, with the commands that take it when the binary has
 * several (a flag whose default differs between commands gets a row per default).
 */
const binaryList = (binary: string): string[] => {
  const entries = settingsCatalog.filter((entry) => entry.binary === binary);
  const rows = new Map<string, { cells: string[]; commands: string[] }>();
  for (const { command, settings } of entries) {
    for (const setting of Object.values(settings)) {
      const cells = settingCells(setting);
      const key = cells.join('|');
      const row = rows.get(key) ?? { cells, commands: [] };
      row.commands.push(command);
      rows.set(key, row);
    }
  }
  const several = entries.length > 1;
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    `#### ${binary}`,
    '',
    line(['flag', 'env', 'default', 'meaning', ...(several ? ['commands'] : [])]),
    `|${'---|'.repeat(several ? 5 : 4)}`,
    ...[...rows.values()].map(({ cells, commands }) =>
      line([
        ...cells,
        ...(several ? [commands.length === entries.length ? 'all' : commands.join(', ')] : []),
      ]),
    ),
  ];
};

/** The generated part of the README, between its settings markers. */
export const renderSettingsDocs = (): string =>
  `${binaries.flatMap((binary, i) => [...(i === 0 ? [] : ['']), ...binaryList(binary)]).join('\n')}\n`;

export const BEGIN = '<!-- settings:begin (npm run docs:settings writes this part) -->';
export const END = '<!-- settings:end -->';

export const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The README's generated part as committed. */
export const committedSettingsDocs = (readme: string): string => {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${BEGIN} ... ${END} markers`);
  return readme.slice(start + BEGIN.length + 1, end);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(readmePath, 'utf8');
  const old = committedSettingsDocs(readme);
  const start = readme.indexOf(BEGIN) + BEGIN.length + 1;
  writeFileSync(readmePath, readme.slice(0, start) + renderSettingsDocs() + readme.slice(start + old.length));
  process.stdout.write(
    `README.md: settings lists ${old === renderSettingsDocs() ? 'unchanged' : 'rewritten'}\n`,
  );
}

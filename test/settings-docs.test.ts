// The settings tables against what users read: every built binary's --help (each command, each
// option, its env name and default) and the README's lists. None can drift from the tables.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { defaultText, describeSetting } from '../src/core/settings.ts';
import { type BinaryName, bundlePath } from './helpers/binaries.ts';
import {
  committedSettingsDocs,
  readmePath,
  renderSettingsDocs,
  settingCells,
  settingsCatalog,
} from './tools/settings-docs.ts';

const helpOf = (binary: string, ...command: string[]): string => {
  const result = spawnSync(process.execPath, [bundlePath(binary as BinaryName), ...command, '--help'], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `${binary} ${command.join(' ')} --help: ${result.stderr}`);
  return result.stdout;
};

/** A help section (`Options:`, `Commands:`) as term -> description, wrapped lines joined. */
const sectionOf = (help: string, title: string): Map<string, string> => {
  const items = new Map<string, string>();
  const lines = help.split('\n');
  let last: string | undefined;
  for (const line of lines.slice(lines.indexOf(`${title}:`) + 1)) {
    if (line.trim() === '') break;
    const item = /^ {2}(\S(?:\S| (?! ))*)(?: {2,}(.*))?$/.exec(line);
    if (item) {
      last = item[1] as string;
      items.set(last, item[2] ?? '');
    } else if (last !== undefined) {
      items.set(last, `${items.get(last)} ${line.trim()}`.trim());
    }
  }
  return items;
};

const binaries = [...new Set(settingsCatalog.map((entry) => entry.binary))];

describe('settings tables, --help and README', () => {
  it('every command of every binary has a table, and every table a command', () => {
    for (const binary of binaries) {
      const listed = [...sectionOf(helpOf(binary), 'Commands').keys()]
        .map((term) => term.split(' ')[0] as string)
        .filter((name) => name !== 'help');
      const tabled = settingsCatalog.filter((e) => e.binary === binary).map((e) => e.command);
      assert.deepEqual(listed, tabled, binary);
    }
  });

  it("each command's --help lists exactly its table: flag, meaning, env name and default", () => {
    let checked = 0;
    for (const { binary, command, settings } of settingsCatalog) {
      const options = sectionOf(helpOf(binary, command), 'Options');
      options.delete('-h, --help');
      const where = `${binary} ${command}`;
      assert.deepEqual(
        [...options.keys()],
        Object.values(settings).map((s) => s.flag),
        where,
      );
      for (const setting of Object.values(settings)) {
        const shown = options.get(setting.flag) ?? '';
        assert.equal(shown, describeSetting(setting), `${where} ${setting.flag}`);
        if (setting.env) assert.ok(shown.includes(`env ${setting.env}`), `${where} ${setting.flag} env`);
        const fallback = defaultText(setting);
        if (fallback) assert.ok(shown.includes(`default ${fallback}`), `${where} ${setting.flag} default`);
        checked += 1;
      }
    }
    assert.ok(checked > 100, `${checked} settings checked`);
  });

  it("the README's lists are the tables' (npm run docs:settings rewrites them)", () => {
    const readme = readFileSync(readmePath, 'utf8');
    const committed = committedSettingsDocs(readme);
    for (const { binary, command, settings } of settingsCatalog) {
      const from = committed.indexOf(`#### ${binary}\n`);
      const next = committed.indexOf('\n#### ', from + 1);
      const own = committed.slice(from, next < 0 ? undefined : next);
      for (const setting of Object.values(settings)) {
        assert.ok(
          own.includes(`| ${settingCells(setting).join(' | ')} |`),
          `README lists ${binary} ${command} ${setting.flag} as the table says`,
        );
      }
    }
    assert.equal(committed, renderSettingsDocs(), 'run npm run docs:settings');
  });
});

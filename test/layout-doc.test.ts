// The layout doc against the tree: every folder of src/ is described in src/README.md, and every
// folder the doc names exists, so the doc cannot drift as folders come and go.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src', import.meta.url));
const doc = readFileSync(join(src, 'README.md'), 'utf8');

const foldersUnder = (dir: string): string[] =>
  readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isDirectory())
    .flatMap((path) => [path, ...foldersUnder(path)]);

it('src/README.md describes every folder of src/', () => {
  const missing = foldersUnder(src)
    .map((path) => `${relative(src, path)}/`)
    .filter((folder) => !doc.includes(`\`${folder}\``));
  assert.deepEqual(missing, [], `folders missing from src/README.md: ${missing.join(', ')}`);
});

it('every folder src/README.md names exists', () => {
  const named = [...doc.matchAll(/^\| `([a-z/-]+\/)`\s+\|/gm)].map((match) => match[1] as string);
  assert.ok(named.length >= 10, `the layout table lists only ${named.length} folders`);
  const absent = named.filter((folder) => {
    try {
      return !statSync(join(src, folder)).isDirectory();
    } catch {
      return true;
    }
  });
  assert.deepEqual(absent, []);
});

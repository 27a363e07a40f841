// A real headless Chromium for the console's tests: the system's Debian `chromium` (MM_CHROMIUM
// overrides), driven by playwright-core, which ships no browser of its own. Outside CI a missing
// binary skips the suite; in CI it fails the run.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

const candidates = [
  process.env.MM_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

export const chromiumPath = (): string | undefined => candidates.find((path) => path && existsSync(path));

export const skipUnlessChromium = (): false | string => {
  if (chromiumPath()) return false;
  const reason = 'needs chromium (apt-get install chromium)';
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${reason}`);
  return reason;
};

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: chromiumPath() as string, args: ['--no-sandbox', '--disable-gpu'] });

/** Where screenshots go: test/artifacts/<suite>/ (ignored by git; CI keeps it). */
export const artifactsDir = (suite: string): string => {
  const dir = join(fileURLToPath(new URL('../artifacts/', import.meta.url)), suite);
  mkdirSync(dir, { recursive: true });
  return dir;
};

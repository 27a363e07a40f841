// Version, commit and build date, stamped into each bundle by build.mjs (read from package.json in dev).
import { runtimeName } from './runtime.ts';

export type BuildInfo = { readonly version: string; readonly commit: string; readonly date: string };

declare const __MM_BUILD__: BuildInfo | undefined;

const devBuild: BuildInfo = { version: '0.0.0-dev', commit: 'unknown', date: 'unbuilt' };

export const buildInfo = (): BuildInfo => (typeof __MM_BUILD__ === 'undefined' ? devBuild : __MM_BUILD__);

export const versionLine = (binary: string): string => {
  const info = buildInfo();
  return `${binary} ${info.version} (commit ${info.commit}, built ${info.date}, ${runtimeName()})`;
};

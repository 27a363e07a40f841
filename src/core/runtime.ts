// What the process runs on: Node, Deno, or a Node single executable application.

type DenoGlobal = { version: { deno: string } };

export const denoVersion = (): string | undefined => (globalThis as { Deno?: DenoGlobal }).Deno?.version.deno;

export const isDeno = (): boolean => denoVersion() !== undefined;

export const runtimeName = (): string => {
  const deno = denoVersion();
  return deno ? `deno ${deno}` : `node ${process.version}`;
};

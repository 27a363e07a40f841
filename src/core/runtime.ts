// What the process runs on: Node, Deno, or a Node single executable application.
type DenoGlobal = { version: { deno: string } };

export const denoVersion = (): string | undefined => (globalThis as { Deno?: DenoGlobal }).Deno?.version.deno;

export const isDeno = (): boolean => denoVersion() !== undefined;

/**
 * A built-in module by name, or undefined where the runtime lacks it. process.getBuiltinModule
 * (Node >= 20.16, Deno 2) works where import() does not: inside a single executable.
 */
export const builtinModule = <T>(name: string): T | undefined => {
  try {
    return process.getBuiltinModule?.(name) as T | undefined;
  } catch {
    return undefined; // a flag-gated module, e.g. node:sqlite on Node 22.5 without --experimental-sqlite
  }
};

/** True inside a Node single executable application (dist/bin/*). */
export const isSingleExecutable = (): boolean =>
  builtinModule<{ isSea(): boolean }>('node:sea')?.isSea() ?? false;

export const runtimeName = (): string => {
  const deno = denoVersion();
  if (deno) return `deno ${deno}`;
  return isSingleExecutable() ? `node ${process.version}, single executable` : `node ${process.version}`;
};

type Importer = (specifier: string) => Promise<unknown>;
type Vm = typeof import('node:vm');
let seaImporter: Importer | undefined;

// Runs `work` without the experimental-feature warning Node prints for `feature`.
const withoutWarning = <T>(feature: string, work: () => T): T => {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!text.includes(feature)) Reflect.apply(emit, process, [warning, ...rest]);
  }) as typeof process.emitWarning;
  try {
    return work();
  } finally {
    process.emitWarning = emit;
  }
};

const createSeaImporter = (): Importer => {
  const vm = builtinModule<Vm>('node:vm');
  const loader = (vm?.constants as Record<string, symbol> | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (!vm || !loader) return (specifier) => import(specifier);
  return withoutWarning('USE_MAIN_CONTEXT_DEFAULT_LOADER', () =>
    vm.runInThisContext('(specifier) => import(specifier)', {
      importModuleDynamically: loader as never,
    }),
  ) as Importer;
};

/**
 * import() of a module chosen at run time (a file URL or a built-in). A single executable's main
 * script has no module loader behind import(), so there it goes through a function compiled with
 * the main context's default loader (Node >= 20.12).
 */
export const importAtRunTime = async (specifier: string): Promise<unknown> => {
  if (!isSingleExecutable()) return import(specifier);
  seaImporter ??= createSeaImporter();
  const importer = seaImporter;
  return withoutWarning('USE_MAIN_CONTEXT_DEFAULT_LOADER', () => importer(specifier));
};

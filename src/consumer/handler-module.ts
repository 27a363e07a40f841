// Loads a --handler module by file path and checks that it exports handlers by event type.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isEventType } from '../core/envelope.ts';
import { ConfigError, coerceError } from '../core/errors.ts';
import { importAtRunTime } from '../core/runtime.ts';
import { type HandlerMap, isHandler } from './handler.ts';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `handlers` named export first, then the default export; every problem is reported at once. */
export const handlersOfModule = (exported: Record<string, unknown>, where: string): HandlerMap => {
  const candidate = exported.handlers ?? exported.default;
  if (!isRecord(candidate)) {
    throw new ConfigError([
      `--handler ${where} must export its handlers by event type (export const handlers = { 'user.created': fn })`,
    ]);
  }
  const problems: string[] = [];
  for (const [type, handler] of Object.entries(candidate)) {
    if (!isEventType(type))
      problems.push(`--handler ${where}: "${type}" is not an event type like user.created`);
    if (!isHandler(handler)) {
      problems.push(
        `--handler ${where}: handler for ${type} must be a function or an object with applyBatch(items, context)`,
      );
    }
  }
  if (Object.keys(candidate).length === 0) problems.push(`--handler ${where} exports no handlers`);
  if (problems.length > 0) throw new ConfigError(problems);
  return candidate as HandlerMap;
};

export const loadHandlerModule = async (path: string, cwd: string): Promise<HandlerMap> => {
  const absolute = resolve(cwd, path);
  let exported: Record<string, unknown>;
  try {
    exported = (await importAtRunTime(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (thrown) {
    const error = coerceError(thrown);
    const hint = /\.m?ts$/.test(absolute)
      ? ' (TypeScript handler modules need a runtime that loads them: Deno, or node --import tsx)'
      : '';
    throw new ConfigError([`--handler ${path}: cannot load ${absolute}: ${error.message}${hint}`]);
  }
  return handlersOfModule(exported, path);
};

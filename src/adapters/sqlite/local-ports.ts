// Local mode: the SQLite store and the stream shim sharing one file.
import { MmError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Bus } from '../../ports/bus.ts';
import type { Store } from '../../ports/store.ts';

export type LocalPorts = { readonly store: Store; readonly bus: Bus; close(): Promise<void> };

export const openLocalPorts = async (options: { file: string; logger: Logger }): Promise<LocalPorts> => {
  void options;
  throw new MmError('INTERNAL', 'local mode is not implemented yet');
};

// A handler bug the drills switch on and off: while `failing`, every event the wrapped handlers get
// fails the way a code defect would (same error each time, so the DLQ groups it by one fingerprint);
// events of the aggregates in `aggregates` fail the same way, whatever `failing` says.
// The real handler checks the event first, so a bad payload still fails with its own error.
import type { BatchHandler, Handler, HandlerMap } from '../consumer/handler.ts';
import { toRunnable } from '../consumer/handler.ts';

export type HandlerFault = { failing: boolean; readonly aggregates: Set<string> };

/** What the defect throws: a TypeError from deep inside the lint rules lookup. */
export const injectedDefect = (): TypeError =>
  new TypeError("Cannot read properties of undefined (reading 'heading_style')");

export const withHandlerFault = (handlers: HandlerMap, fault: HandlerFault): HandlerMap => {
  // One wrapper per handler object, so types served by one handler keep sharing its batches.
  const wrappers = new Map<Handler, BatchHandler>();
  const wrap = (handler: Handler): BatchHandler => {
    const known = wrappers.get(handler);
    if (known) return known;
    const runnable = toRunnable(handler);
    const wrapper: BatchHandler = {
      prepare: (event) => {
        const prepared = runnable.prepare(event);
        if (fault.failing || fault.aggregates.has(event.aggregateId)) throw injectedDefect();
        return prepared;
      },
      applyBatch: (items, context) => runnable.apply(items, context),
    };
    wrappers.set(handler, wrapper);
    return wrapper;
  };
  return Object.fromEntries(Object.entries(handlers).map(([type, handler]) => [type, wrap(handler)]));
};

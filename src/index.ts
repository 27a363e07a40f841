// The package's library entry: the per-event idempotency helper, the handler contract and the types
// a handler module needs.

export type {
  BatchHandler,
  ConsumedEvent,
  EventHandler,
  Handler,
  HandlerContext,
  HandlerMap,
  PreparedEvent,
} from './consumer/handler.ts';
export { lintProfileHandlers, userChangeOf } from './consumer/lint-profile-handler.ts';
export type { EventEnvelope, EventHeaders, JsonValue, StreamFields } from './core/envelope.ts';
export { parseStreamFields, toStreamFields } from './core/envelope.ts';
export { PermanentError, TransientError, ValidationError } from './core/errors.ts';
export {
  ensureIdempotentProcessing,
  type IdempotentOutcome,
  type IdempotentProcessingOptions,
} from './idempotency/ensure-idempotent-processing.ts';
export type { LedgerEntry, LedgerResult } from './ports/ledger.ts';
export type { LintProfile, LintProfileChange } from './ports/lint-profiles.ts';
export type { Tx } from './ports/store.ts';

// The one place that maps error codes to process exit codes (sysexits.h numbers operators know).
import { type ErrorCode, ErrorCodes, MmError } from './errors.ts';

export const ExitCodes = {
  ok: 0,
  other: 1,
  usage: 64,
  dataError: 65,
  notFound: 66,
  unavailable: 69,
  config: 78,
} as const;

const byCode: Record<ErrorCode, number> = {
  [ErrorCodes.validation]: ExitCodes.dataError,
  [ErrorCodes.notFound]: ExitCodes.notFound,
  [ErrorCodes.conflict]: ExitCodes.other,
  [ErrorCodes.transient]: ExitCodes.unavailable,
  [ErrorCodes.permanent]: ExitCodes.dataError,
  [ErrorCodes.config]: ExitCodes.config,
  [ErrorCodes.usage]: ExitCodes.usage,
  [ErrorCodes.noGroup]: ExitCodes.notFound,
  [ErrorCodes.internal]: ExitCodes.other,
};

export const exitCodeFor = (error: unknown): number =>
  error instanceof MmError ? byCode[error.code] : ExitCodes.other;

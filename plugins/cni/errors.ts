import { FieldError } from '../../lib/fields.ts';

// The CNI spec's error codes (spec 1.1.0, "Error"), and weft's own from 100 up.
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IOFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  NotAvailableExistingAffected: 51,
  /** A link, address or route could not be programmed. */
  NetlinkFailure: 100,
  /** The address pool has no free address, or a requested address is taken. */
  PoolExhausted: 101,
  /** A delegated plugin failed without a CNI error of its own. */
  DelegateFailure: 102,
  /** The packet filter (iptables, nftables) refused a change. */
  PacketFilterFailure: 103,
  /** CHECK found the container's network differs from what ADD made. */
  CheckMismatch: 104,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | number;

/** The one error type plugins throw; the skeleton prints it as the spec's error JSON. */
export class CniError extends Error {
  readonly code: ErrorCodeValue;
  readonly details: string;
  constructor(code: ErrorCodeValue, msg: string, options: { details?: string; cause?: unknown } = {}) {
    super(msg, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CniError';
    this.code = code;
    this.details = options.details ?? (options.cause instanceof Error ? options.cause.message : '');
  }
}

/** Wraps anything thrown into a CniError, keeping CniErrors as they are; a config field's error is code 7. */
export function toCniError(error: unknown, code: ErrorCodeValue, action: string): CniError {
  if (error instanceof CniError) return error;
  if (error instanceof FieldError) return new CniError(ErrorCode.InvalidConfig, `invalid config: ${error.message}`);
  const message = error instanceof Error ? error.message : String(error);
  return new CniError(code, `cannot ${action}: ${message}`, { cause: error });
}

export function invalidConfig(field: string, problem: string): CniError {
  return toCniError(new FieldError(field, problem), ErrorCode.InvalidConfig, 'read the config');
}

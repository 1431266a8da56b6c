/** The closed set of error codes. Callers branch on `code`, never on a subclass. */
export const ErrorCodes = {
  validation: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Service unavailable' },
  deadline_exceeded: { status: 503, title: 'Deadline exceeded' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface FieldError {
  path: string;
  message: string;
}

export interface ErrorDetails {
  /** Module-specific reason, e.g. `out_of_stock`. */
  reason?: string;
  /** Per-field validation failures. */
  errors?: FieldError[];
  /** Seconds a client should wait, for `rate_limited` and `unavailable`. */
  retryAfter?: number;
}

/** Transport failures: the action may or may not have run. */
const transientCodes: ReadonlySet<ErrorCode> = new Set(['unavailable', 'deadline_exceeded']);

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }

  /** True for failures where the outcome is unknown and a retry may succeed. */
  get transient(): boolean {
    return transientCodes.has(this.code);
  }

  /** Plain JSON form, the same whether it crosses a function call or a network hop. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, details: this.details };
  }

  /** True when the target module itself answered with this error (it came back as a reply). */
  answered = false;

  /** An error another node answered with; `answered` tells it from a failure to reach that node. */
  static fromJSON(value: SerializedError): AppError {
    const code = value.code in ErrorCodes ? value.code : 'internal';
    const err = new AppError(code, value.message, value.details ?? {});
    err.answered = true;
    return err;
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

/** Anything not an AppError becomes `internal`, its message kept out of client view. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  return new AppError('internal', 'An unexpected error occurred.');
}

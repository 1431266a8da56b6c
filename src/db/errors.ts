/** True when the error, or one it wraps as its `cause`, has a code `matches` accepts: drivers wrap differently. */
function hasCode(err: unknown, matches: (code: string) => boolean): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && matches(code)) return true;
  }
  return false;
}

/** The innermost error's message: drizzle wraps the driver's error in one that quotes the SQL. */
export function rootCause(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause !== undefined) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** True when a query failed on a unique constraint (SQLSTATE 23505), whichever driver raised it. */
export const isUniqueViolation = (err: unknown) => hasCode(err, (code) => code === '23505');

/** True when a query named a table or schema that does not exist (42P01, 3F000). */
export const isMissingRelation = (err: unknown) =>
  hasCode(err, (code) => code === '42P01' || code === '3F000');

/** Node socket errors and postgres.js connection errors: the database, not the query, failed. */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
]);

/**
 * True when a query failed because the database could not be reached or went away
 * (SQLSTATE class 08, or 57P01-57P03 shutdown and recovery), rather than for the query itself.
 */
export const isConnectionError = (err: unknown) =>
  hasCode(
    err,
    (code) => connectionCodes.has(code) || /^08...$/.test(code) || /^57P0[123]$/.test(code),
  );

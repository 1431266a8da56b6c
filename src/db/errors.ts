/** True when a query failed on a unique constraint (SQLSTATE 23505), whichever driver raised it. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

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
export function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (connectionCodes.has(code) || /^08...$/.test(code) || /^57P0[123]$/.test(code)) return true;
  }
  return false;
}

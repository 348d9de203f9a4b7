/**
 * Tells "a dependency (PostgreSQL, Redis) is down or dropped us" apart from a bug, so that the API answers
 * 503 SERVICE_UNAVAILABLE (retry later; nothing was changed: the transaction died with the connection)
 * instead of 500. Errors arrive raw (pg, ioredis, sockets) or wrapped (TypeORM's QueryFailedError keeps
 * the driver's error in `driverError`; some libraries use `cause`).
 */

/** Socket-level failures: the peer is not there, went away, or cannot be reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs that mean "the server cannot serve us now": class 08 (connection exception),
 * 57P01–57P03 (admin shutdown, e.g. pg_terminate_backend; crash shutdown; cannot connect now) and
 * 53300 (too many connections).
 */
const PG_UNAVAILABLE = /^(08\w{3}|57P0[123]|53300)$/;

/** Driver messages without a code: node-pg's lost connections and pool timeouts, ioredis' closed links. */
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error and is not queryable/i,
  /timeout exceeded when trying to connect/i,
  /Cannot use a pool after calling end on the pool/i,
  /terminating connection due to/i,
  /Connection is closed/i,
  /Reached the max retries per request limit/i,
  /Stream isn't writeable/i,
];

/**
 * TypeORM releases a query runner when its connection emits 'error'; the transaction's next statement then
 * fails with one of these instead of the driver's error. (Outside an outage they would mean a query after
 * the transaction ended, a bug every test would hit, not one that only shows when connections die.)
 */
const RELEASED_RUNNER = new Set(['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError']);

export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  if (RELEASED_RUNNER.has((error as Error).name)) return true;
  const { code, message, driverError, cause } = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || PG_UNAVAILABLE.test(code))) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return true;
  // AggregateError (e.g. a connect to ::1 and 127.0.0.1 both refused)
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some((e) => isDependencyUnavailable(e, depth + 1))) return true;
  return isDependencyUnavailable(driverError, depth + 1) || isDependencyUnavailable(cause, depth + 1);
}

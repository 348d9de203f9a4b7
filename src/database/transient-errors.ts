import { QueryFailedError } from 'typeorm';

/**
 * SQLSTATEs after which the same statement can succeed if simply run again: deadlock and serialization
 * failures, and every "the server or the connection went away" class (08 connection exception, 57P0x
 * shutdown/crash, 53300 too many connections).
 */
const TRANSIENT_SQLSTATES = new Set(['40P01', '40001', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);
/** node-postgres reports a dropped socket and a pool that cannot connect in time as plain errors. */
const TRANSIENT_MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /Client has encountered a connection error/i, /connection is closed/i];

/** Whether a database error is worth retrying as it is (a blip, a restart, a deadlock), not a bug in the statement. */
export function isTransientDatabaseError(error: unknown): boolean {
  const driver = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  if (typeof driver !== 'object' || driver === null) return false;
  const { code, message } = driver as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SOCKET_CODES.has(code))) return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message));
}

export interface RetryOptions {
  /** Give up (rethrow the last error) once this much time has passed. */
  maxMs: number;
  /** First wait; doubled after every failure up to `capMs`. */
  firstDelayMs?: number;
  capMs?: number;
  /** Called after each transient failure (logging, metrics). */
  onRetry?: (error: unknown, attempt: number) => void;
}

/** Runs `fn` until it succeeds, retrying transient database errors with capped exponential backoff. */
export async function withDatabaseRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + options.maxMs;
  let delay = options.firstDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransientDatabaseError(e) || Date.now() + delay > deadline) throw e;
      options.onRetry?.(e, attempt);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, options.capMs ?? 5_000);
    }
  }
}

import { QueryFailedError } from 'typeorm';
import { isDependencyUnavailable } from '../common/dependency-errors.js';

/** SQLSTATEs of a statement that lost a race, not its server: deadlock and serialization failure. */
const LOST_A_RACE = new Set(['40P01', '40001']);

/**
 * Whether a database error is worth retrying as it is (a blip, a restart, a deadlock), not a bug in the
 * statement: a lost race, or the database being unavailable (the same test the API uses for its 503).
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const driver = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  const code = typeof driver === 'object' && driver !== null ? (driver as { code?: unknown }).code : undefined;
  return (typeof code === 'string' && LOST_A_RACE.has(code)) || isDependencyUnavailable(error);
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

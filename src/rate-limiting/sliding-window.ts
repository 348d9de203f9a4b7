import type { RateLimitDecision } from './rate-limiter.types.js';

/**
 * The rate limiter's decision math as a pure function. It mirrors ACQUIRE_LUA (rate-limiter.scripts.ts)
 * line for line, so the spec can exercise the arithmetic without Redis. If you change one, change both.
 *
 * Algorithm: a sliding-window log per key. The log is the list of grant timestamps (µs, newest
 * first, at most `max` entries). A request of cost `c` is allowed when fewer than `max - c + 1`
 * grants lie inside the window `(now - window, now]`, i.e. when the log entry at index `max - c`
 * (0-based, newest first) is missing or already outside the window. That entry also tells the exact
 * refusal wait: it leaves the window at `entry + window`. So at most `max` grants ever fall in any
 * half-open interval of length `window`, bursts up to `max` are allowed, and there is no 2x burst at
 * the edge of a fixed window. Why not GCRA: see docs/RATE_LIMITING.md.
 */

export interface WindowLimit {
  /** Requests allowed in any window of `windowMs`. Positive integer. */
  max: number;
  /** Positive integer, milliseconds. */
  windowMs: number;
}

/** What Redis holds for one (account, tenant) pair, in microseconds of the Redis clock. */
export interface LimiterState {
  /** Grant timestamps of the traffic account, newest first, at most `max` entries. */
  account: number[];
  /** Grant timestamps of the tenant, newest first, at most `max` entries. */
  tenant: number[];
  /** Provider pushback: the account is blocked until this instant (µs), or null. */
  pushbackUntilUs: number | null;
}

export interface AcquireInput {
  /** Redis `TIME` in microseconds. */
  nowUs: number;
  cost: number;
  account: WindowLimit;
  tenant: WindowLimit;
}

export interface AcquireResult {
  decision: RateLimitDecision;
  /** The state after the call: both logs charged when granted, the input state untouched when not. */
  state: LimiterState;
}

/** A limit or cost as the scripts expect it: a finite positive integer (anything else becomes 1). */
export function positiveInt(n: number): number {
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
}

/** How long (µs) until a request of cost `c` fits in this key's window; 0 when it fits now. */
export function keyWaitUs(log: readonly number[], limit: WindowLimit, cost: number, nowUs: number): number {
  const c = Math.min(cost, limit.max);
  const entry = log[limit.max - c];
  if (entry === undefined) return 0;
  const wait = entry + limit.windowMs * 1000 - nowUs;
  return wait > 0 ? wait : 0;
}

/** Charge `cost` (capped at `max`) grants at `nowUs` to one log: LPUSH + LTRIM 0 max-1. */
export function charge(log: readonly number[], limit: WindowLimit, cost: number, nowUs: number): number[] {
  const c = Math.min(cost, limit.max);
  return [...Array<number>(c).fill(nowUs), ...log].slice(0, limit.max);
}

/** One `acquire`: check pushback, the account key and the tenant key; charge both logs or neither. */
export function decide(state: LimiterState, input: AcquireInput): AcquireResult {
  const { cost, account, tenant } = input;
  // Never let "now" run behind the newest grant already logged (Redis clock stepped back, failover
  // to a host with a slower clock): keeps each log sorted and every wait <= its window.
  let now = input.nowUs;
  if (state.account.length > 0 && state.account[0] > now) now = state.account[0];
  if (state.tenant.length > 0 && state.tenant[0] > now) now = state.tenant[0];

  const pushWait = state.pushbackUntilUs !== null && state.pushbackUntilUs > now ? state.pushbackUntilUs - now : 0;
  const accountWait = keyWaitUs(state.account, account, cost, now);
  const tenantWait = keyWaitUs(state.tenant, tenant, cost, now);

  // The binding limit is the one that frees up last; ties go to pushback, then account.
  let wait = pushWait;
  let scope: RateLimitDecision['scope'] = 'pushback';
  if (accountWait > wait) {
    wait = accountWait;
    scope = 'account';
  }
  if (tenantWait > wait) {
    wait = tenantWait;
    scope = 'tenant';
  }
  if (wait > 0) return { decision: { granted: false, waitMs: Math.ceil(wait / 1000), scope }, state };

  return {
    decision: { granted: true, waitMs: 0 },
    state: {
      account: charge(state.account, account, cost, now),
      tenant: charge(state.tenant, tenant, cost, now),
      pushbackUntilUs: state.pushbackUntilUs,
    },
  };
}

/** `pushback(ms)`: block until `now + ms`, or keep a later block already in force. */
export function applyPushback(untilUs: number | null, nowUs: number, ms: number): number {
  const proposed = nowUs + Math.ceil(ms) * 1000;
  return untilUs !== null && untilUs > proposed ? untilUs : proposed;
}

/** What a send needs from the rate limiter (see rate-limiter.service.ts and docs/RATE_LIMITING.md). */
export interface RateLimitKeys {
  /** Our `traffic_accounts.id` (not Mitto's id of the account, `mittoTrafficAccountId`). */
  trafficAccountId: string;
  /** Requests per window for this account (DB override or RATE_LIMIT_TRAFFIC_ACCOUNT_MAX). */
  accountMax: number;
  accountWindowMs: number;
  tenantId: string;
  tenantMax: number;
  tenantWindowMs: number;
}

export interface RateLimitDecision {
  /** True when both keys were charged; false when neither was (wait `waitMs`, then try again). */
  granted: boolean;
  waitMs: number;
  /** Which limit refused: the account's, the tenant's, or provider pushback after a 429. */
  scope?: 'account' | 'tenant' | 'pushback';
  /** A grant as the logs hold it (absent when the limiter failed open): what `release` gives back. */
  stamp?: string;
  /** `Date.now()` when the granting request left for Redis: the grant happened after it. */
  askedAt?: number;
}

import type { AppConfig } from '../config/app.config.js';
import type { RateLimitKeys } from '../rate-limiting/rate-limiter.types.js';

/** The columns a Mitto call needs about its traffic account and tenant (see the queries using it). */
export interface AccountRow {
  account_id: string;
  api_key: string | null;
  account_rps: number | null;
  tenant_id: string;
  tenant_rps: number | null;
}

/**
 * The API key and rate-limit keys for calls on behalf of one tenant and traffic account: DB overrides
 * (requests per second) win over the configured defaults. Sends, status lookups and reconciliation
 * all build them here, so they draw on one shared budget.
 */
export function accountCredentials(
  row: AccountRow,
  rateLimits: AppConfig['rateLimits'],
  defaultApiKey: string | undefined,
): { apiKey: string | undefined; limits: RateLimitKeys } {
  return {
    apiKey: row.api_key ?? defaultApiKey,
    limits: {
      trafficAccountId: row.account_id,
      accountMax: row.account_rps ?? rateLimits.trafficAccount.max,
      accountWindowMs: row.account_rps ? 1000 : rateLimits.trafficAccount.windowMs,
      tenantId: row.tenant_id,
      tenantMax: row.tenant_rps ?? rateLimits.tenant.max,
      tenantWindowMs: row.tenant_rps ? 1000 : rateLimits.tenant.windowMs,
    },
  };
}

import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import type { RateLimitKeys } from '../rate-limiting/rate-limiter.types.js';
import { accountCredentials } from '../mitto/traffic-account-credentials.js';
import { CampaignsRepository } from '../campaigns/campaigns.repository.js';

/** What a status lookup needs for one campaign: the account's API key and its rate-limit keys. */
export interface LookupAccount {
  apiKey: string;
  limits: RateLimitKeys;
}

/**
 * API keys and rate-limit keys of the traffic accounts of some campaigns (`accountCredentials`, as
 * for sends), so lookups and sends share one budget.
 */
@Injectable()
export class TrafficAccountsLookup {
  private readonly logger = new Logger(TrafficAccountsLookup.name);

  constructor(
    private readonly campaigns: CampaignsRepository,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async forCampaigns(campaignIds: string[]): Promise<Map<string, LookupAccount>> {
    const out = new Map<string, LookupAccount>();
    if (campaignIds.length === 0) return out;
    const rows = await this.campaigns.accounts(campaignIds);
    const rateLimits = this.config.get('rateLimits', { infer: true });
    const fallbackKey = this.config.get('mitto', { infer: true }).defaultApiKey;
    for (const row of rows) {
      const { apiKey, limits } = accountCredentials(row, rateLimits, fallbackKey);
      if (!apiKey) {
        this.logger.error({ campaignId: row.id }, 'traffic account has no API key and MITTO_API_KEY is not set');
        continue;
      }
      out.set(row.id, { apiKey, limits });
    }
    return out;
  }
}

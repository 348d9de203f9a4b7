import { Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { InjectRedis } from '../redis/redis.module.js';
import { CampaignsService } from '../campaigns/campaigns.service.js';
import { CampaignMessagesRepository } from '../campaigns/campaign-messages.repository.js';
import { StatusLookupService, askedPrefix, type LookupSummary, type LookupTarget } from './status-lookup.service.js';
import { TrafficAccountsLookup } from './traffic-accounts.lookup.js';
import type { RefreshStatusView } from './dto/status.dto.js';

const CONCURRENCY = 8;
const MAX_PERMIT_WAIT_MS = 10_000;
const CURSOR_TTL_SECONDS = 3600;

/**
 * `POST /api/campaigns/:id/refresh-status`: asks Mitto about up to `limit` of the campaign's
 * unsettled messages, continuing where the previous call stopped (wrapping around at the end).
 */
@Injectable()
export class StatusRefreshService {
  private readonly logger = new Logger(StatusRefreshService.name);
  private readonly keyPrefix: string;

  constructor(
    private readonly messageRows: CampaignMessagesRepository,
    private readonly campaigns: CampaignsService,
    private readonly lookups: StatusLookupService,
    private readonly accounts: TrafficAccountsLookup,
    @InjectRedis() private readonly redis: Redis,
    config: ConfigService<AppConfig, true>,
  ) {
    this.keyPrefix = `${config.get('redis', { infer: true }).queuePrefix}:refresh-cursor:`;
  }

  /** Where the next refresh of a campaign continues (its last looked-up seq), so repeated calls cover everything. */
  private cursorKey(campaignId: string): string {
    return this.keyPrefix + campaignId;
  }

  async refresh(tenantId: string, campaignId: string, limit: number): Promise<RefreshStatusView> {
    const campaign = await this.campaigns.find(tenantId, campaignId);
    const eligible = await this.messageRows.lookupEligible(campaign.id);
    let summary: LookupSummary = { attempted: 0, asked: new Uint8Array(0), checked: 0, updated: 0, notFound: 0, errors: 0 };
    if (eligible > 0) {
      const cursor = await this.readCursor(campaign.id);
      const targets = await this.targets(campaign.id, cursor, limit);
      summary = await this.lookups.lookUp(targets, await this.accounts.forCampaigns([campaign.id]), {
        concurrency: CONCURRENCY,
        maxPermitWaitMs: MAX_PERMIT_WAIT_MS,
      });
      // Past the targets all asked, never past one that was not (lookups run concurrently).
      const asked = askedPrefix(summary.asked);
      const done = asked >= targets.length && targets.length < limit;
      await this.saveCursor(campaign.id, done ? undefined : targets[asked - 1]?.seq ?? cursor);
    }
    const { metrics } = await this.campaigns.status(tenantId, campaign.id);
    return {
      checked: summary.checked,
      updated: summary.updated,
      notFound: summary.notFound,
      errors: summary.errors,
      remaining: Math.max(0, eligible - summary.attempted),
      metrics,
    };
  }

  /** Up to `limit` eligible messages after the cursor, then from the start (wrap-around). */
  private async targets(campaignId: string, cursor: number, limit: number): Promise<Array<LookupTarget & { seq: number }>> {
    const rows = await this.messageRows.lookupTargets(campaignId, cursor, limit, false);
    if (rows.length < limit && cursor >= 0) rows.push(...(await this.messageRows.lookupTargets(campaignId, cursor, limit - rows.length, true)));
    return rows;
  }

  private async readCursor(campaignId: string): Promise<number> {
    try {
      const value = await this.redis.get(this.cursorKey(campaignId));
      return value !== null && /^\d+$/.test(value) ? Number(value) : -1;
    } catch {
      return -1;
    }
  }

  private async saveCursor(campaignId: string, seq: number | undefined): Promise<void> {
    try {
      if (seq === undefined || seq < 0) await this.redis.del(this.cursorKey(campaignId));
      else await this.redis.set(this.cursorKey(campaignId), String(seq), 'EX', CURSOR_TTL_SECONDS);
    } catch (e) {
      this.logger.warn({ err: e, campaignId }, 'refresh cursor not saved; the next refresh starts over');
    }
  }
}

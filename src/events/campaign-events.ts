import { Injectable } from '@nestjs/common';
import { InjectRedis } from '../redis/redis.module.js';
import type { RedisClient } from '../redis/redis-clients.js';

/** Redis channel on which any process announces "campaign X changed" (payload: the campaign id). */
export const CAMPAIGN_EVENTS_CHANNEL = 'bulk-sms:campaign-changed';

/**
 * Announces campaign changes across processes (a worker's batch, a webhook, a pause). Listeners
 * (the SSE stream) re-read the campaign from PostgreSQL, so a lost announcement only delays an update.
 */
@Injectable()
export class CampaignEvents {
  constructor(@InjectRedis() private readonly redis: RedisClient) {}

  changed(campaignId: string): void {
    this.redis.publish(CAMPAIGN_EVENTS_CHANNEL, campaignId).catch(() => undefined);
  }
}

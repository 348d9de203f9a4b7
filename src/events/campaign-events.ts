import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectRedis } from '../redis/redis.module.js';
import type { RedisClient } from '../redis/redis-clients.js';

/** Redis channel on which any process announces "campaign X changed" (payload: the campaign id). */
export const CAMPAIGN_EVENTS_CHANNEL = 'bulk-sms:campaign-changed';

/** Announcements of one campaign go out at most this often per process (the last one always does). */
const MIN_INTERVAL_MS = 100;

/**
 * Announces campaign changes across processes (a worker's batch, a webhook, a pause). Listeners
 * (the SSE stream) re-read the campaign from PostgreSQL, so a lost announcement only delays an update.
 * A campaign sending a hundred batches a second would announce a hundred times a second; the listeners
 * re-read at most every 250 ms anyway, so announcements of one campaign are throttled here: the first
 * goes out at once, and any made within the next 100 ms collapse into one at the end of it.
 */
@Injectable()
export class CampaignEvents implements OnModuleDestroy {
  private readonly windows = new Map<string, { timer: NodeJS.Timeout; again: boolean }>();

  constructor(@InjectRedis() private readonly redis: RedisClient) {}

  changed(campaignId: string): void {
    const open = this.windows.get(campaignId);
    if (open) {
      open.again = true;
      return;
    }
    this.publish(campaignId);
    this.openWindow(campaignId);
  }

  onModuleDestroy(): void {
    for (const [campaignId, w] of this.windows) {
      clearTimeout(w.timer);
      if (w.again) this.publish(campaignId);
    }
    this.windows.clear();
  }

  private openWindow(campaignId: string): void {
    const window = {
      again: false,
      timer: setTimeout(() => {
        this.windows.delete(campaignId);
        if (window.again) {
          this.publish(campaignId);
          this.openWindow(campaignId);
        }
      }, MIN_INTERVAL_MS),
    };
    window.timer.unref();
    this.windows.set(campaignId, window);
  }

  private publish(campaignId: string): void {
    this.redis.publish(CAMPAIGN_EVENTS_CHANNEL, campaignId).catch(() => undefined);
  }
}

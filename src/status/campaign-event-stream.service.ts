import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import { CampaignsService } from '../campaigns/campaigns.service.js';
import { isTerminal } from '../campaigns/campaign-state.js';
import type { CampaignStatusView } from '../campaigns/dto/campaign.dto.js';
import { CampaignEventsHub } from './campaign-events.hub.js';
import { Coalescer } from './coalescer.js';

/** Re-reads of one stream's campaign are at most this frequent, however many announcements arrive. */
const MIN_READ_INTERVAL_MS = 250;
/** A comment line keeps proxies from closing an idle stream; each beat also re-reads (covers lost announcements). */
const HEARTBEAT_MS = 15_000;
/** Browser EventSource reconnect delay. */
const RETRY_MS = 3_000;

/**
 * `GET /api/campaigns/:id/events` (text/event-stream):
 *   event: status  data: { campaign, metrics, progress, creditsReserved }   on connect and on every change
 *   event: end     data: the same, once the campaign is completed/failed/cancelled; then the stream closes
 *   `: heartbeat` comment every 15 s.
 */
@Injectable()
export class CampaignEventStreamService implements OnModuleDestroy {
  private readonly logger = new Logger(CampaignEventStreamService.name);
  private readonly open = new Set<() => void>();

  constructor(
    private readonly campaigns: CampaignsService,
    private readonly hub: CampaignEventsHub,
  ) {}

  get openStreams(): number {
    return this.open.size;
  }

  async stream(tenantId: string, campaignId: string, res: Response): Promise<void> {
    await this.campaigns.find(tenantId, campaignId); // 404 before any byte of the stream
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.write(`retry: ${RETRY_MS}\n\n`);

    let last = '';
    let sequence = 0;
    let closed = false;
    const send = (event: 'status' | 'end', payload: string) => {
      res.write(`event: ${event}\nid: ${++sequence}\ndata: ${payload}\n\n`);
    };
    const read = async (): Promise<void> => {
      if (closed) return;
      let view: CampaignStatusView;
      try {
        view = await this.campaigns.status(tenantId, campaignId);
      } catch (e) {
        this.logger.warn({ err: e, campaignId }, 'campaign status read failed; next announcement retries');
        return;
      }
      if (closed) return;
      const payload = JSON.stringify(view);
      if (isTerminal(view.campaign.status)) {
        if (payload !== last) send('status', payload);
        send('end', payload);
        close();
        return;
      }
      if (payload !== last) {
        last = payload;
        send('status', payload);
      }
    };
    const reads = new Coalescer(read, MIN_READ_INTERVAL_MS);
    const heartbeat = setInterval(() => {
      res.write(': heartbeat\n\n');
      reads.trigger();
    }, HEARTBEAT_MS);
    const subscription: { unsubscribe?: () => void } = {};
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      reads.stop();
      subscription.unsubscribe?.();
      this.open.delete(close);
      if (!res.writableEnded) res.end();
    };
    this.open.add(close);
    res.on('close', close);

    // Subscribe before the first read, so a change between the two is never missed.
    const unsubscribe = await this.hub.listen(campaignId, () => reads.trigger());
    if (closed) unsubscribe();
    else {
      subscription.unsubscribe = unsubscribe;
      reads.trigger();
    }
  }

  /** Ends open streams on shutdown; otherwise the HTTP server would wait for them forever. */
  onModuleDestroy(): void {
    for (const close of [...this.open]) close();
  }
}

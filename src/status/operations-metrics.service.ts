import { Injectable, Logger } from '@nestjs/common';
import { MESSAGE_STATUSES } from '../campaigns/campaign-message.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { BatchQueue } from '../queues/batch.queue.js';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { usesBulk } from '../tenants/bulk-sending.js';
import { CampaignsRepository } from '../campaigns/campaigns.repository.js';

/** A scrape never waits longer than this for one source; the gauge keeps its previous value. */
const SOURCE_TIMEOUT_MS = 2_000;

/** Serves `GET /metrics`: refreshes the shared-state gauges, then renders the registry. */
@Injectable()
export class OperationsMetricsService {
  private readonly logger = new Logger(OperationsMetricsService.name);

  constructor(
    private readonly metrics: MetricsService,
    private readonly campaigns: CampaignsRepository,
    private readonly batches: BatchQueue,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  get contentType(): string {
    return this.metrics.registry.contentType;
  }

  async scrape(): Promise<string> {
    await Promise.all([
      this.refresh('messages', () => this.messagesByStatus()),
      this.refresh('queue', () => this.queueDepth()),
      this.refresh('modes', () => this.sendModes()),
    ]);
    return this.metrics.registry.metrics();
  }

  /** Messages of active (sending, paused) campaigns by status, from the counters (no COUNT(*)). */
  private async messagesByStatus(): Promise<void> {
    const rows = await this.campaigns.activeMessagesByStatus();
    const byStatus = new Map(rows.map((r) => [r.status, Number(r.messages)]));
    for (const status of MESSAGE_STATUSES) this.metrics.messagesByStatus.set({ status }, byStatus.get(status) ?? 0);
  }

  /** The flow each sending campaign's next batches use (a rollout is watched campaign by campaign). */
  private async sendModes(): Promise<void> {
    const rows = await this.campaigns.sendingWithBulkSetting();
    const useBulk = this.config.get('sending', { infer: true }).useBulk;
    this.metrics.campaignSendMode.reset();
    for (const r of rows) {
      this.metrics.campaignSendMode.set({ campaign_id: r.id, tenant_id: r.tenant_id, mode: usesBulk(r.bulk_sending, useBulk) ? 'bulk' : 'single' }, 1);
    }
  }

  private async queueDepth(): Promise<void> {
    const counts = await this.batches.depth();
    for (const [state, n] of Object.entries(counts)) this.metrics.queueDepth.set({ state }, n);
  }

  private async refresh(source: string, fn: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), SOURCE_TIMEOUT_MS))),
      ]);
    } catch (e) {
      this.logger.warn({ err: e, source }, 'metrics source unavailable; gauges keep their last value');
    } finally {
      clearTimeout(timer);
    }
  }
}

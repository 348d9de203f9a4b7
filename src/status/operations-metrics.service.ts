import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MESSAGE_STATUSES } from '../campaigns/campaign-message.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { BatchQueue } from '../queues/batch.queue.js';

/** A scrape never waits longer than this for one source; the gauge keeps its previous value. */
const SOURCE_TIMEOUT_MS = 2_000;

/** Serves `GET /metrics`: refreshes the shared-state gauges, then renders the registry. */
@Injectable()
export class OperationsMetricsService {
  private readonly logger = new Logger(OperationsMetricsService.name);

  constructor(
    private readonly metrics: MetricsService,
    private readonly db: DataSource,
    private readonly batches: BatchQueue,
  ) {}

  get contentType(): string {
    return this.metrics.registry.contentType;
  }

  async scrape(): Promise<string> {
    await Promise.all([
      this.refresh('messages', () => this.messagesByStatus()),
      this.refresh('queue', () => this.queueDepth()),
    ]);
    return this.metrics.registry.metrics();
  }

  /** Messages of active (sending, paused) campaigns by status, from the counters (no COUNT(*)). */
  private async messagesByStatus(): Promise<void> {
    const rows: Array<{ status: string; messages: string }> = await this.db.query(
      `SELECT k.status, sum(k.messages)::bigint AS messages
         FROM campaign_message_counts k JOIN campaigns c ON c.id = k.campaign_id
        WHERE c.status IN ('sending', 'paused')
        GROUP BY k.status`,
    );
    const byStatus = new Map(rows.map((r) => [r.status, Number(r.messages)]));
    for (const status of MESSAGE_STATUSES) this.metrics.messagesByStatus.set({ status }, byStatus.get(status) ?? 0);
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

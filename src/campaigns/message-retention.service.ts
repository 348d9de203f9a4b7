import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { MessageRetentionRepository } from './message-retention.repository.js';
import { purgeDueMessages, type PurgeRun, type PurgeSettings } from './message-purge.js';

/**
 * Message retention: deletes the per-message rows of campaigns settled more than MESSAGE_RETENTION_DAYS
 * ago, a bounded amount per run (the `purge-messages` job of the campaign-control queue, every
 * SWEEPER_INTERVAL_MS). The campaign, its metrics and the credit ledger stay.
 */
@Injectable()
export class MessageRetentionService {
  private readonly logger = new Logger(MessageRetentionService.name);

  constructor(
    private readonly repository: MessageRetentionRepository,
    private readonly metrics: MetricsService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  get settings(): PurgeSettings {
    return this.config.get('retention', { infer: true });
  }

  /** One run; `settings` defaults to the configuration (a test passes its own). */
  async purge(settings: PurgeSettings = this.settings): Promise<PurgeRun> {
    const run = await purgeDueMessages(this.repository, settings);
    this.metrics.messagesPurged.inc(run.messages);
    if (run.messages + run.batches > 0 || run.finished.length > 0) {
      this.logger.log({ messages: run.messages, batches: run.batches, campaignsFinished: run.finished.length }, 'message retention: rows deleted');
    }
    return run;
  }
}

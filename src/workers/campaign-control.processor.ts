import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { CampaignLifecycleService } from '../campaigns/campaign-lifecycle.service.js';
import { CampaignControlQueue } from '../queues/campaign-control.queue.js';
import { JOB, QUEUES, type CampaignControlJob } from '../queues/queue-names.js';
import { CampaignDispatcherService } from '../messaging/campaign-dispatcher.service.js';
import { RecoverySweeperService } from '../messaging/recovery-sweeper.service.js';
import { ReconciliationService } from '../status/reconciliation.service.js';
import { MessageRetentionService } from '../campaigns/message-retention.service.js';
import { closeWorker } from '../queues/close-worker.js';

/** Worker of campaign-level jobs: dispatching batches, scheduled starts, the recovery sweep and the message purge. */
@Processor(QUEUES.campaigns, { concurrency: 4 })
export class CampaignControlProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CampaignControlProcessor.name);
  constructor(
    private readonly dispatcher: CampaignDispatcherService,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly sweeper: RecoverySweeperService,
    private readonly reconciliation: ReconciliationService,
    private readonly retention: MessageRetentionService,
    private readonly control: CampaignControlQueue,
    private readonly config: ConfigService<AppConfig, true>,
  ) {
    super();
  }

  private schedulerTimer?: NodeJS.Timeout;

  /**
   * Registers the job schedulers of the sweep and of the message purge (same period; the purge only while
   * MESSAGE_RETENTION_DAYS > 0), and re-registers them every interval (idempotent upserts): if Redis lost
   * its data, the schedulers themselves are gone, and the sweep is what rebuilds everything else.
   */
  async onApplicationBootstrap(): Promise<void> {
    const every = this.config.get('recovery', { infer: true }).sweeperIntervalMs;
    const purgeEvery = this.retention.settings.retentionDays > 0 ? every : null;
    await this.control.ensureSweeper(every);
    await this.control.ensureMessagePurge(purgeEvery);
    this.schedulerTimer = setInterval(() => {
      this.control.ensureSweeper(every).catch((e: unknown) => this.logger.warn({ err: e instanceof Error ? e.message : e }, 'could not register the sweep'));
      if (purgeEvery === null) return;
      this.control.ensureMessagePurge(purgeEvery).catch((e: unknown) => this.logger.warn({ err: e instanceof Error ? e.message : e }, 'could not register the message purge'));
    }, every);
    this.schedulerTimer.unref();
  }

  /**
   * Stop taking jobs first on shutdown; a dispatch in progress gets 5 s to finish (one cut short is
   * continued by the sweep from its watermark).
   */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.schedulerTimer);
    await closeWorker(this.worker, this.logger, { graceMs: 5_000 });
  }

  async process(job: CampaignControlJob): Promise<unknown> {
    const name: string = job.name;
    switch (job.name) {
      case JOB.dispatch:
        return this.dispatcher.dispatch(job.data);
      case JOB.startScheduled:
        return this.lifecycle.startScheduled(job.data.campaignId, job.data.scheduledAt);
      case JOB.sweep:
        // Recovery first (lost jobs, stuck claims), then ask Mitto about sent messages with no report.
        await this.sweeper.sweep();
        return this.reconciliation.reconcile();
      case JOB.purgeMessages:
        return this.retention.purge();
      default:
        // Compile time: every job name of the queue has a case. Run time: a job added by a newer version.
        job satisfies never;
        throw new Error(`No handler for job ${name} on ${QUEUES.campaigns}`);
    }
  }

  /** Connection trouble of the worker itself (Redis away, a cluster master down): logged, never fatal. */
  @OnWorkerEvent('error')
  onWorkerError(err: Error): void {
    this.logger.warn({ err: err.message }, 'queue worker error');
  }
}

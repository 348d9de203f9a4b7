import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { ConfigService } from '@nestjs/config';
import { DelayedError, type Job } from 'bullmq';
import type { AppConfig } from '../config/app.config.js';
import { QUEUES, type SendBatchJob } from '../queues/queue-names.js';
import { BatchSendingService } from '../messaging/batch-sending.service.js';
import { BatchDeferred, type BatchRun } from '../messaging/batch-run.js';
import { closeWorker } from '../queues/close-worker.js';
import { preloadRecipientZones } from '../guard-rails/recipient-zone.js';

/** At shutdown: how long batches in flight get to finish their Mitto call, then how long the worker gets to close. */
const WORKER_CLOSE_MS = 15_000;
const WORKER_CLOSE_AFTER_DRAIN_MS = 3_000;

/**
 * BullMQ worker of the batch queue. A deferred batch (rate limit, a lease held by another worker,
 * progress made before Mitto refused a call, shutdown) goes back to `delayed` for exactly the time named,
 * without using a retry attempt; other failures retry with exponential backoff. A job that fails for good
 * is not the end of its batch: the recovery sweep finds the batch in PostgreSQL and gives it a fresh job.
 */
@Processor(QUEUES.batches, { autorun: false, maxStalledCount: 3 })
export class SmsBatchProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SmsBatchProcessor.name);

  constructor(
    private readonly sending: BatchSendingService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // Send windows look recipients' zones up by number: decode the prefix table now, not in a batch.
    void preloadRecipientZones().catch((e: unknown) => this.logger.warn({ err: e instanceof Error ? e.message : e }, 'recipient zones not preloaded'));
    const { workerConcurrency } = this.config.get('sending', { infer: true });
    const { queue } = this.config.get('rateLimits', { infer: true });
    this.worker.concurrency = workerConcurrency;
    this.worker.opts.limiter = { max: queue.max, duration: queue.durationMs };
    void this.worker.run();
  }

  /**
   * First step of shutdown (SIGTERM): batches in flight stop before their next Mitto call and hand their
   * lease back, and the worker waits for them while PostgreSQL connections are still open (they close
   * later, on app shutdown). A stopped batch is picked up by another worker at once, not after its lease.
   */
  async onModuleDestroy(): Promise<void> {
    this.sending.stop();
    await closeWorker(this.worker, this.logger, { until: this.sending.drain(WORKER_CLOSE_MS), graceMs: WORKER_CLOSE_AFTER_DRAIN_MS });
  }

  async process(job: Job<SendBatchJob>, token?: string): Promise<BatchRun> {
    const attempts = job.opts.attempts ?? 1;
    try {
      return await this.sending.run(job.data, { attempt: job.attemptsMade, isLastAttempt: job.attemptsMade + 1 >= attempts });
    } catch (e) {
      if (e instanceof BatchDeferred) {
        await job.moveToDelayed(Date.now() + Math.max(1, e.waitMs), token);
        throw new DelayedError();
      }
      this.logger.warn({ jobId: job.id, attempt: job.attemptsMade + 1, err: e instanceof Error ? e.message : e }, 'batch attempt failed');
      throw e;
    }
  }

  /** Connection trouble of the worker itself (Redis away, a cluster master down): logged, never fatal. */
  @OnWorkerEvent('error')
  onWorkerError(err: Error): void {
    this.logger.warn({ err: err.message }, 'queue worker error');
  }
}

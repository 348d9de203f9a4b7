import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { ConfigService } from '@nestjs/config';
import { DelayedError, type Job } from 'bullmq';
import type { AppConfig } from '../config/app.config.js';
import { QUEUES, type SendBatchJob } from '../queues/queue-names.js';
import { BatchSendingService, BatchThrottled } from './batch-sending.service.js';

/**
 * BullMQ worker of the batch queue. Rate-limited batches go back to `delayed` for exactly the time
 * the limiter names, without using a retry attempt; other failures retry with exponential backoff.
 * Concurrency and the queue-wide limiter come from config (set before the worker starts).
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
    const { workerConcurrency } = this.config.get('sending', { infer: true });
    const { queue } = this.config.get('rateLimits', { infer: true });
    this.worker.concurrency = workerConcurrency;
    this.worker.opts.limiter = { max: queue.max, duration: queue.durationMs };
    void this.worker.run();
  }

  /**
   * First step of shutdown (SIGTERM): stop taking jobs and wait for the batches in flight to write
   * their results, while PostgreSQL connections are still open (they close later, on app shutdown).
   */
  async onModuleDestroy(): Promise<void> {
    await this.worker.close();
  }

  async process(job: Job<SendBatchJob>, token?: string): Promise<{ sent: number; claimed: number }> {
    const attempts = job.opts.attempts ?? 1;
    try {
      return await this.sending.run(job.data, { attempt: job.attemptsMade, isLastAttempt: job.attemptsMade + 1 >= attempts });
    } catch (e) {
      if (e instanceof BatchThrottled) {
        await job.moveToDelayed(Date.now() + Math.max(1, e.waitMs), token);
        throw new DelayedError();
      }
      this.logger.warn({ jobId: job.id, attempt: job.attemptsMade + 1, err: e instanceof Error ? e.message : e }, 'batch attempt failed');
      throw e;
    }
  }
}

import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { ConfigService } from '@nestjs/config';
import type { JobsOptions, Queue } from 'bullmq';
import type { AppConfig } from '../config/app.config.js';
import { JOB, QUEUES, jobIds, type SendBatchJob } from './queue-names.js';

/**
 * BullMQ priority is used for fairness between campaigns: batch k of every campaign has priority k,
 * so a campaign started later interleaves with a large one instead of waiting behind it.
 */
const MAX_PRIORITY = 2_097_151;

/** Producer of batch jobs: the only code that adds to the `sms-batches` queue. */
@Injectable()
export class BatchQueue {
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(
    @InjectQueue(QUEUES.batches) private readonly queue: Queue<SendBatchJob>,
    config: ConfigService<AppConfig, true>,
  ) {
    const sending = config.get('sending', { infer: true });
    // QUEUE_ATTEMPTS counts retries after the first try: 5 retries = the seed's 3, 6, 12, 24, 48 s.
    this.attempts = sending.retries + 1;
    this.backoffMs = sending.backoffMs;
  }

  /**
   * Which of these jobs BullMQ will still run: waiting, prioritized or delayed — or active, unless
   * `activeIsDead` (the batch's lease ran out, so an active job is its dead holder's and only BullMQ's
   * stall check, up to its lock duration plus its stall interval later, would free it), or unless it has
   * been active longer than `activeDeadAfterMs` (a worker took the job and never leased the batch: it
   * died between the two). A missing, failed or completed job is not live: recovery gives its batch a
   * fresh job (next round).
   */
  async live(jobs: Array<SendBatchJob & { activeIsDead?: boolean; activeDeadAfterMs?: number }>): Promise<boolean[]> {
    return Promise.all(jobs.map(async (j) => {
      const id = jobIds.batch(j);
      const state = await this.queue.getJobState(id);
      if (state === 'waiting' || state === 'prioritized' || state === 'delayed' || state === 'waiting-children') return true;
      if (state !== 'active' || j.activeIsDead) return false;
      if (j.activeDeadAfterMs === undefined) return true;
      // processedOn: when a worker took it (that worker's clock); a job gone meanwhile is not live either.
      const processedOn = (await this.queue.getJob(id))?.processedOn;
      return processedOn !== undefined && processedOn > Date.now() - j.activeDeadAfterMs;
    }));
  }

  /** Adds jobs; a job whose id still exists in Redis is left as it is (BullMQ dedups by id). */
  async add(jobs: SendBatchJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((data) => ({ name: JOB.sendBatch, data, opts: this.options(data) })));
  }

  private options(job: SendBatchJob): JobsOptions {
    return {
      jobId: jobIds.batch(job),
      priority: Math.min(job.batch + 1, MAX_PRIORITY),
      attempts: this.attempts,
      backoff: { type: 'exponential', delay: this.backoffMs },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }

  /** Waiting + delayed + active + prioritized jobs: the queue depth metric. */
  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
  }
}

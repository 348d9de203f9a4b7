import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { JOB, QUEUES, jobIds, type DispatchCampaignJob, type StartScheduledJob } from './queue-names.js';

const PURGE_SCHEDULER = 'message-purge';
const common = { removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 10, backoff: { type: 'exponential', delay: 1000 } };

/** Producer of campaign-level jobs: dispatching batches, scheduled starts, the recovery sweep, the message purge. */
@Injectable()
export class CampaignControlQueue {
  constructor(@InjectQueue(QUEUES.campaigns) private readonly queue: Queue) {}

  async dispatch(job: DispatchCampaignJob): Promise<void> {
    await this.queue.add(JOB.dispatch, job, { ...common, jobId: jobIds.dispatch(job) });
  }

  async scheduleStart(job: StartScheduledJob): Promise<void> {
    const delay = Math.max(0, Date.parse(job.scheduledAt) - Date.now());
    await this.queue.add(JOB.startScheduled, job, { ...common, jobId: jobIds.startScheduled(job), delay });
  }

  /** Removes a pending scheduled start (reschedule or cancel). A missing job is fine. */
  async unschedule(job: StartScheduledJob): Promise<void> {
    await this.queue.remove(jobIds.startScheduled(job)).catch(() => 0);
  }

  /** The periodic recovery sweep; one scheduler for the whole deployment, whatever the replicas. */
  async ensureSweeper(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler('recovery-sweep', { every: everyMs }, { name: JOB.sweep, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }

  /** The message purge (retention), one scheduler for the deployment; removed while retention is off. */
  async ensureMessagePurge(everyMs: number | null): Promise<void> {
    if (everyMs === null) {
      await this.queue.removeJobScheduler(PURGE_SCHEDULER);
      return;
    }
    await this.queue.upsertJobScheduler(PURGE_SCHEDULER, { every: everyMs }, { name: JOB.purgeMessages, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }
}

import type { Job } from 'bullmq';

/**
 * Every queue, job name and job payload, in one file so processors need no casts and producers
 * build job ids in one way. Job ids are deterministic: adding a job that still exists is a no-op.
 */
export const QUEUES = {
  /** One job per batch of a campaign: lease -> Mitto call(s) -> outcomes. */
  batches: 'sms-batches',
  /** Campaign-level work: dispatching batch jobs, scheduled starts, the recovery sweep, the message purge. */
  campaigns: 'campaign-control',
} as const;

export interface SendBatchJob {
  campaignId: string;
  /** Batch k covers message seq range [k * batchSize, (k + 1) * batchSize). */
  batch: number;
  /** The campaign's dispatch generation (bumped by every start and resume); an older job does nothing. */
  generation: number;
  /** The batch's job round: recovery hands a batch whose job failed for good or vanished to a fresh job. */
  round: number;
}

export interface DispatchCampaignJob {
  campaignId: string;
  generation: number;
  /** A second dispatch of the same generation (the batches a canary held back): its own job id. */
  round?: string;
}

export interface StartScheduledJob {
  campaignId: string;
  /** The schedule this job was created for; a stale job (rescheduled since) does nothing. */
  scheduledAt: string;
}

export const JOB = {
  sendBatch: 'send-batch',
  dispatch: 'dispatch',
  startScheduled: 'start-scheduled',
  sweep: 'sweep',
  /** Message retention (MESSAGE_RETENTION_DAYS): one bounded run of the purge. */
  purgeMessages: 'purge-messages',
} as const;

/** A job of the campaign-control queue: its name says which payload it carries (the processor needs no cast). */
export type CampaignControlJob =
  | Job<DispatchCampaignJob, unknown, typeof JOB.dispatch>
  | Job<StartScheduledJob, unknown, typeof JOB.startScheduled>
  | Job<Record<string, never>, unknown, typeof JOB.sweep>
  | Job<Record<string, never>, unknown, typeof JOB.purgeMessages>;

export const jobIds = {
  batch: (j: SendBatchJob) => `batch_${j.campaignId}_${j.generation}_${j.batch}_${j.round}`,
  dispatch: (j: DispatchCampaignJob) => `dispatch_${j.campaignId}_${j.generation}${j.round ? `_${j.round}` : ''}`,
  startScheduled: (j: StartScheduledJob) => `schedule_${j.campaignId}_${Date.parse(j.scheduledAt)}`,
};

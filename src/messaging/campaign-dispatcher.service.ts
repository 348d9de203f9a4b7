import { Injectable } from '@nestjs/common';
import { BatchQueue } from '../queues/batch.queue.js';
import { CampaignLifecycleService } from '../campaigns/campaign-lifecycle.service.js';
import { CampaignBatchesRepository } from '../campaigns/campaign-batches.repository.js';
import { CampaignsRepository } from '../campaigns/campaigns.repository.js';
import type { DispatchCampaignJob, SendBatchJob } from '../queues/queue-names.js';

const CHUNK = 500;

/**
 * Hands a sending campaign's pending batches to BullMQ, one job per batch, in chunks of 500 in batch
 * order. `dispatched_batches` is the watermark (the next batch number to look at): after a crash the job,
 * or the sweep, resumes from it; re-adding a job that still exists is a no-op, and two jobs for one batch
 * are harmless (its lease lets one send), so nothing is lost and nothing is doubled.
 */
@Injectable()
export class CampaignDispatcherService {
  constructor(
    private readonly campaigns: CampaignsRepository,
    private readonly batchRows: CampaignBatchesRepository,
    private readonly batches: BatchQueue,
    private readonly lifecycle: CampaignLifecycleService,
  ) {}

  async dispatch(job: DispatchCampaignJob): Promise<number> {
    let added = 0;
    for (;;) {
      const c = await this.campaigns.dispatchState(job.campaignId);
      if (!c || c.status !== 'sending' || c.dispatch_generation !== job.generation) return added;
      // A pending canary: only the batches holding canary messages go out; its pass dispatches the rest.
      const end: number = c.canary_state === 'pending' ? Math.min(c.batch_count, Math.ceil(c.canary_until_seq / c.batch_size)) : c.batch_count;
      const from: number = c.dispatched_batches;
      if (from >= end) return added;
      const pending = (await this.batchRows.pendingFrom(job.campaignId, from, CHUNK)).filter((b) => b.batch < end);
      const jobs: SendBatchJob[] = pending.map((b) => ({ campaignId: job.campaignId, batch: b.batch, generation: job.generation, round: b.jobRound }));
      await this.batches.add(jobs);
      const to = pending.length < CHUNK ? end : pending[pending.length - 1].batch + 1;
      await this.campaigns.advanceDispatch(job.campaignId, job.generation, from, to);
      added += jobs.length;
      // Nothing pending at all (a resume after the last batch went out): the campaign may end now.
      if (from === 0 && pending.length === 0) await this.lifecycle.finishIfDone(job.campaignId);
      if (to >= end) return added;
    }
  }
}

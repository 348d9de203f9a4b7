import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { DataSource } from 'typeorm';
import { BatchQueue } from '../queues/batch.queue.js';
import type { DispatchCampaignJob, SendBatchJob } from '../queues/queue-names.js';

const CHUNK = 500;

/**
 * Hands a sending campaign's batches to BullMQ, one job per batch (deterministic ids), in chunks.
 * `dispatched_batches` is the watermark: after a crash the job (or the sweeper) resumes from it, and
 * re-adding a batch that still exists is a no-op, so nothing is lost and nothing is doubled.
 */
@Injectable()
export class CampaignDispatcherService {
  constructor(
    private readonly db: DataSource,
    private readonly batches: BatchQueue,
  ) {}

  async dispatch(job: DispatchCampaignJob): Promise<number> {
    let added = 0;
    for (;;) {
      const [c] = await queryRows(this.db,
        `SELECT status, batch_count, dispatched_batches, dispatch_generation FROM campaigns WHERE id = $1`,
        [job.campaignId],
      );
      if (!c || c.status !== 'sending' || c.dispatch_generation !== job.generation) return added;
      const from: number = c.dispatched_batches;
      const to = Math.min(from + CHUNK, c.batch_count);
      if (from >= to) return added;
      const jobs: SendBatchJob[] = [];
      for (let batch = from; batch < to; batch++) jobs.push({ campaignId: job.campaignId, batch, generation: job.generation });
      await this.batches.add(jobs);
      await queryRows(this.db,
        `UPDATE campaigns SET dispatched_batches = $3 WHERE id = $1 AND dispatch_generation = $2 AND dispatched_batches = $4`,
        [job.campaignId, job.generation, to, from],
      );
      added += jobs.length;
    }
  }
}

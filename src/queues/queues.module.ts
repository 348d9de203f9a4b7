import { Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { QUEUES } from './queue-names.js';
import { BatchQueue } from './batch.queue.js';
import { CampaignControlQueue } from './campaign-control.queue.js';

/** Registers the queues and the two producers, the only code that adds jobs. */
@Global()
@Module({
  imports: [BullModule.registerQueue({ name: QUEUES.batches }, { name: QUEUES.campaigns })],
  providers: [BatchQueue, CampaignControlQueue],
  exports: [BatchQueue, CampaignControlQueue, BullModule],
})
export class QueuesModule {}

import { Module } from '@nestjs/common';
import { CampaignsModule } from './campaigns/campaigns.module.js';
import { MessagingModule } from './messaging/messaging.module.js';
import { StatusModule } from './status/status.module.js';
import { SmsBatchProcessor } from './messaging/sms-batch.processor.js';
import { CampaignControlProcessor } from './messaging/campaign-control.processor.js';

/** What APP_ROLE=worker (or all) runs: the BullMQ processors. An API-only process never loads this. */
@Module({
  imports: [CampaignsModule, MessagingModule, StatusModule],
  providers: [SmsBatchProcessor, CampaignControlProcessor],
})
export class WorkersModule {}

import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { MessagingModule } from '../messaging/messaging.module.js';
import { StatusModule } from '../status/status.module.js';
import { SmsBatchProcessor } from './sms-batch.processor.js';
import { CampaignControlProcessor } from './campaign-control.processor.js';

/**
 * What APP_ROLE=worker (or all) runs: the BullMQ processors. An API-only process never loads this. The
 * processors sit above the feature modules they drive, so `messaging/` (sending) and `status/` (delivery
 * status) never import each other: the sweep job calls the one, then the other.
 */
@Module({
  imports: [CampaignsModule, MessagingModule, StatusModule],
  providers: [SmsBatchProcessor, CampaignControlProcessor],
})
export class WorkersModule {}

import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { MittoModule } from '../mitto/mitto.module.js';
import { RateLimitingModule } from '../rate-limiting/rate-limiting.module.js';
import { BulkSmsSender } from './bulk-sms.sender.js';
import { SingleSmsSender } from './single-sms.sender.js';
import { SenderSelector } from './sender-selector.js';
import { BatchSendingService } from './batch-sending.service.js';
import { CampaignDispatcherService } from './campaign-dispatcher.service.js';
import { RecoverySweeperService } from './recovery-sweeper.service.js';

/**
 * The two senders (SenderSelector picks one per batch; nothing else branches on the flag), batch sending,
 * dispatching and recovery. The processors that drive them live in workers/ (WorkersModule, per APP_ROLE).
 */
@Module({
  imports: [CampaignsModule, MittoModule, RateLimitingModule],
  providers: [
    BulkSmsSender,
    SingleSmsSender,
    SenderSelector,
    BatchSendingService,
    CampaignDispatcherService,
    RecoverySweeperService,
  ],
  exports: [BatchSendingService, CampaignDispatcherService, RecoverySweeperService, SenderSelector],
})
export class MessagingModule {}

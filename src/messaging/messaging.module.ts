import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { RateLimitingModule } from '../rate-limiting/rate-limiting.module.js';
import { MittoClient } from './mitto.client.js';
import { MITTO_CLIENT_OPTIONS, type MittoClientOptions } from './mitto.types.js';
import { BulkSmsSender } from './bulk-sms.sender.js';
import { SingleSmsSender } from './single-sms.sender.js';
import { SenderSelector } from './sender-selector.js';
import { BatchSendingService } from './batch-sending.service.js';
import { CampaignDispatcherService } from './campaign-dispatcher.service.js';
import { RecoverySweeperService } from './recovery-sweeper.service.js';

/**
 * Mitto client, the two senders (SenderSelector picks one per batch; nothing else branches on the flag), batch sending,
 * dispatching and recovery. The processors that drive them live in WorkersModule (APP_ROLE).
 */
@Module({
  imports: [CampaignsModule, RateLimitingModule],
  providers: [
    {
      provide: MITTO_CLIENT_OPTIONS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>): MittoClientOptions => {
        const m = config.get('mitto', { infer: true });
        return { baseUrl: m.baseUrl, connectTimeoutMs: m.connectTimeoutMs, requestTimeoutMs: m.requestTimeoutMs, maxConnections: m.maxConnections };
      },
    },
    MittoClient,
    BulkSmsSender,
    SingleSmsSender,
    SenderSelector,
    BatchSendingService,
    CampaignDispatcherService,
    RecoverySweeperService,
  ],
  exports: [MittoClient, BatchSendingService, CampaignDispatcherService, RecoverySweeperService, SenderSelector],
})
export class MessagingModule {}

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantsModule } from '../tenants/tenants.module.js';
import { Campaign } from './campaign.entity.js';
import { CampaignMessage } from './campaign-message.entity.js';
import { CampaignBatch } from './campaign-batch.entity.js';
import { CampaignsController } from './campaigns.controller.js';
import { CampaignsService } from './campaigns.service.js';
import { CampaignLifecycleService } from './campaign-lifecycle.service.js';
import { CampaignLifecycleRepository } from './campaign-lifecycle.repository.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { CampaignMessagesRepository } from './campaign-messages.repository.js';
import { DeliveryStatusUpdatesRepository } from './delivery-status-updates.repository.js';
import { CampaignBatchesRepository } from './campaign-batches.repository.js';
import { BatchLeasesRepository } from './batch-leases.repository.js';
import { BatchRecoveryRepository } from './batch-recovery.repository.js';
import { CampaignMessagesCopyWriter } from './campaign-messages.copy-writer.js';
import { CampaignGuardRailsRepository } from './campaign-guard-rails.repository.js';
import { CampaignGuardRailsService } from './campaign-guard-rails.service.js';
import { RecipientsImportService } from './recipients-import.service.js';
import { RecipientsUploadService } from './recipients-upload.service.js';
import { MessageRetentionRepository } from './message-retention.repository.js';
import { MessageRetentionService } from './message-retention.service.js';

/** Campaigns, their recipients/messages, and campaign state changes (enqueue, schedule, pause, …). */
@Module({
  imports: [TypeOrmModule.forFeature([Campaign, CampaignMessage, CampaignBatch]), TenantsModule],
  controllers: [CampaignsController],
  providers: [
    CampaignsService, CampaignsRepository, CampaignLifecycleService, CampaignLifecycleRepository, CampaignMessagesRepository, CampaignMessagesCopyWriter, CampaignBatchesRepository,
    BatchLeasesRepository, BatchRecoveryRepository, RecipientsImportService, RecipientsUploadService, CampaignGuardRailsRepository, CampaignGuardRailsService,
    MessageRetentionRepository, MessageRetentionService, DeliveryStatusUpdatesRepository,
  ],
  exports: [
    CampaignsService, CampaignsRepository, CampaignLifecycleService, CampaignMessagesRepository, CampaignBatchesRepository, BatchLeasesRepository,
    BatchRecoveryRepository, CampaignGuardRailsRepository, CampaignGuardRailsService, MessageRetentionService, DeliveryStatusUpdatesRepository,
  ],
})
export class CampaignsModule {}

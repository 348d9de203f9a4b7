import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { MittoModule } from '../mitto/mitto.module.js';
import { RateLimitingModule } from '../rate-limiting/rate-limiting.module.js';
import { DeliveryReportsController } from './delivery-reports.controller.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { StatusWriter } from './status-writer.service.js';
import { StatusLookupService } from './status-lookup.service.js';
import { TrafficAccountsLookup } from './traffic-accounts.lookup.js';
import { StatusRefreshService } from './status-refresh.service.js';
import { ReconciliationService } from './reconciliation.service.js';
import { CampaignEventsHub } from './campaign-events.hub.js';
import { CampaignEventStreamService } from './campaign-event-stream.service.js';
import { CampaignStatusController } from './campaign-status.controller.js';
import { OperationsMetricsService } from './operations-metrics.service.js';
import { MetricsController } from './metrics.controller.js';
import { QUEUE_BOARD_ROUTE, QueueBoard } from './queue-board.js';

/**
 * Delivery status after the send: Mitto's delivery-report webhook, refresh-status and periodic
 * reconciliation (lookups at Mitto), live campaign events (SSE), and the operations endpoints
 * /metrics and /admin/queues. See docs/STATUS.md.
 */
@Module({
  imports: [CampaignsModule, MittoModule, RateLimitingModule],
  controllers: [DeliveryReportsController, CampaignStatusController, MetricsController],
  providers: [
    StatusWriter,
    DeliveryReportsService,
    TrafficAccountsLookup,
    StatusLookupService,
    StatusRefreshService,
    ReconciliationService,
    CampaignEventsHub,
    CampaignEventStreamService,
    OperationsMetricsService,
    QueueBoard,
  ],
  exports: [ReconciliationService, StatusWriter],
})
export class StatusModule implements NestModule {
  constructor(private readonly board: QueueBoard) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(...this.board.handlers).forRoutes(QUEUE_BOARD_ROUTE);
  }
}

import { Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { ParseIdPipe } from '../common/id.pipe.js';
import { StatusRefreshService } from './status-refresh.service.js';
import { CampaignEventStreamService } from './campaign-event-stream.service.js';
import { RefreshStatusQuery, RefreshStatusView } from './dto/status.dto.js';

@ApiTags('campaigns')
@ApiBearerAuth('tenant')
@ApiErrors(401, 404)
@UseGuards(TenantGuard)
@Controller('api/campaigns')
export class CampaignStatusController {
  constructor(
    private readonly refresher: StatusRefreshService,
    private readonly streams: CampaignEventStreamService,
  ) {}

  @Post(':id/refresh-status')
  @HttpCode(200)
  @ApiOkResponse({ type: RefreshStatusView, description: 'Asks Mitto about sent messages that have no final status (at most `limit` per call)' })
  @ApiErrors(400, 503)
  refresh(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Query() q: RefreshStatusQuery): Promise<RefreshStatusView> {
    return this.refresher.refresh(t.id, id, q.limit);
  }

  @Get(':id/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description:
      'Server-Sent Events. `event: status` with `{ campaign, metrics, progress, creditsReserved }` on connect and on every change; ' +
      '`event: end` (same data) when the campaign is completed, failed or cancelled, then the stream closes; `: heartbeat` every 15 s.',
    schema: { type: 'string' },
  })
  events(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Res() res: Response): Promise<void> {
    return this.streams.stream(t.id, id, res);
  }
}

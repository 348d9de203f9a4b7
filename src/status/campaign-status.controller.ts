import { Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { ParseIdPipe } from '../common/id.pipe.js';
import { ApiRateLimit } from '../request-limits/api-rate-limit.decorator.js';
import { StatusRefreshService } from './status-refresh.service.js';
import { CampaignEventStreamService } from './campaign-event-stream.service.js';
import { RefreshStatusQuery, RefreshStatusView } from './dto/status.dto.js';
import { EVENTS_EXAMPLE, REFRESH_RESULT } from './dto/status.examples.js';

@ApiTags('campaigns')
@ApiBearerAuth('tenant')
@ApiRateLimit('tenant')
@ApiErrors('UNAUTHORIZED', 'NOT_FOUND', 'SERVICE_UNAVAILABLE')
@UseGuards(TenantGuard)
@Controller('api/campaigns')
export class CampaignStatusController {
  constructor(
    private readonly refresher: StatusRefreshService,
    private readonly streams: CampaignEventStreamService,
  ) {}

  @Post(':id/refresh-status')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Ask Mitto for missing statuses',
    description:
      'Looks up at Mitto the sent messages that have no final status yet (at most `limit` per call, within the rate limits) and ' +
      'applies what Mitto answers. `remaining` > 0: call again to continue. Reports usually make this unnecessary.',
  })
  @ApiOkResponse({ type: RefreshStatusView, description: 'What the lookups found', example: REFRESH_RESULT })
  @ApiErrors('VALIDATION_FAILED')
  refresh(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Query() q: RefreshStatusQuery): Promise<RefreshStatusView> {
    return this.refresher.refresh(t.id, id, q.limit);
  }

  @Get(':id/events')
  @ApiOperation({
    summary: 'Live status stream (SSE)',
    description:
      'Server-Sent Events with the same data as `/status`, pushed on every change, so a dashboard needs no polling. ' +
      'In a browser use `fetch` with the `Authorization` header and read the stream (EventSource cannot send headers).',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    example: EVENTS_EXAMPLE,
    description:
      'Server-Sent Events. `event: status` with `{ campaign, metrics, progress, creditsReserved }` on connect and on every change; ' +
      '`event: end` (same data) when the campaign is completed, failed or cancelled, then the stream closes; `: heartbeat` every 15 s.',
    schema: { type: 'string' },
  })
  events(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Res() res: Response): Promise<void> {
    return this.streams.stream(t.id, id, res);
  }
}

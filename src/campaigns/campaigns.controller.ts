import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { ParseIdPipe } from '../common/id.pipe.js';
import { CampaignsService } from './campaigns.service.js';
import { CampaignLifecycleService } from './campaign-lifecycle.service.js';
import { RecipientsUploadService } from './recipients-upload.service.js';
import {
  CampaignPageView, CampaignStatusView, CampaignView, CreateCampaignDto, EstimateView, ListCampaignsQuery, ListMessagesQuery,
  MessagePageView, ScheduleCampaignDto, UpdateCampaignDto,
} from './dto/campaign.dto.js';
import { AddRecipientsDto, ImportResultView } from './dto/recipients.dto.js';

@ApiTags('campaigns')
@ApiBearerAuth('tenant')
@ApiErrors(400, 401)
@UseGuards(TenantGuard)
@Controller('api/campaigns')
export class CampaignsController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly recipients: RecipientsUploadService,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CampaignView })
  create(@CurrentTenant() t: AuthTenant, @Body() dto: CreateCampaignDto): Promise<CampaignView> {
    return this.campaigns.create(t.id, dto);
  }

  @Get()
  @ApiOkResponse({ type: CampaignPageView })
  list(@CurrentTenant() t: AuthTenant, @Query() q: ListCampaignsQuery): Promise<CampaignPageView> {
    return this.campaigns.list(t.id, q);
  }

  @Get(':id')
  @ApiOkResponse({ type: CampaignView })
  @ApiErrors(404)
  get(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.campaigns.get(t.id, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: CampaignView })
  @ApiErrors(404, 409)
  update(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Body() dto: UpdateCampaignDto): Promise<CampaignView> {
    return this.campaigns.update(t.id, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiErrors(404, 409)
  remove(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<void> {
    return this.campaigns.remove(t.id, id);
  }

  @Post(':id/recipients')
  @HttpCode(200)
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({ type: AddRecipientsDto, description: 'JSON (≤ 10,000 recipients) or a text/csv body (≤ 100 MB, streamed) with a `phone` column and one column per variable' })
  @ApiOkResponse({ type: ImportResultView })
  @ApiErrors(404, 409, 413, 415)
  addRecipients(
    @CurrentTenant() t: AuthTenant,
    @Param('id', ParseIdPipe) id: string,
    @Req() req: Request,
  ): Promise<ImportResultView> {
    return this.recipients.add(t.id, id, req);
  }

  @Get(':id/estimate')
  @ApiOkResponse({ type: EstimateView })
  @ApiErrors(404)
  estimate(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<EstimateView> {
    return this.campaigns.estimate(t.id, id);
  }

  @Post(':id/schedule')
  @HttpCode(200)
  @ApiOkResponse({ type: CampaignView })
  @ApiErrors(404, 409)
  schedule(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Body() dto: ScheduleCampaignDto): Promise<CampaignView> {
    return this.lifecycle.schedule(t.id, id, dto.scheduledAt);
  }

  @Post(':id/enqueue')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: CampaignStatusView })
  @ApiErrors(402, 403, 404, 409, 422)
  enqueue(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignStatusView> {
    return this.lifecycle.enqueue(t.id, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOkResponse({ type: CampaignView })
  @ApiErrors(404, 409)
  pause(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.lifecycle.pause(t.id, id);
  }

  @Post(':id/resume')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: CampaignView })
  @ApiErrors(404, 409)
  resume(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.lifecycle.resume(t.id, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: CampaignView })
  @ApiErrors(404, 409)
  cancel(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.lifecycle.cancel(t.id, id);
  }

  @Get(':id/status')
  @ApiOkResponse({ type: CampaignStatusView })
  @ApiErrors(404)
  status(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignStatusView> {
    return this.campaigns.status(t.id, id);
  }

  @Get(':id/messages')
  @ApiOkResponse({ type: MessagePageView })
  @ApiErrors(404)
  messages(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Query() q: ListMessagesQuery): Promise<MessagePageView> {
    return this.campaigns.listMessages(t.id, id, q);
  }
}

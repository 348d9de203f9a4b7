import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { ParseIdPipe } from '../common/id.pipe.js';
import { ApiRateLimit } from '../request-limits/api-rate-limit.decorator.js';
import { CampaignsService } from './campaigns.service.js';
import { CampaignLifecycleService } from './campaign-lifecycle.service.js';
import { RecipientsUploadService } from './recipients-upload.service.js';
import {
  CampaignPageView, CampaignStatusView, CampaignView, CreateCampaignDto, EstimateView, ListCampaignsQuery, ListMessagesQuery,
  MessagePageView, ScheduleCampaignDto, UpdateCampaignDto,
} from './dto/campaign.dto.js';
import { AddRecipientsDto, ImportResultView } from './dto/recipients.dto.js';
import {
  CAMPAIGN_PAGE, CAMPAIGN_STATUS, CANCELLED_CAMPAIGN, CREATE_CAMPAIGN_BODY, CREATE_GUARDED_CAMPAIGN_BODY, DRAFT_CAMPAIGN, ESTIMATE, IMPORT_RESULT, MESSAGE_PAGE,
  PAUSED_CAMPAIGN, RECIPIENTS_CSV_BODY, RECIPIENTS_JSON_BODY, SCHEDULED_CAMPAIGN, SCHEDULE_BODY, SENDING_CAMPAIGN, UPDATE_CAMPAIGN_BODY,
} from './dto/campaign.examples.js';

/** Behaviour lives in the services; the decorators below are the OpenAPI document the dashboard builds on. */
@ApiTags('campaigns')
@ApiBearerAuth('tenant')
@ApiRateLimit('tenant')
@ApiErrors('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
@UseGuards(TenantGuard)
@Controller('api/campaigns')
export class CampaignsController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly recipients: RecipientsUploadService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a campaign',
    description: 'Creates a `draft`. `text` may hold `{{placeholders}}` filled from each recipient\'s `variables`; `sender` defaults to the traffic account\'s. Add recipients next, then estimate, schedule or enqueue.',
  })
  @ApiBody({
    type: CreateCampaignDto,
    examples: {
      campaign: { summary: 'A personalised campaign', value: CREATE_CAMPAIGN_BODY },
      guarded: { summary: 'With guard rails: send window, expiry, auto-pause, canary', value: CREATE_GUARDED_CAMPAIGN_BODY },
    },
  })
  @ApiCreatedResponse({ type: CampaignView, description: 'The new draft', example: DRAFT_CAMPAIGN })
  @ApiErrors('VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE')
  create(@CurrentTenant() t: AuthTenant, @Body() dto: CreateCampaignDto): Promise<CampaignView> {
    return this.campaigns.create(t.id, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List campaigns', description: 'The tenant\'s campaigns, newest first, with their metrics; filter by `status`, page with `page` and `limit`.' })
  @ApiOkResponse({ type: CampaignPageView, description: 'One page of campaigns', example: CAMPAIGN_PAGE })
  @ApiErrors('VALIDATION_FAILED')
  list(@CurrentTenant() t: AuthTenant, @Query() q: ListCampaignsQuery): Promise<CampaignPageView> {
    return this.campaigns.list(t.id, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a campaign', description: 'The campaign with its metrics. A campaign of another tenant answers 404 like one that does not exist.' })
  @ApiOkResponse({ type: CampaignView, description: 'The campaign', example: SENDING_CAMPAIGN })
  @ApiErrors('NOT_FOUND')
  get(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.campaigns.get(t.id, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a campaign', description: 'Changes name, text or sender of a `draft` or `scheduled` campaign; other statuses answer 409.' })
  @ApiBody({ type: UpdateCampaignDto, examples: { text: { summary: 'A new text', value: UPDATE_CAMPAIGN_BODY } } })
  @ApiOkResponse({ type: CampaignView, description: 'The changed campaign', example: DRAFT_CAMPAIGN })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'INVALID_CAMPAIGN_STATE', 'PAYLOAD_TOO_LARGE')
  update(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Body() dto: UpdateCampaignDto): Promise<CampaignView> {
    return this.campaigns.update(t.id, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a draft', description: 'Deletes a `draft` campaign and its recipients. Any other status answers 409 (cancel a campaign instead).' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('NOT_FOUND', 'INVALID_CAMPAIGN_STATE')
  remove(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<void> {
    return this.campaigns.remove(t.id, id);
  }

  @Post(':id/recipients')
  @HttpCode(200)
  @ApiConsumes('application/json', 'text/csv')
  @ApiOperation({
    summary: 'Add recipients',
    description:
      'Adds recipients to a `draft` or `scheduled` campaign: JSON with up to 10,000 recipients, or a `text/csv` body of up to 100 MB ' +
      '(streamed) with a `phone` column and one column per variable. Numbers are normalised to E.164 (national numbers use ' +
      '`DEFAULT_PHONE_REGION`); duplicates, suppressed and invalid numbers are counted, not added. Call again to add more.',
  })
  @ApiBody({
    type: AddRecipientsDto,
    description: 'JSON (≤ 10,000 recipients) or a text/csv body (≤ 100 MB, streamed) with a `phone` column and one column per variable',
    examples: {
      json: { summary: 'JSON recipients with variables', value: RECIPIENTS_JSON_BODY },
      csv: { summary: 'The same as text/csv', value: RECIPIENTS_CSV_BODY },
    },
  })
  @ApiOkResponse({ type: ImportResultView, description: 'What was added and why the rest was not', example: IMPORT_RESULT })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'INVALID_CAMPAIGN_STATE', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE')
  addRecipients(
    @CurrentTenant() t: AuthTenant,
    @Param('id', ParseIdPipe) id: string,
    @Req() req: Request,
  ): Promise<ImportResultView> {
    return this.recipients.add(t.id, id, req);
  }

  @Get(':id/estimate')
  @ApiOperation({
    summary: 'Estimate the cost',
    description: 'Recipients that will be sent to, SMS segments and credits the campaign needs, and the encoding its texts need (characters outside GSM-7 force UCS-2 and shorter segments).',
  })
  @ApiOkResponse({ type: EstimateView, description: 'The estimate', example: ESTIMATE })
  @ApiErrors('NOT_FOUND')
  estimate(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<EstimateView> {
    return this.campaigns.estimate(t.id, id);
  }

  @Post(':id/schedule')
  @HttpCode(200)
  @ApiOperation({ summary: 'Schedule sending', description: 'Sets `scheduledAt` (in the future) on a `draft` or `scheduled` campaign; it starts by itself then, with the same checks as enqueue.' })
  @ApiBody({ type: ScheduleCampaignDto, examples: { tomorrow: { summary: 'A start time', value: SCHEDULE_BODY } } })
  @ApiOkResponse({ type: CampaignView, description: 'The scheduled campaign', example: SCHEDULED_CAMPAIGN })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'INVALID_CAMPAIGN_STATE', 'PAYLOAD_TOO_LARGE')
  schedule(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Body() dto: ScheduleCampaignDto): Promise<CampaignView> {
    return this.lifecycle.schedule(t.id, id, dto.scheduledAt);
  }

  @Post(':id/enqueue')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start sending now',
    description:
      'Starts a `draft` or `scheduled` campaign: checks the subscription and that the balance covers every message, reserves the ' +
      'credits, and hands the messages to the workers. Follow progress with `/status` or `/events`.',
  })
  @ApiAcceptedResponse({ type: CampaignStatusView, description: 'Sending started', example: CAMPAIGN_STATUS })
  @ApiErrors('INSUFFICIENT_CREDITS', 'INACTIVE_SUBSCRIPTION', 'NOT_FOUND', 'INVALID_CAMPAIGN_STATE', 'NO_RECIPIENTS')
  enqueue(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignStatusView> {
    return this.lifecycle.enqueue(t.id, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause sending', description: 'Stops a `sending` campaign after the batches already with Mitto; nothing is skipped and resume continues where it stopped.' })
  @ApiOkResponse({ type: CampaignView, description: 'The paused campaign', example: PAUSED_CAMPAIGN })
  @ApiErrors('NOT_FOUND', 'INVALID_CAMPAIGN_STATE')
  pause(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.lifecycle.pause(t.id, id);
  }

  @Post(':id/resume')
  @HttpCode(202)
  @ApiOperation({ summary: 'Resume sending', description: 'Continues a `paused` campaign with its messages not yet sent.' })
  @ApiAcceptedResponse({ type: CampaignView, description: 'Sending again', example: SENDING_CAMPAIGN })
  @ApiErrors('NOT_FOUND', 'INVALID_CAMPAIGN_STATE')
  resume(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.lifecycle.resume(t.id, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a campaign', description: 'Ends a campaign for good: messages not yet sent are `cancelled` and their credits return to the balance.' })
  @ApiOkResponse({ type: CampaignView, description: 'The cancelled campaign', example: CANCELLED_CAMPAIGN })
  @ApiErrors('NOT_FOUND', 'INVALID_CAMPAIGN_STATE')
  cancel(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignView> {
    return this.lifecycle.cancel(t.id, id);
  }

  @Get(':id/status')
  @ApiOperation({ summary: 'Live status', description: 'The campaign, its message counts by status, progress (0..1) and the credits still reserved. For pushes instead of polling use `/events`.' })
  @ApiOkResponse({ type: CampaignStatusView, description: 'Status and metrics', example: CAMPAIGN_STATUS })
  @ApiErrors('NOT_FOUND')
  status(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string): Promise<CampaignStatusView> {
    return this.campaigns.status(t.id, id);
  }

  @Get(':id/messages')
  @ApiOperation({
    summary: 'List messages',
    description: 'The campaign\'s messages with their delivery status and Mitto ids; filter by `status`, page with `page` and `limit`. ' +
      'Empty, with `messagesPurgedAt` set, once they were purged: MESSAGE_RETENTION_DAYS after the campaign ended (its metrics stay).',
  })
  @ApiOkResponse({ type: MessagePageView, description: 'One page of messages', example: MESSAGE_PAGE })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  messages(@CurrentTenant() t: AuthTenant, @Param('id', ParseIdPipe) id: string, @Query() q: ListMessagesQuery): Promise<MessagePageView> {
    return this.campaigns.listMessages(t.id, id, q);
  }
}

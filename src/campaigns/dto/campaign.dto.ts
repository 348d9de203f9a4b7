import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { AutoPauseDto, CanaryDto, SendWindowDto } from '../../guard-rails/dto/guard-rails.dto.js';
import type { CanaryState, PauseReason } from '../../guard-rails/guard-rails.types.js';
import { PageQuery } from '../../common/pagination.js';
import { CAMPAIGN_STATUSES, type CampaignStatus } from '../campaign-state.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../campaign-message.entity.js';

const SENDER = /^(?:[A-Za-z0-9 ]{1,11}|\+?\d{1,16})$/;

/** The guard rails, optional on create and on PATCH (draft or scheduled); `null` on PATCH removes one. */
export class GuardRailsFields {
  @ApiPropertyOptional({ type: SendWindowDto, nullable: true, description: 'Messages are handed to Mitto only inside this window of the recipient\'s local time; outside it they wait (still queued)' })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => SendWindowDto) sendWindow?: SendWindowDto | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, example: '2026-12-01T18:00:00Z', description: 'Messages not handed to Mitto before this become `expired` (credits returned); the campaign then ends' })
  @IsOptional() @IsDateString({ strict: true }) expiresAt?: string | null;

  @ApiPropertyOptional({ type: AutoPauseDto, nullable: true, description: 'The campaign pauses itself (pauseReason FAILURE_RATE) when recent outcomes fail too often' })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => AutoPauseDto) autoPause?: AutoPauseDto | null;

  @ApiPropertyOptional({ type: CanaryDto, nullable: true, description: 'Send the first `size` messages, then the rest only once enough of them are delivered' })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => CanaryDto) canary?: CanaryDto | null;
}

export class CreateCampaignDto extends GuardRailsFields {
  @ApiProperty({ maxLength: 200 }) @IsString() @MinLength(1) @MaxLength(200) name: string;
  @ApiProperty({ maxLength: 1600, description: 'May hold {{placeholders}} filled from each recipient\'s variables' })
  @IsString() @MinLength(1) @MaxLength(1600) text: string;
  @ApiPropertyOptional({ description: 'Alphanumeric 1–11 characters or numeric 1–16 digits; default: the traffic account\'s' })
  @IsOptional() @IsString() @Matches(SENDER) sender?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Planned start, stored with the draft; POST /schedule schedules it' })
  @IsOptional() @IsDateString({ strict: true }) scheduledAt?: string;
}

export class UpdateCampaignDto extends GuardRailsFields {
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MinLength(1) @MaxLength(200) name?: string;
  @ApiPropertyOptional({ maxLength: 1600 }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1600) text?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(SENDER) sender?: string;
}

export class ScheduleCampaignDto {
  @ApiProperty({ format: 'date-time' }) @IsDateString({ strict: true }) scheduledAt: string;
}

export class ListCampaignsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: CAMPAIGN_STATUSES }) @IsOptional() @IsIn(CAMPAIGN_STATUSES) status?: CampaignStatus;
}

export class ListMessagesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: MESSAGE_STATUSES }) @IsOptional() @IsIn(MESSAGE_STATUSES) status?: MessageStatus;
}

export class MetricsView {
  @ApiProperty({ description: 'Sum of every bucket below' }) total: number;
  @ApiProperty({ description: 'Not handed to Mitto yet (including a call in flight right now)' }) queued: number;
  @ApiProperty({ description: 'Accepted by Mitto, no delivery report yet' }) sent: number;
  @ApiProperty({ description: 'The Mitto call had an ambiguous outcome; settled by a report or a status lookup' }) unknown: number;
  @ApiProperty() delivered: number;
  @ApiProperty({ description: 'Accepted by Mitto, then reported not delivered (charged)' }) undelivered: number;
  @ApiProperty({ description: 'Never accepted by Mitto (refunded)' }) failed: number;
  @ApiProperty({ description: 'Not sent because the campaign was cancelled (refunded)' }) cancelled: number;
  @ApiProperty({ description: 'Not sent: suppressed number or missing variable (refunded)' }) skipped: number;
  @ApiProperty({ description: 'Not handed to Mitto before the campaign\'s expiresAt (refunded)' }) expired: number;
}

export class CampaignView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() text: string;
  @ApiProperty({ nullable: true, type: String }) sender: string | null;
  @ApiProperty({ enum: CAMPAIGN_STATUSES }) status: CampaignStatus;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) scheduledAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) startedAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) completedAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ type: SendWindowDto, nullable: true }) sendWindow: SendWindowDto | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expiresAt: string | null;
  @ApiProperty({ type: AutoPauseDto, nullable: true }) autoPause: AutoPauseDto | null;
  @ApiProperty({ type: CanaryDto, nullable: true }) canary: CanaryDto | null;
  @ApiProperty({
    enum: ['USER', 'FAILURE_RATE', 'CANARY_FAILED', null], nullable: true, type: String, example: null,
    description: 'Why the campaign is paused (set while `paused`; resume clears it)',
  })
  pauseReason: PauseReason | null;
  @ApiProperty({
    enum: ['pending', 'passed', 'failed', null], nullable: true, type: String, example: 'pending',
    description: 'With a canary: pending until enough of it is delivered (passed) or it timed out (failed); null without one',
  })
  canaryState: CanaryState | null;
  @ApiProperty({
    nullable: true, type: String, format: 'date-time', example: null,
    description: 'When its per-message rows were given up under MESSAGE_RETENTION_DAYS (counted from when it ended): ' +
      'from then on `/messages` lists none; `metrics` and the credits stay as they were',
  })
  messagesPurgedAt: string | null;
  @ApiProperty({ type: MetricsView }) metrics: MetricsView;
}

export class CampaignStatusView {
  @ApiProperty({ type: CampaignView }) campaign: CampaignView;
  @ApiProperty({ type: MetricsView }) metrics: MetricsView;
  @ApiProperty({ description: 'Share of messages with an outcome (0..1)' }) progress: number;
  @ApiProperty({ description: 'Credits still held for messages without an outcome' }) creditsReserved: number;
  @ApiProperty({
    enum: ['bulk', 'single'],
    nullable: true,
    type: String,
    example: 'bulk',
    description: 'The flow its next batches use while sending or paused (the tenant\'s bulkSending, else USE_BULK_SMS); null once ended',
  })
  sendMode: 'bulk' | 'single' | null;
}

export class CampaignPageView {
  @ApiProperty({ type: [CampaignView] }) items: CampaignView[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
}

export class MessageView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() phone: string;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status: MessageStatus;
  @ApiProperty({ nullable: true, type: String }) providerMessageId: string | null;
  @ApiProperty({ nullable: true, type: String }) bulkId: string | null;
  @ApiProperty() retryCount: number;
  @ApiProperty({ nullable: true, type: String }) errorCode: string | null;
  @ApiProperty({ nullable: true, type: String }) errorMessage: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) sentAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deliveredAt: string | null;
}

export class MessagePageView {
  @ApiProperty({ type: [MessageView] }) items: MessageView[];
  @ApiProperty({ description: 'Messages that match (0 once the campaign\'s messages were purged)' }) total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({
    nullable: true, type: String, format: 'date-time', example: null,
    description: 'Set when the campaign\'s messages were purged under MESSAGE_RETENTION_DAYS: the page is empty because they are gone',
  })
  messagesPurgedAt: string | null;
}

export class EstimateView {
  @ApiProperty({ description: 'Recipients that will be sent to' }) recipients: number;
  @ApiProperty() segments: number;
  @ApiProperty() credits: number;
  @ApiProperty({ enum: ['GSM-7', 'UCS-2', 'mixed'] }) encoding: 'GSM-7' | 'UCS-2' | 'mixed';
  @ApiProperty({ type: [String] }) nonGsmCharacters: string[];
  @ApiProperty({ description: 'Recipients that will not be sent (missing variables, suppressed)' }) skipped: number;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MetricsView } from '../../campaigns/dto/campaign.dto.js';

/** Most messages one refresh call looks up at Mitto (each lookup takes a rate-limit permit). */
export const REFRESH_MAX_MESSAGES = 1000;

export class DeliveryReportsResultView {
  @ApiProperty({ description: 'Items in the body' }) received: number;
  @ApiProperty({ description: 'Reports that moved a message to a new status' }) updated: number;
  @ApiProperty({ description: 'Reports that match no message (neither messageId nor reference)' }) unknown: number;
  @ApiProperty({ description: 'Items that are not a Mitto Message (no messageId or deliveryStatus)' }) invalid: number;
}

export class RefreshStatusQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: REFRESH_MAX_MESSAGES, default: REFRESH_MAX_MESSAGES })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(REFRESH_MAX_MESSAGES)
  limit: number = REFRESH_MAX_MESSAGES;
}

export class RefreshStatusView {
  @ApiProperty({ description: 'Messages Mitto answered about (found or not found)' }) checked: number;
  @ApiProperty({ description: 'Messages whose status changed' }) updated: number;
  @ApiProperty({ description: 'Messages Mitto does not know (404)' }) notFound: number;
  @ApiProperty({ description: 'Lookups that failed (Mitto error or unreachable); tried again on the next call' }) errors: number;
  @ApiProperty({ description: 'Eligible messages this call did not look up (cap per call, rate limit); call again to continue' })
  remaining: number;
  @ApiProperty({ type: MetricsView }) metrics: MetricsView;
}

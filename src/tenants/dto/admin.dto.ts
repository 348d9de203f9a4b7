import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { BULK_SENDING, type BulkSending } from '../bulk-sending.js';

const SENDER = /^(?:[A-Za-z0-9 ]{1,11}|\+?\d{1,16})$/;

export class CreateTrafficAccountDto {
  @ApiProperty({ maxLength: 200 }) @IsString() @MinLength(1) @MaxLength(200) name: string;
  @ApiProperty({ format: 'uuid' }) @IsUUID() mittoTrafficAccountId: string;
  @ApiPropertyOptional({ description: 'Mitto API key of this traffic account (write-only; default MITTO_API_KEY)' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(500) apiKey?: string;
  @ApiProperty({ description: 'Alphanumeric 1–11 characters or numeric 1–16 digits' }) @IsString() @Matches(SENDER) defaultSender: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 100000 }) @IsOptional() @IsInt() @Min(1) @Max(100_000) rateLimitPerSecond?: number;
}

export class UpdateTrafficAccountDto {
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MinLength(1) @MaxLength(200) name?: string;
  @ApiPropertyOptional({ description: 'Write-only' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(500) apiKey?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(SENDER) defaultSender?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 100000, description: 'Requests/s to Mitto for this account (overrides RATE_LIMIT_TRAFFIC_ACCOUNT_MAX)' })
  @IsOptional() @IsInt() @Min(1) @Max(100_000) rateLimitPerSecond?: number;
}

export class CreateTenantDto {
  @ApiProperty({ maxLength: 200 }) @IsString() @MinLength(1) @MaxLength(200) name: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() trafficAccountId?: string;
  @ApiPropertyOptional({ enum: ['active', 'inactive'] }) @IsOptional() @IsIn(['active', 'inactive']) subscriptionStatus?: 'active' | 'inactive';
  @ApiPropertyOptional({ minimum: 0 }) @IsOptional() @IsInt() @Min(0) @Max(1_000_000_000_000) credits?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 100000 }) @IsOptional() @IsInt() @Min(1) @Max(100_000) rateLimitPerSecond?: number;
}

export class UpdateTenantDto {
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MinLength(1) @MaxLength(200) name?: string;
  @ApiPropertyOptional({ enum: ['active', 'inactive'] }) @IsOptional() @IsIn(['active', 'inactive']) subscriptionStatus?: 'active' | 'inactive';
  @ApiPropertyOptional({ minimum: 1, maximum: 100000, nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(100_000) rateLimitPerSecond?: number;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() trafficAccountId?: string;
  @ApiPropertyOptional({
    enum: BULK_SENDING,
    example: 'on',
    description: 'The bulk flow for this tenant: `default` follows USE_BULK_SMS, `on`/`off` override it. Applies to batches that start after the change, also of campaigns already sending; a batch in flight finishes in its mode.',
  })
  @IsOptional() @IsIn(BULK_SENDING) bulkSending?: BulkSending;
}

export class TopUpCreditsDto {
  @ApiProperty({ minimum: 1 }) @IsInt() @Min(1) @Max(1_000_000_000_000) amount: number;
  @ApiPropertyOptional({ maxLength: 500 }) @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

export class CreditsView {
  @ApiProperty() balance: number;
  @ApiProperty() reserved: number;
}

export class TenantView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['active', 'inactive'] }) subscriptionStatus: 'active' | 'inactive';
  @ApiProperty({ type: CreditsView }) credits: CreditsView;
  @ApiProperty({ nullable: true, type: Number }) rateLimitPerSecond: number | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) trafficAccountId: string | null;
  @ApiProperty({ enum: BULK_SENDING, example: 'default', description: '`default` follows USE_BULK_SMS' }) bulkSending: BulkSending;
  @ApiProperty({ example: true, description: 'Whether batches of this tenant starting now use the bulk flow' }) bulkSendingEffective: boolean;
  @ApiProperty() createdAt: string;
}

export class CreatedTenantView extends TenantView {
  @ApiProperty({ description: 'Shown only once; store it now' }) apiKey: string;
}

export class TrafficAccountView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'uuid' }) mittoTrafficAccountId: string;
  @ApiProperty() defaultSender: string;
  @ApiProperty({ nullable: true, type: Number }) rateLimitPerSecond: number | null;
  @ApiProperty() hasOwnApiKey: boolean;
  @ApiProperty() createdAt: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';

export class RecipientInput {
  @ApiProperty({ example: '+41791234567', description: 'E.164, or national with DEFAULT_PHONE_REGION' })
  @IsString() @MaxLength(64) phone: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { name: 'Anna' } })
  @IsOptional() @IsObject() variables?: Record<string, string>;
}

export class AddRecipientsDto {
  @ApiProperty({ type: [RecipientInput], maxItems: 10_000 })
  @IsArray() @ArrayMaxSize(10_000) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => RecipientInput)
  recipients: RecipientInput[];
}

class InvalidSampleView {
  @ApiProperty() row: number;
  @ApiProperty() phone: string;
  @ApiProperty() reason: string;
}

export class ImportResultView {
  @ApiProperty({ description: 'Recipients added to the campaign' }) accepted: number;
  @ApiProperty({ description: 'Numbers already in the campaign (or repeated in this upload)' }) duplicates: number;
  @ApiProperty({ description: 'Numbers on the tenant\'s suppression list, not added' }) suppressed: number;
  @ApiProperty() invalid: number;
  @ApiProperty({ type: [InvalidSampleView], description: 'Up to 100 invalid rows (1-based row numbers; CSV rows count the header as row 1)' })
  invalidSamples: InvalidSampleView[];
}

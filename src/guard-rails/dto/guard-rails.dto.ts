import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty, ArrayUnique, IsArray, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, Validate,
  ValidatorConstraint, type ValidationArguments, type ValidatorConstraintInterface,
} from 'class-validator';
import { isValidTimeZone } from '../time-zone.js';

const HH_MM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

@ValidatorConstraint({ name: 'timeZoneOrRecipient' })
class TimeZoneOrRecipient implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return value === 'recipient' || (typeof value === 'string' && isValidTimeZone(value));
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be "recipient" or an IANA time zone such as "Europe/Zurich"`;
  }
}

@ValidatorConstraint({ name: 'differsFromStart' })
class DiffersFromStart implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return value !== (args.object as { start?: unknown }).start;
  }
  defaultMessage(): string {
    return 'end must differ from start (a window of no time, or of the whole day, is not a window)';
  }
}

export class SendWindowDto {
  @ApiProperty({ example: '09:00', pattern: HH_MM.source, description: 'Local time the window opens (HH:MM, 24 h)' })
  @IsString() @Matches(HH_MM, { message: 'start must be HH:MM (00:00–23:59)' }) start: string;

  @ApiProperty({ example: '20:00', pattern: HH_MM.source, description: 'Local time it closes (exclusive); before `start`, the window spans midnight' })
  @IsString() @Matches(HH_MM, { message: 'end must be HH:MM (00:00–23:59)' }) @Validate(DiffersFromStart) end: string;

  @ApiPropertyOptional({ example: [1, 2, 3, 4, 5], type: [Number], description: 'ISO weekdays (1 = Monday) on which a window opens; default every day' })
  @IsOptional() @IsArray() @ArrayNotEmpty() @ArrayUnique() @IsInt({ each: true }) @Min(1, { each: true }) @Max(7, { each: true }) days?: number[];

  @ApiPropertyOptional({
    example: 'recipient',
    description: '`recipient` (default): each recipient\'s own zone — a `timeZone` variable given at import, else from the number, else DEFAULT_TIME_ZONE; or one IANA zone for everyone',
  })
  @IsOptional() @IsString() @Validate(TimeZoneOrRecipient) timeZone?: string;
}

export class AutoPauseDto {
  @ApiProperty({ example: 0.2, minimum: 0, exclusiveMinimum: true, maximum: 1, description: 'Pause when the share of failed + undelivered among recent outcomes exceeds this' })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(Number.MIN_VALUE, { message: 'maxFailureRate must be greater than 0' }) @Max(1) maxFailureRate: number;

  @ApiPropertyOptional({ example: 100, minimum: 1, default: 100, description: 'Outcomes needed before the rate is judged; the rate covers at least the latest this many' })
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) minMessages?: number;
}

export class CanaryDto {
  @ApiProperty({ example: 200, minimum: 1, description: 'The first this many messages go out first' })
  @IsInt() @Min(1) @Max(1_000_000) size: number;

  @ApiProperty({ example: 0.9, minimum: 0, maximum: 1, description: 'Share of the canary that must have a `delivered` report before the rest go out' })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1) minDeliveredRate: number;

  @ApiProperty({ example: 600, minimum: 1, description: 'Seconds after the canary went out without that share: the campaign pauses (CANARY_FAILED)' })
  @IsInt() @Min(1) @Max(7 * 24 * 3600) waitSeconds: number;
}

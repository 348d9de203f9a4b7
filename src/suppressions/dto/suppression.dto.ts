import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination.js';

export class AddSuppressionDto {
  @ApiProperty({ example: '+41791234567' }) @IsString() @MaxLength(64) phone: string;
  @ApiPropertyOptional({ maxLength: 500 }) @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

export class SuppressionView {
  @ApiProperty() phone: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class SuppressionPageView {
  @ApiProperty({ type: [SuppressionView] }) items: SuppressionView[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
}

export class ListSuppressionsQuery extends PageQuery {}

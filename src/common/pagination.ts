import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class PageQuery {
  // `type` stated: for an initialised property without annotation, tsc emits no usable design type.
  @ApiPropertyOptional({ type: 'integer', minimum: 1, default: 1, example: 1 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  page = 1;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50, example: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit = 50;

}

/** Rows to skip for a page. (A function, not a getter: a getter on the DTO is a property the
 * validation pipe would try to assign from a query key of the same name.) */
export function pageOffset(q: PageQuery): number {
  return (q.page - 1) * q.limit;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
}

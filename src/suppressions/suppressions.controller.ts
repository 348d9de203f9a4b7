import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { SuppressionsService } from './suppressions.service.js';
import { AddSuppressionDto, ListSuppressionsQuery, SuppressionPageView, SuppressionView } from './dto/suppression.dto.js';

@ApiTags('suppressions')
@ApiBearerAuth('tenant')
@ApiErrors(400, 401)
@UseGuards(TenantGuard)
@Controller('api/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Get()
  @ApiOkResponse({ type: SuppressionPageView })
  list(@CurrentTenant() t: AuthTenant, @Query() q: ListSuppressionsQuery): Promise<SuppressionPageView> {
    return this.suppressions.list(t.id, q);
  }

  @Post()
  @ApiCreatedResponse({ type: SuppressionView })
  add(@CurrentTenant() t: AuthTenant, @Body() dto: AddSuppressionDto): Promise<SuppressionView> {
    return this.suppressions.add(t.id, dto);
  }

  @Delete(':phone')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiErrors(404)
  remove(@CurrentTenant() t: AuthTenant, @Param('phone') phone: string): Promise<void> {
    return this.suppressions.remove(t.id, phone);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { ApiRateLimit } from '../request-limits/api-rate-limit.decorator.js';
import { SuppressionsService } from './suppressions.service.js';
import { AddSuppressionDto, ListSuppressionsQuery, SuppressionPageView, SuppressionView } from './dto/suppression.dto.js';
import { ADD_SUPPRESSION_BODY, SUPPRESSION, SUPPRESSION_PAGE } from './dto/suppression.examples.js';

/** The tenant's opt-out list: a suppressed number is never sent to, in any campaign. */
@ApiTags('suppressions')
@ApiBearerAuth('tenant')
@ApiRateLimit('tenant')
@ApiErrors('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
@UseGuards(TenantGuard)
@Controller('api/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Get()
  @ApiOperation({ summary: 'List suppressed numbers', description: 'The tenant\'s opt-out list, newest first; page with `page` and `limit`.' })
  @ApiOkResponse({ type: SuppressionPageView, description: 'One page of suppressed numbers', example: SUPPRESSION_PAGE })
  @ApiErrors('VALIDATION_FAILED')
  list(@CurrentTenant() t: AuthTenant, @Query() q: ListSuppressionsQuery): Promise<SuppressionPageView> {
    return this.suppressions.list(t.id, q);
  }

  @Post()
  @ApiOperation({
    summary: 'Suppress a number',
    description: 'Adds a number (normalised to E.164) to the opt-out list; adding it again updates the reason. It is skipped by every campaign that has not sent to it yet.',
  })
  @ApiBody({ type: AddSuppressionDto, examples: { stop: { summary: 'A recipient who replied STOP', value: ADD_SUPPRESSION_BODY } } })
  @ApiCreatedResponse({ type: SuppressionView, description: 'The suppressed number', example: SUPPRESSION })
  @ApiErrors('VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE')
  add(@CurrentTenant() t: AuthTenant, @Body() dto: AddSuppressionDto): Promise<SuppressionView> {
    return this.suppressions.add(t.id, dto);
  }

  @Delete(':phone')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a suppressed number', description: 'Takes a number off the opt-out list (any notation; it is normalised first, so URL-encode the `+`).' })
  @ApiParam({ name: 'phone', description: 'The number, e.g. `%2B41791112233`', example: '+41791112233' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  remove(@CurrentTenant() t: AuthTenant, @Param('phone') phone: string): Promise<void> {
    return this.suppressions.remove(t.id, phone);
  }
}

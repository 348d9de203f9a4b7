import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { TenantsService } from './tenants.service.js';
import { ApiRateLimit } from '../request-limits/api-rate-limit.decorator.js';
import { TenantView } from './dto/admin.dto.js';
import { TENANT } from './dto/admin.examples.js';

@ApiTags('tenant')
@ApiBearerAuth('tenant')
@ApiRateLimit('tenant')
@ApiErrors('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
@UseGuards(TenantGuard)
@Controller('api/me')
export class MeController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @ApiOperation({
    summary: 'Who am I',
    description: 'The tenant the API key belongs to: subscription and credits. `balance` can still be spent; `reserved` is held by campaigns in progress and returns to `balance` for messages that fail or are cancelled.',
  })
  @ApiOkResponse({ type: TenantView, description: 'The calling tenant', example: TENANT })
  get(@CurrentTenant() tenant: AuthTenant): Promise<TenantView> {
    return this.tenants.getTenant(tenant.id);
  }
}

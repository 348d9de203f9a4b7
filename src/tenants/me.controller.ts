import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentTenant, TenantGuard, type AuthTenant } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { TenantsService } from './tenants.service.js';
import { TenantView } from './dto/admin.dto.js';

@ApiTags('tenant')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('api/me')
export class MeController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @ApiOkResponse({ type: TenantView })
  me(@CurrentTenant() tenant: AuthTenant): Promise<TenantView> {
    return this.tenants.getTenant(tenant.id);
  }
}

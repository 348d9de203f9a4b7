import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ParseIdPipe } from '../common/id.pipe.js';
import { ApiCreatedResponse, ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { TenantsService } from './tenants.service.js';
import {
  CreateTenantDto, CreateTrafficAccountDto, CreatedTenantView, CreditsView, TenantView, TopUpCreditsDto, TrafficAccountView, UpdateTenantDto,
  UpdateTrafficAccountDto,
} from './dto/admin.dto.js';



@ApiTags('admin')
@ApiSecurity('admin')
@ApiErrors(400, 401)
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminController {
  constructor(private readonly tenants: TenantsService) {}

  @Post('traffic-accounts')
  @ApiCreatedResponse({ type: TrafficAccountView })
  createTrafficAccount(@Body() dto: CreateTrafficAccountDto): Promise<TrafficAccountView> {
    return this.tenants.createTrafficAccount(dto);
  }

  @Get('traffic-accounts')
  @ApiOkResponse({ type: [TrafficAccountView] })
  listTrafficAccounts(): Promise<TrafficAccountView[]> {
    return this.tenants.listTrafficAccounts();
  }

  @Patch('traffic-accounts/:id')
  @ApiOkResponse({ type: TrafficAccountView })
  @ApiErrors(404)
  updateTrafficAccount(@Param('id', ParseIdPipe) id: string, @Body() dto: UpdateTrafficAccountDto): Promise<TrafficAccountView> {
    return this.tenants.updateTrafficAccount(id, dto);
  }

  @Post('tenants')
  @ApiCreatedResponse({ type: CreatedTenantView, description: 'The API key is returned only here' })
  createTenant(@Body() dto: CreateTenantDto): Promise<CreatedTenantView> {
    return this.tenants.createTenant(dto);
  }

  @Get('tenants')
  @ApiOkResponse({ type: [TenantView] })
  listTenants(): Promise<TenantView[]> {
    return this.tenants.listTenants();
  }

  @Get('tenants/:id')
  @ApiOkResponse({ type: TenantView })
  @ApiErrors(404)
  getTenant(@Param('id', ParseIdPipe) id: string): Promise<TenantView> {
    return this.tenants.getTenant(id);
  }

  @Patch('tenants/:id')
  @ApiOkResponse({ type: TenantView })
  @ApiErrors(404)
  updateTenant(@Param('id', ParseIdPipe) id: string, @Body() dto: UpdateTenantDto): Promise<TenantView> {
    return this.tenants.updateTenant(id, dto);
  }

  @Post('tenants/:id/credits')
  @HttpCode(201)
  @ApiCreatedResponse({ type: CreditsView })
  @ApiErrors(404)
  topUp(@Param('id', ParseIdPipe) id: string, @Body() dto: TopUpCreditsDto): Promise<CreditsView> {
    return this.tenants.topUp(id, dto);
  }
}

import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ParseIdPipe } from '../common/id.pipe.js';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../common/auth.guards.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { ApiRateLimit } from '../request-limits/api-rate-limit.decorator.js';
import { TenantsService } from './tenants.service.js';
import {
  CreateTenantDto, CreateTrafficAccountDto, CreatedTenantView, CreditsView, TenantView, TopUpCreditsDto, TrafficAccountView, UpdateTenantDto,
  UpdateTrafficAccountDto,
} from './dto/admin.dto.js';
import {
  CREATED_TENANT, CREATE_TENANT_BODY, CREATE_TRAFFIC_ACCOUNT_BODY, CREDITS, ROLLOUT_TENANT_BODY, TENANT, TOP_UP_BODY, TRAFFIC_ACCOUNT,
  UPDATE_TENANT_BODY, UPDATE_TRAFFIC_ACCOUNT_BODY,
} from './dto/admin.examples.js';

/** Internal tools and the operator: traffic accounts, tenants, credits. Every call needs X-Admin-Api-Key. */
@ApiTags('admin')
@ApiSecurity('admin')
@ApiRateLimit('admin')
@ApiErrors('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminController {
  constructor(private readonly tenants: TenantsService) {}

  @Post('traffic-accounts')
  @ApiOperation({
    summary: 'Create a traffic account',
    description: 'Registers a Mitto traffic account (the sender identity and rate limit SMS go out under). Its `apiKey` is stored and never returned; without one, `MITTO_API_KEY` is used.',
  })
  @ApiBody({ type: CreateTrafficAccountDto, examples: { account: { summary: 'An account with its own key', value: CREATE_TRAFFIC_ACCOUNT_BODY } } })
  @ApiCreatedResponse({ type: TrafficAccountView, description: 'The account (without its key)', example: TRAFFIC_ACCOUNT })
  @ApiErrors('VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE')
  createTrafficAccount(@Body() dto: CreateTrafficAccountDto): Promise<TrafficAccountView> {
    return this.tenants.createTrafficAccount(dto);
  }

  @Get('traffic-accounts')
  @ApiOperation({ summary: 'List traffic accounts', description: 'Every traffic account, without their API keys (`hasOwnApiKey` tells whether one is set).' })
  @ApiOkResponse({ type: [TrafficAccountView], description: 'All traffic accounts', example: [TRAFFIC_ACCOUNT] })
  listTrafficAccounts(): Promise<TrafficAccountView[]> {
    return this.tenants.listTrafficAccounts();
  }

  @Patch('traffic-accounts/:id')
  @ApiOperation({ summary: 'Change a traffic account', description: 'Changes name, API key, default sender or the Mitto requests per second of an account; applies to batches that start afterwards.' })
  @ApiBody({ type: UpdateTrafficAccountDto, examples: { rate: { summary: 'A lower rate limit', value: UPDATE_TRAFFIC_ACCOUNT_BODY } } })
  @ApiOkResponse({ type: TrafficAccountView, description: 'The changed account', example: { ...TRAFFIC_ACCOUNT, rateLimitPerSecond: 50 } })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE')
  updateTrafficAccount(@Param('id', ParseIdPipe) id: string, @Body() dto: UpdateTrafficAccountDto): Promise<TrafficAccountView> {
    return this.tenants.updateTrafficAccount(id, dto);
  }

  @Post('tenants')
  @ApiOperation({
    summary: 'Create a tenant',
    description: 'Creates a tenant with its first credits and returns its API key: the only time the key is shown (it is stored hashed). Hand it to the tenant over a safe channel.',
  })
  @ApiBody({ type: CreateTenantDto, examples: { tenant: { summary: 'An active tenant with credits', value: CREATE_TENANT_BODY } } })
  @ApiCreatedResponse({ type: CreatedTenantView, description: 'The tenant and its API key (returned only here)', example: CREATED_TENANT })
  @ApiErrors('VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE')
  createTenant(@Body() dto: CreateTenantDto): Promise<CreatedTenantView> {
    return this.tenants.createTenant(dto);
  }

  @Get('tenants')
  @ApiOperation({ summary: 'List tenants', description: 'Every tenant with its subscription and credits.' })
  @ApiOkResponse({ type: [TenantView], description: 'All tenants', example: [TENANT] })
  listTenants(): Promise<TenantView[]> {
    return this.tenants.listTenants();
  }

  @Get('tenants/:id')
  @ApiOperation({ summary: 'Get a tenant', description: 'One tenant with its subscription and credits.' })
  @ApiOkResponse({ type: TenantView, description: 'The tenant', example: TENANT })
  @ApiErrors('NOT_FOUND')
  getTenant(@Param('id', ParseIdPipe) id: string): Promise<TenantView> {
    return this.tenants.getTenant(id);
  }

  @Patch('tenants/:id')
  @ApiOperation({
    summary: 'Change a tenant',
    description:
      'Changes name, subscription, traffic account, the tenant\'s Mitto requests per second, or `bulkSending` (`default` follows ' +
      'USE_BULK_SMS, `on`, `off`: the gradual rollout of the bulk flow; it applies to batches that start afterwards, also of ' +
      'campaigns already sending, and never sends anything twice). An inactive subscription stops new campaigns from starting.',
  })
  @ApiBody({
    type: UpdateTenantDto,
    examples: {
      deactivate: { summary: 'Deactivate the subscription', value: UPDATE_TENANT_BODY },
      rollout: { summary: 'Move this tenant to the bulk flow', value: ROLLOUT_TENANT_BODY },
    },
  })
  @ApiOkResponse({ type: TenantView, description: 'The changed tenant', example: { ...TENANT, subscriptionStatus: 'inactive' } })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE')
  updateTenant(@Param('id', ParseIdPipe) id: string, @Body() dto: UpdateTenantDto): Promise<TenantView> {
    return this.tenants.updateTenant(id, dto);
  }

  @Post('tenants/:id/credits')
  @HttpCode(201)
  @ApiOperation({ summary: 'Top up credits', description: 'Adds `amount` credits to the tenant\'s balance; the ledger records it with `reason`.' })
  @ApiBody({ type: TopUpCreditsDto, examples: { invoice: { summary: 'A paid invoice', value: TOP_UP_BODY } } })
  @ApiCreatedResponse({ type: CreditsView, description: 'The new balance', example: CREDITS })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE')
  topUp(@Param('id', ParseIdPipe) id: string, @Body() dto: TopUpCreditsDto): Promise<CreditsView> {
    return this.tenants.topUp(id, dto);
  }
}

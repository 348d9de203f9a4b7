import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { usesBulk } from './bulk-sending.js';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AppError } from '../common/app-error.js';
import { generateApiKey, hashApiKey } from '../common/secrets.js';
import { Tenant } from './tenant.entity.js';
import { TrafficAccount } from './traffic-account.entity.js';
import { CreditsService, type CreditBalance } from './credits.service.js';
import type {
  CreateTenantDto, CreateTrafficAccountDto, CreatedTenantView, TenantView, TopUpCreditsDto, TrafficAccountView, UpdateTenantDto,
  UpdateTrafficAccountDto,
} from './dto/admin.dto.js';

/** Tenants, their subscription and credits, and Mitto traffic accounts (admin side). */
@Injectable()
export class TenantsService {
  constructor(
    private readonly db: DataSource,
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    @InjectRepository(TrafficAccount) private readonly accounts: Repository<TrafficAccount>,
    private readonly credits: CreditsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.useBulkByDefault = config.get('sending', { infer: true }).useBulk;
  }

  private readonly useBulkByDefault: boolean;

  async createTrafficAccount(dto: CreateTrafficAccountDto): Promise<TrafficAccountView> {
    const saved = await this.accounts.save(
      this.accounts.create({
        name: dto.name,
        mittoTrafficAccountId: dto.mittoTrafficAccountId,
        apiKey: dto.apiKey ?? null,
        defaultSender: dto.defaultSender,
        rateLimitPerSecond: dto.rateLimitPerSecond ?? null,
      }),
    );
    return toTrafficAccountView(saved);
  }

  async updateTrafficAccount(id: string, dto: UpdateTrafficAccountDto): Promise<TrafficAccountView> {
    const changes: Partial<TrafficAccount> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.apiKey !== undefined) changes.apiKey = dto.apiKey;
    if (dto.defaultSender !== undefined) changes.defaultSender = dto.defaultSender;
    if (dto.rateLimitPerSecond !== undefined) changes.rateLimitPerSecond = dto.rateLimitPerSecond;
    if (Object.keys(changes).length > 0) {
      const result = await this.accounts.update({ id }, changes);
      if (!result.affected) throw AppError.notFound('Traffic account');
    }
    const account = await this.accounts.createQueryBuilder('a').addSelect('a.apiKey').where('a.id = :id', { id }).getOne();
    if (!account) throw AppError.notFound('Traffic account');
    return toTrafficAccountView(account);
  }

  async listTrafficAccounts(): Promise<TrafficAccountView[]> {
    const rows = await this.accounts
      .createQueryBuilder('a')
      .addSelect('a.apiKey')
      .orderBy('a.createdAt', 'ASC')
      .getMany();
    return rows.map(toTrafficAccountView);
  }

  async createTenant(dto: CreateTenantDto): Promise<CreatedTenantView> {
    if (dto.trafficAccountId) await this.requireTrafficAccount(dto.trafficAccountId);
    const apiKey = generateApiKey();
    return this.db.transaction(async (tx) => {
      const tenant = await tx.save(
        tx.create(Tenant, {
          name: dto.name,
          apiKeyHash: hashApiKey(apiKey),
          apiKeyPrefix: apiKey.slice(0, 8),
          subscriptionStatus: dto.subscriptionStatus ?? 'active',
          creditBalance: 0,
          creditReserved: 0,
          rateLimitPerSecond: dto.rateLimitPerSecond ?? null,
          trafficAccountId: dto.trafficAccountId ?? null,
        }),
      );
      const credits = dto.credits
        ? await this.credits.topUp(tx, tenant.id, dto.credits, 'initial credits')
        : { balance: 0, reserved: 0 };
      return { ...toTenantView(tenant, credits, this.useBulkByDefault), apiKey };
    });
  }

  async getTenant(id: string): Promise<TenantView> {
    const tenant = await this.tenants.findOneBy({ id });
    if (!tenant) throw AppError.notFound('Tenant');
    return toTenantView(tenant, { balance: tenant.creditBalance, reserved: tenant.creditReserved }, this.useBulkByDefault);
  }

  async listTenants(): Promise<TenantView[]> {
    const rows = await this.tenants.find({ order: { createdAt: 'ASC' } });
    return rows.map((t) => toTenantView(t, { balance: t.creditBalance, reserved: t.creditReserved }, this.useBulkByDefault));
  }

  async updateTenant(id: string, dto: UpdateTenantDto): Promise<TenantView> {
    if (dto.trafficAccountId) await this.requireTrafficAccount(dto.trafficAccountId);
    const changes: Partial<Tenant> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.subscriptionStatus !== undefined) changes.subscriptionStatus = dto.subscriptionStatus;
    if (dto.rateLimitPerSecond !== undefined) changes.rateLimitPerSecond = dto.rateLimitPerSecond;
    if (dto.trafficAccountId !== undefined) changes.trafficAccountId = dto.trafficAccountId;
    if (dto.bulkSending !== undefined) changes.bulkSending = dto.bulkSending;
    if (Object.keys(changes).length > 0) {
      const result = await this.tenants.update({ id }, changes);
      if (!result.affected) throw AppError.notFound('Tenant');
    }
    return this.getTenant(id);
  }

  async topUp(id: string, dto: TopUpCreditsDto): Promise<CreditBalance> {
    return this.db.transaction((tx) => this.credits.topUp(tx, id, dto.amount, dto.reason ?? null));
  }

  private async requireTrafficAccount(id: string): Promise<void> {
    if (!(await this.accounts.existsBy({ id }))) {
      throw AppError.validation([{ field: 'trafficAccountId', message: 'No traffic account with this id' }]);
    }
  }
}

export function toTenantView(t: Tenant, credits: CreditBalance, useBulkByDefault: boolean): TenantView {
  return {
    id: t.id,
    name: t.name,
    subscriptionStatus: t.subscriptionStatus,
    credits,
    rateLimitPerSecond: t.rateLimitPerSecond,
    trafficAccountId: t.trafficAccountId,
    bulkSending: t.bulkSending,
    bulkSendingEffective: usesBulk(t.bulkSending, useBulkByDefault),
    createdAt: t.createdAt.toISOString(),
  };
}

function toTrafficAccountView(a: TrafficAccount): TrafficAccountView {
  return {
    id: a.id,
    name: a.name,
    mittoTrafficAccountId: a.mittoTrafficAccountId,
    defaultSender: a.defaultSender,
    rateLimitPerSecond: a.rateLimitPerSecond,
    hasOwnApiKey: a.apiKey !== null && a.apiKey !== undefined,
    createdAt: a.createdAt.toISOString(),
  };
}

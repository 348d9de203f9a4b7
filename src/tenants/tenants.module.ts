import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Tenant } from './tenant.entity.js';
import { TrafficAccount } from './traffic-account.entity.js';
import { CreditLedgerEntry } from './credit-ledger-entry.entity.js';
import { TenantsService } from './tenants.service.js';
import { CreditsService } from './credits.service.js';
import { AdminController } from './admin.controller.js';
import { MeController } from './me.controller.js';

/** Tenants, API keys, subscriptions, credits (ledger) and Mitto traffic accounts. */
@Module({
  imports: [TypeOrmModule.forFeature([Tenant, TrafficAccount, CreditLedgerEntry])],
  controllers: [AdminController, MeController],
  providers: [TenantsService, CreditsService],
  exports: [TenantsService, CreditsService],
})
export class TenantsModule {}

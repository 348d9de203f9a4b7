import { Check, Column, ForeignKey, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { TrafficAccount } from './traffic-account.entity.js';
import type { BulkSending } from './bulk-sending.js';

export type SubscriptionStatus = 'active' | 'inactive';

const bigintColumn = { type: 'bigint' as const, transformer: { to: (v: number) => v, from: (v: string) => Number(v) } };

/** A customer (marketing team). Credits: `balance` is spendable, `reserved` is held by running campaigns. */
@Entity('tenants')
@Unique('uq_tenants_api_key_hash', ['apiKeyHash'])
@Check('ck_tenants_subscription_status', `subscription_status IN ('active', 'inactive')`)
@Check('ck_tenants_credit_balance', 'credit_balance >= 0')
@Check('ck_tenants_credit_reserved', 'credit_reserved >= 0')
@Check('ck_tenants_rate_limit', 'rate_limit_per_second IS NULL OR rate_limit_per_second > 0')
@Check('ck_tenants_bulk_sending', `bulk_sending IN ('default', 'on', 'off')`)
export class Tenant {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_tenants' }) id: string;
  @Column('text') name: string;
  /** SHA-256 (hex) of the tenant's API key; the key itself is shown once at creation. */
  @Column('char', { name: 'api_key_hash', length: 64, select: false }) apiKeyHash: string;
  @Column('text', { name: 'api_key_prefix' }) apiKeyPrefix: string;
  @Column('text', { name: 'subscription_status', default: 'active' }) subscriptionStatus: SubscriptionStatus;
  @Column({ ...bigintColumn, name: 'credit_balance', default: 0 }) creditBalance: number;
  @Column({ ...bigintColumn, name: 'credit_reserved', default: 0 }) creditReserved: number;
  @Column('integer', { name: 'rate_limit_per_second', nullable: true }) rateLimitPerSecond: number | null;
  @Column('uuid', { name: 'traffic_account_id', nullable: true })
  @ForeignKey(() => TrafficAccount, { name: 'fk_tenants_traffic_account' })
  trafficAccountId: string | null;
  /** The bulk flow for this tenant: `default` follows USE_BULK_SMS (see bulk-sending.ts). */
  @Column('text', { name: 'bulk_sending', default: 'default' }) bulkSending: BulkSending;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export { bigintColumn };

import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type SubscriptionStatus = 'active' | 'inactive';

const bigintColumn = { type: 'bigint' as const, transformer: { to: (v: number) => v, from: (v: string) => Number(v) } };

/** A customer (marketing team). Credits: `balance` is spendable, `reserved` is held by running campaigns. */
@Entity('tenants')
export class Tenant {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  /** SHA-256 (hex) of the tenant's API key; the key itself is shown once at creation. */
  @Column('char', { name: 'api_key_hash', length: 64, select: false }) apiKeyHash: string;
  @Column('text', { name: 'api_key_prefix' }) apiKeyPrefix: string;
  @Column('text', { name: 'subscription_status' }) subscriptionStatus: SubscriptionStatus;
  @Column({ ...bigintColumn, name: 'credit_balance' }) creditBalance: number;
  @Column({ ...bigintColumn, name: 'credit_reserved' }) creditReserved: number;
  @Column('integer', { name: 'rate_limit_per_second', nullable: true }) rateLimitPerSecond: number | null;
  @Column('uuid', { name: 'traffic_account_id', nullable: true }) trafficAccountId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export { bigintColumn };

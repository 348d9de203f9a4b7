import { Check, Column, ForeignKey, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintColumn, Tenant } from './tenant.entity.js';
import { Campaign } from '../campaigns/campaign.entity.js';

export type CreditLedgerKind = 'topup' | 'reserve' | 'debit' | 'refund';

/** One credit movement. Rows are only ever inserted (by CreditsService or the status trigger). */
@Entity('credit_ledger')
@Check('ck_credit_ledger_kind', `kind IN ('topup', 'reserve', 'debit', 'refund')`)
@Check('ck_credit_ledger_amount', 'amount > 0')
@Index('ix_credit_ledger_tenant', { synchronize: false })
@Index('ix_credit_ledger_campaign', { synchronize: false })
export class CreditLedgerEntry {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_credit_ledger' }) id: string;
  @Column('uuid', { name: 'tenant_id' })
  @ForeignKey(() => Tenant, { name: 'fk_credit_ledger_tenant' })
  tenantId: string;
  @Column('uuid', { name: 'campaign_id', nullable: true })
  @ForeignKey(() => Campaign, { name: 'fk_credit_ledger_campaign', onDelete: 'SET NULL' })
  campaignId: string | null;
  @Column('text') kind: CreditLedgerKind;
  @Column({ ...bigintColumn }) amount: number;
  @Column({ ...bigintColumn, name: 'balance_after' }) balanceAfter: number;
  @Column({ ...bigintColumn, name: 'reserved_after' }) reservedAfter: number;
  @Column('text', { nullable: true }) reason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

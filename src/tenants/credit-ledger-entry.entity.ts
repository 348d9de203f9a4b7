import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintColumn } from './tenant.entity.js';

export type CreditLedgerKind = 'topup' | 'reserve' | 'debit' | 'refund';

/** One credit movement. Rows are only ever inserted (by CreditsService or the status trigger). */
@Entity('credit_ledger')
export class CreditLedgerEntry {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' }) id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'campaign_id', nullable: true }) campaignId: string | null;
  @Column('text') kind: CreditLedgerKind;
  @Column({ ...bigintColumn }) amount: number;
  @Column({ ...bigintColumn, name: 'balance_after' }) balanceAfter: number;
  @Column({ ...bigintColumn, name: 'reserved_after' }) reservedAfter: number;
  @Column('text', { nullable: true }) reason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

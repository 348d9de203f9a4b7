import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintColumn } from '../tenants/tenant.entity.js';
import type { CampaignStatus } from './campaign-state.js';

/** A campaign. Sending bookkeeping (`batch*`, `dispatch*`, `credits*`) is owned by the messaging module. */
@Entity('campaigns')
export class Campaign {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') name: string;
  @Column('text') text: string;
  @Column('text', { nullable: true }) sender: string | null;
  @Column('text') status: CampaignStatus;
  @Column('timestamptz', { name: 'scheduled_at', nullable: true }) scheduledAt: Date | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt: Date | null;
  @Column('uuid', { name: 'traffic_account_id', nullable: true }) trafficAccountId: string | null;
  @Column('integer', { name: 'next_seq' }) nextSeq: number;
  @Column('integer', { name: 'batch_size', nullable: true }) batchSize: number | null;
  @Column('integer', { name: 'batch_count' }) batchCount: number;
  @Column('integer', { name: 'dispatched_batches' }) dispatchedBatches: number;
  @Column('integer', { name: 'dispatch_generation' }) dispatchGeneration: number;
  @Column('boolean', { name: 'credits_held' }) creditsHeld: boolean;
  @Column({ ...bigintColumn, name: 'credits_reserved' }) creditsReserved: number;
  @Column('integer', { name: 'credits_per_segment' }) creditsPerSegment: number;
  @Column('integer', { name: 'ucs2_messages' }) ucs2Messages: number;
  @Column('text', { name: 'non_gsm_characters', array: true }) nonGsmCharacters: string[];
  @Column('timestamptz', { name: 'last_activity_at', nullable: true }) lastActivityAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { Campaign } from './campaign.entity.js';

export type BatchState = 'pending' | 'done';
export type SendMode = 'bulk' | 'single';

/**
 * One batch of a campaign: the messages with seq in [batch·B, (batch+1)·B), B = the campaign's batch size.
 * The unit of ownership while sending (a lease) and the index of every periodic scan (see the
 * batch-leases migration and docs/ARCHITECTURE.md). Written with plain SQL by batch-leases.repository.ts,
 * campaign-batches.repository.ts and batch-recovery.repository.ts.
 */
@Entity('campaign_batches')
@Check('ck_campaign_batches_state', `state IN ('pending', 'done')`)
@Check('ck_campaign_batches_mode', `mode IS NULL OR mode IN ('bulk', 'single')`)
@Check('ck_campaign_batches_inflight', '(inflight_from IS NULL) = (inflight_to IS NULL)')
// Partial indexes, declared for the reader; their predicates live in the migration.
@Index('ix_campaign_batches_pending', { synchronize: false })
@Index('ix_campaign_batches_unknown', { synchronize: false })
@Index('ix_campaign_batches_check', { synchronize: false })
export class CampaignBatch {
  @PrimaryColumn('uuid', { name: 'campaign_id', primaryKeyConstraintName: 'pk_campaign_batches' })
  @ForeignKey(() => Campaign, { name: 'fk_campaign_batches_campaign', onDelete: 'CASCADE' })
  campaignId: string;
  @PrimaryColumn('integer', { primaryKeyConstraintName: 'pk_campaign_batches' }) batch: number;
  /** `pending` while any of its messages is queued; `done` otherwise. */
  @Column('text', { default: 'pending' }) state: BatchState;
  /** Bumped when recovery hands the batch to a fresh job (its job failed for good or vanished). */
  @Column('integer', { name: 'job_round', default: 0 }) jobRound: number;
  @Column('uuid', { name: 'lease_token', nullable: true }) leaseToken: string | null;
  @Column('timestamptz', { name: 'lease_expires_at', nullable: true }) leaseExpiresAt: Date | null;
  /** Write-ahead marker: seq range of the Mitto call in progress (may have reached Mitto). */
  @Column('integer', { name: 'inflight_from', nullable: true }) inflightFrom: number | null;
  @Column('integer', { name: 'inflight_to', nullable: true }) inflightTo: number | null;
  /** The flow of the current (or last) lease. */
  @Column('text', { nullable: true }) mode: SendMode | null;
  /** Since when the batch has `unknown` messages waiting for UNKNOWN_POLICY. */
  @Column('timestamptz', { name: 'unknown_at', nullable: true }) unknownAt: Date | null;
  @Column('timestamptz', { name: 'first_sent_at', nullable: true }) firstSentAt: Date | null;
  /** Next reconciliation lookup of its sent messages without a final status (null: nothing to check). */
  @Column('timestamptz', { name: 'check_at', nullable: true }) checkAt: Date | null;
  @Column('integer', { default: 0 }) checks: number;
  /** All its queued messages wait (their send window, the canary): not leased before this. */
  @Column('timestamptz', { name: 'not_before', nullable: true }) notBefore: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

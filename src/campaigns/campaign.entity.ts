import { Check, Column, ForeignKey, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintColumn, Tenant } from '../tenants/tenant.entity.js';
import { TrafficAccount } from '../tenants/traffic-account.entity.js';
import type { CampaignStatus } from './campaign-state.js';
import type { AutoPauseSettings, CanarySettings, CanaryState, FailureWindow, PauseReason, SendWindowSettings } from '../guard-rails/guard-rails.types.js';

/** A campaign. Sending bookkeeping (`batch*`, `dispatch*`, `credits*`) is owned by the messaging module. */
@Entity('campaigns')
@Check('ck_campaigns_status', `status IN ('draft', 'scheduled', 'sending', 'paused', 'completed', 'failed', 'cancelled')`)
@Check('ck_campaigns_credits_reserved', 'credits_reserved >= 0')
@Check('ck_campaigns_batch_size', 'batch_size IS NULL OR batch_size > 0')
@Check('ck_campaigns_pause_reason', `pause_reason IS NULL OR pause_reason IN ('USER', 'FAILURE_RATE', 'CANARY_FAILED')`)
@Check('ck_campaigns_canary_state', `canary_state IS NULL OR canary_state IN ('pending', 'passed', 'failed')`)
// Declared for the reader; their exact shape (DESC order, partial predicate) lives in the migration.
@Index('ix_campaigns_tenant_created', { synchronize: false })
@Index('ix_campaigns_open', { synchronize: false })
@Index('ix_campaigns_purge', { synchronize: false })
export class Campaign {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_campaigns' }) id: string;
  @Column('uuid', { name: 'tenant_id' })
  @ForeignKey(() => Tenant, { name: 'fk_campaigns_tenant' })
  tenantId: string;
  @Column('text') name: string;
  @Column('text') text: string;
  @Column('text', { nullable: true }) sender: string | null;
  @Column('text', { default: 'draft' }) status: CampaignStatus;
  @Column('timestamptz', { name: 'scheduled_at', nullable: true }) scheduledAt: Date | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt: Date | null;
  @Column('uuid', { name: 'traffic_account_id', nullable: true })
  @ForeignKey(() => TrafficAccount, { name: 'fk_campaigns_traffic_account' })
  trafficAccountId: string | null;
  @Column('integer', { name: 'next_seq', default: 0 }) nextSeq: number;
  @Column('integer', { name: 'batch_size', nullable: true }) batchSize: number | null;
  @Column('integer', { name: 'batch_count', default: 0 }) batchCount: number;
  @Column('integer', { name: 'dispatched_batches', default: 0 }) dispatchedBatches: number;
  @Column('integer', { name: 'dispatch_generation', default: 0 }) dispatchGeneration: number;
  @Column('boolean', { name: 'credits_held', default: false }) creditsHeld: boolean;
  @Column({ ...bigintColumn, name: 'credits_reserved', default: 0 }) creditsReserved: number;
  @Column('integer', { name: 'credits_per_segment', default: 1 }) creditsPerSegment: number;
  @Column('integer', { name: 'ucs2_messages', default: 0 }) ucs2Messages: number;
  @Column('text', { name: 'non_gsm_characters', array: true, default: () => "'{}'" }) nonGsmCharacters: string[];
  @Column('timestamptz', { name: 'last_activity_at', nullable: true }) lastActivityAt: Date | null;
  /** Ended and nothing of it open any more (no pending batch, no unknown message): the sweep stops looking. */
  @Column('timestamptz', { name: 'settled_at', nullable: true }) settledAt: Date | null;
  /** The purge of its messages began (MESSAGE_RETENTION_DAYS after settling): the API lists none of them from then on. */
  @Column('timestamptz', { name: 'messages_purged_at', nullable: true }) messagesPurgedAt: Date | null;
  /** Every message, provider-id and batch row of it is deleted; the purge stops looking at it. */
  @Column('boolean', { name: 'messages_purge_done', default: false }) messagesPurgeDone: boolean;
  /** Send time of the latest message Mitto has reported on (delivery reports flow up to here). */
  @Column('timestamptz', { name: 'last_report_sent_at', nullable: true }) lastReportSentAt: Date | null;
  // Guard rails (docs/ARCHITECTURE.md, "Guard rails"): settings, then the state they keep.
  @Column('jsonb', { name: 'send_window', nullable: true }) sendWindow: SendWindowSettings | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('jsonb', { name: 'auto_pause', nullable: true }) autoPause: AutoPauseSettings | null;
  @Column('jsonb', { nullable: true }) canary: CanarySettings | null;
  @Column('text', { name: 'pause_reason', nullable: true }) pauseReason: PauseReason | null;
  @Column('text', { name: 'canary_state', nullable: true }) canaryState: CanaryState | null;
  /** Messages with a smaller seq are the canary. */
  @Column('integer', { name: 'canary_until_seq', nullable: true }) canaryUntilSeq: number | null;
  @Column('integer', { name: 'canary_messages', nullable: true }) canaryMessages: number | null;
  @Column('timestamptz', { name: 'canary_sent_at', nullable: true }) canarySentAt: Date | null;
  /** Two checkpoints of the outcome counters: the failure rate is judged on what happened since the older. */
  @Column('jsonb', { name: 'failure_window', nullable: true }) failureWindow: FailureWindow | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

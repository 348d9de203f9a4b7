import { Check, Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

export const MESSAGE_STATUSES = [
  'queued', 'sending', 'sent', 'unknown', 'delivered', 'undelivered', 'failed', 'cancelled', 'skipped',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * One recipient of a campaign and the message sent to it. Written on hot paths with plain SQL
 * (see campaign-messages.repository.ts); this entity serves reads and the schema's documentation.
 */
@Entity('campaign_messages')
@Unique('uq_campaign_messages_campaign_seq', ['campaignId', 'seq'])
@Unique('uq_campaign_messages_campaign_phone', ['campaignId', 'phone'])
@Check('ck_campaign_messages_status', `status IN ('queued', 'sending', 'sent', 'unknown', 'delivered', 'undelivered', 'failed', 'cancelled', 'skipped')`)
// Partial indexes, declared for the reader; their predicates live in the migration.
@Index('ix_campaign_messages_provider_id', { synchronize: false })
@Index('ix_campaign_messages_unsettled', { synchronize: false })
export class CampaignMessage {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_campaign_messages' }) id: string;
  /** No foreign key (per-row checks slowed the import): see migrations/1764500000000-import-copy.ts. */
  @Column('uuid', { name: 'campaign_id' }) campaignId: string;
  /** Position in the campaign; batch k of a campaign is seq range [k*batchSize, (k+1)*batchSize). */
  @Column('integer') seq: number;
  @Column('text') phone: string;
  @Column('jsonb', { nullable: true }) variables: Record<string, string> | null;
  @Column('smallint') segments: number;
  @Column('text', { default: 'queued' }) status: MessageStatus;
  @Column('text', { name: 'provider_message_id', nullable: true }) providerMessageId: string | null;
  @Column('text', { name: 'bulk_id', nullable: true }) bulkId: string | null;
  @Column('smallint', { name: 'retry_count', default: 0 }) retryCount: number;
  @Column('uuid', { name: 'claim_token', nullable: true }) claimToken: string | null;
  @Column('timestamptz', { name: 'claimed_at', nullable: true }) claimedAt: Date | null;
  @Column('text', { name: 'provider_status', nullable: true }) providerStatus: string | null;
  @Column('text', { name: 'error_code', nullable: true }) errorCode: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage: string | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt: Date | null;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

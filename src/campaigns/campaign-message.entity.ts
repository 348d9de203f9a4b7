import { Check, Column, Entity, PrimaryColumn, Unique } from 'typeorm';

export const MESSAGE_STATUSES = [
  'queued', 'sent', 'unknown', 'delivered', 'undelivered', 'failed', 'cancelled', 'skipped', 'expired',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * One recipient of a campaign and the message sent to it. Written on hot paths with plain SQL
 * (see campaign-messages.repository.ts); this entity serves reads and the schema's documentation.
 */
@Entity('campaign_messages')
@Unique('uq_campaign_messages_campaign_seq', ['campaignId', 'seq'])
@Unique('uq_campaign_messages_campaign_phone', ['campaignId', 'phone'])
@Check('ck_campaign_messages_status', `status IN ('queued', 'sent', 'unknown', 'delivered', 'undelivered', 'failed', 'cancelled', 'skipped', 'expired')`)
// Nothing indexes a column that sending or a delivery report changes (status, provider id): periodic work
// is found through campaign_batches, provider ids through campaign_message_provider_ids, and pages are
// filled to 40 % (migrations 1764400000000-batch-leases and 1764900000000-messages-fillfactor-40), so
// those updates stay HOT.
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
  @Column('text', { name: 'provider_status', nullable: true }) providerStatus: string | null;
  @Column('text', { name: 'error_code', nullable: true }) errorCode: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage: string | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt: Date | null;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

/** Provider id → message: the reverse lookup for delivery reports that do not carry our reference. Insert-only. */
@Entity('campaign_message_provider_ids')
export class CampaignMessageProviderId {
  @PrimaryColumn('text', { name: 'provider_message_id', primaryKeyConstraintName: 'pk_campaign_message_provider_ids' }) providerMessageId: string;
  @Column('uuid', { name: 'message_id' }) messageId: string;
}

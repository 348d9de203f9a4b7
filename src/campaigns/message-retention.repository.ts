import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/sql.js';
import type { DueCampaign, PurgeStore } from './message-purge.js';

/** Only rows of a campaign whose purge began are ever deleted (its own statement re-checks it). */
const PURGING = `EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.messages_purged_at IS NOT NULL)`;

/**
 * The SQL of message retention (MESSAGE_RETENTION_DAYS): deletes the message, provider-id and batch rows
 * of campaigns settled longer ago than the retention. The campaign row, its counters
 * (`campaign_message_counts`) and the credit ledger stay: no trigger fires on these DELETEs (the
 * counters and credits follow INSERT and UPDATE of messages only), so no count, metric or credit moves.
 *
 * Never in the way of sending: a settled campaign has nothing queued, unknown or pending, so no batch
 * lease, marker or result write touches its rows; a delivery report that arrives late may update one of
 * its messages, and the chunk skips that row (SKIP LOCKED) instead of waiting for it — a later run takes it.
 */
@Injectable()
export class MessageRetentionRepository implements PurgeStore {
  constructor(private readonly db: DataSource) {}

  /** Settled campaigns past the retention whose purge is not done, oldest first (ix_campaigns_purge). */
  async due(retentionDays: number, limit: number): Promise<DueCampaign[]> {
    return queryRows<DueCampaign>(this.db,
      `SELECT id, messages_purged_at IS NOT NULL AS started FROM campaigns
        WHERE settled_at IS NOT NULL AND NOT messages_purge_done AND settled_at < now() - make_interval(days => $1)
        ORDER BY settled_at LIMIT $2`,
      [retentionDays, limit],
    );
  }

  /** From here on the API lists none of the campaign's messages (they are going). */
  async markStarted(campaignId: string): Promise<void> {
    await this.db.query(
      `UPDATE campaigns SET messages_purged_at = now(), updated_at = now()
        WHERE id = $1 AND settled_at IS NOT NULL AND messages_purged_at IS NULL`,
      [campaignId],
    );
  }

  /**
   * One chunk of messages, in seq order after `afterSeq` ((campaign_id, seq) index), with their rows in
   * campaign_message_provider_ids: a row there always names a message whose provider_message_id it is
   * (both are written together, and a message's provider id never changes once set), so the chunk finds
   * them by primary key. A provider id that maps to another message (a conflict at insert) stays with it;
   * a row this missed would only be left over (a report naming it finds no message: `unknown`).
   */
  async deleteMessages(campaignId: string, afterSeq: number, limit: number): Promise<{ deleted: number; lastSeq: number | null }> {
    const [row] = await queryRows<{ deleted: number; last_seq: number | null }>(this.db,
      `WITH chunk AS (
         SELECT m.id, m.seq, m.provider_message_id FROM campaign_messages m
          WHERE m.campaign_id = $1 AND m.seq > $2 AND ${PURGING}
          ORDER BY m.seq LIMIT $3
          FOR UPDATE OF m SKIP LOCKED
       ), provider_ids AS (
         DELETE FROM campaign_message_provider_ids x USING chunk k
          WHERE k.provider_message_id IS NOT NULL AND x.provider_message_id = k.provider_message_id AND x.message_id = k.id
       ), gone AS (
         DELETE FROM campaign_messages m USING chunk k WHERE m.id = k.id RETURNING m.seq
       )
       SELECT count(*)::int AS deleted, max(seq) AS last_seq FROM gone`,
      [campaignId, afterSeq, limit],
    );
    return { deleted: row.deleted, lastSeq: row.last_seq };
  }

  async deleteBatches(campaignId: string, limit: number): Promise<number> {
    const [row] = await queryRows<{ deleted: number }>(this.db,
      `WITH chunk AS (
         SELECT b.batch FROM campaign_batches b
          WHERE b.campaign_id = $1 AND ${PURGING}
          ORDER BY b.batch LIMIT $2
          FOR UPDATE OF b SKIP LOCKED
       ), gone AS (
         DELETE FROM campaign_batches b USING chunk k WHERE b.campaign_id = $1 AND b.batch = k.batch RETURNING 1
       )
       SELECT count(*)::int AS deleted FROM gone`,
      [campaignId, limit],
    );
    return row.deleted;
  }

  async finish(campaignId: string): Promise<boolean> {
    const rows = await queryRows(this.db,
      `UPDATE campaigns c SET messages_purge_done = true
        WHERE c.id = $1 AND c.messages_purged_at IS NOT NULL AND NOT c.messages_purge_done
          AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM campaign_batches b WHERE b.campaign_id = c.id)
        RETURNING 1`,
      [campaignId],
    );
    return rows.length > 0;
  }
}

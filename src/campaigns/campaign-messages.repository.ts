import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { DataSource, type EntityManager } from 'typeorm';

export interface NewMessageRow {
  id: string;
  phone: string;
  variables: Record<string, string> | null;
  segments: number;
  ucs2: boolean;
}

/** A queued message of a batch, as the batch's lease holder reads it before sending. */
export interface QueuedMessage {
  id: string;
  seq: number;
  phone: string;
  variables: Record<string, string> | null;
  segments: number;
  /** On the tenant's suppression list now: becomes `skipped` instead of being sent. */
  suppressed: boolean;
}

/**
 * Hot-path SQL on `campaign_messages` outside sending (import, reads). Statements that move a message
 * out of `queued` live in campaign-batches.repository.ts, under the batch lease. Status moves fire the
 * counters/credits trigger (see the migrations).
 */
@Injectable()
export class CampaignMessagesRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Inserts one chunk of validated recipients at seq base..base+n-1; suppressed numbers and numbers
   * already in the campaign are left out and counted.
   */
  async insertChunk(
    tx: EntityManager,
    campaignId: string,
    tenantId: string,
    seqBase: number,
    rows: NewMessageRow[],
  ): Promise<{ inserted: number; suppressed: number; ucs2: number }> {
    const [result] = await queryRows<{ inserted: number; suppressed: number; ucs2: number }>(tx,
      `WITH input AS (
         SELECT * FROM unnest($4::uuid[], $5::text[], $6::jsonb[], $7::int2[], $8::bool[])
           WITH ORDINALITY AS u(id, phone, variables, segments, ucs2, ord)
       ), suppressed AS (
         SELECT i.id FROM input i JOIN suppressions s ON s.tenant_id = $2 AND s.phone = i.phone
       ), ins AS (
         INSERT INTO campaign_messages (id, campaign_id, seq, phone, variables, segments)
         SELECT i.id, $1, $3 + i.ord - 1, i.phone, i.variables, i.segments FROM input i
          WHERE NOT EXISTS (SELECT 1 FROM suppressed x WHERE x.id = i.id)
          ORDER BY i.ord
         ON CONFLICT (campaign_id, phone) DO NOTHING
         RETURNING id
       )
       SELECT (SELECT count(*) FROM ins)::int AS inserted,
              (SELECT count(*) FROM suppressed)::int AS suppressed,
              (SELECT count(*) FROM ins JOIN input USING (id) WHERE input.ucs2)::int AS ucs2`,
      [
        campaignId,
        tenantId,
        seqBase,
        rows.map((r) => r.id),
        rows.map((r) => r.phone),
        rows.map((r) => (r.variables ? JSON.stringify(r.variables) : null)),
        rows.map((r) => r.segments),
        rows.map((r) => r.ucs2),
      ],
    );
    return result;
  }

  /**
   * The batch's queued messages in seq order (its own seq range, through the (campaign, seq) index),
   * with whether each number is suppressed now. A read: the batch's lease is what makes them ours.
   */
  async readQueued(campaignId: string, tenantId: string, seqFrom: number, seqTo: number): Promise<QueuedMessage[]> {
    return queryRows<QueuedMessage>(this.db,
      `SELECT m.id, m.seq, m.phone, m.variables, m.segments,
              EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = $2 AND s.phone = m.phone) AS suppressed
         FROM campaign_messages m
        WHERE m.campaign_id = $1 AND m.seq >= $3 AND m.seq < $4 AND m.status = 'queued'
        ORDER BY m.seq`,
      [campaignId, tenantId, seqFrom, seqTo],
    );
  }

  /**
   * Cancels the messages of a campaign that was never started (it has no batches, so nothing can be
   * sending them), one seq range per statement.
   */
  async cancelNeverSent(campaignId: string, seqFrom: number, seqTo: number): Promise<number> {
    const rows = await queryRows(this.db,
      `UPDATE campaign_messages SET status = 'cancelled', error_code = 'CAMPAIGN_CANCELLED', updated_at = now()
        WHERE campaign_id = $1 AND seq >= $2 AND seq < $3 AND status = 'queued' RETURNING 1`,
      [campaignId, seqFrom, seqTo],
    );
    return rows.length;
  }

  async counts(campaignId: string, tx?: EntityManager): Promise<Array<{ status: string; messages: string; segments: string }>> {
    return queryRows(tx ?? this.db,
      `SELECT status, messages, segments FROM campaign_message_counts WHERE campaign_id = $1`,
      [campaignId],
    );
  }
}

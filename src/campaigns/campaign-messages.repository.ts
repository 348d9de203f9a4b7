import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * SQL on `campaign_messages` outside sending (reads; the import writes through CampaignMessagesCopyWriter). Statements that move a message
 * out of `queued` live in campaign-batches.repository.ts and batch-leases.repository.ts, under the batch lease. Status moves fire the
 * counters/credits trigger (see the migrations).
 */
@Injectable()
export class CampaignMessagesRepository {
  constructor(private readonly db: DataSource) {}

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

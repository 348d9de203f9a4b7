import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { DataSource, type EntityManager } from 'typeorm';
import type { MessageStatus } from './campaign-message.entity.js';

export interface ClaimedMessage {
  id: string;
  phone: string;
  variables: Record<string, string> | null;
  segments: number;
}

export interface MessageResult {
  id: string;
  status: Extract<MessageStatus, 'sent' | 'failed' | 'unknown' | 'queued' | 'skipped'>;
  providerMessageId?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
}

/**
 * Hot-path SQL on `campaign_messages`: set-based, one statement per batch step, always scoped to a
 * batch's own seq range (indexed) so its cost does not grow with the campaign.
 * Status moves fire the counters/credits trigger (see the initial migration).
 */
@Injectable()
export class CampaignMessagesRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Claims the batch's still-queued messages for one attempt (status `sending`, with this attempt's
   * token) in one statement; suppressed numbers become `skipped` in the same statement. Messages an
   * earlier attempt of this batch left in `sending` (it died mid-call) become `unknown`: they may
   * have reached Mitto, so they are never resent blindly.
   */
  async claimBatch(
    campaignId: string,
    tenantId: string,
    seqFrom: number,
    seqTo: number,
    token: string,
    retryCount: number,
  ): Promise<ClaimedMessage[]> {
    // One autocommit statement: the status trigger's locks on the campaign's counter rows are held
    // only until this statement commits, never across a round trip to the client (with an explicit
    // transaction, concurrent batches of a campaign queued behind each other on those rows).
    // Conditions stay on the target rows (m), so a concurrent claim re-checks them after waiting
    // for a row lock (EvalPlanQual): a message can never be claimed twice.
    const rows: Array<ClaimedMessage & { status: string }> = await queryRows(
      this.db,
      `WITH interrupted AS (
         UPDATE campaign_messages SET status = 'unknown', error_code = 'INTERRUPTED',
                error_message = 'A worker stopped while this message was being sent', updated_at = now()
          WHERE campaign_id = $1 AND seq >= $2 AND seq < $3 AND status = 'sending' AND claim_token <> $4
         RETURNING 1
       ), suppressed AS (
         SELECT s.phone FROM suppressions s
          WHERE s.tenant_id = $6
            AND s.phone IN (SELECT phone FROM campaign_messages WHERE campaign_id = $1 AND seq >= $2 AND seq < $3)
       )
       UPDATE campaign_messages m
          SET status = CASE WHEN m.phone IN (SELECT phone FROM suppressed) THEN 'skipped' ELSE 'sending' END,
              error_code = CASE WHEN m.phone IN (SELECT phone FROM suppressed) THEN 'SUPPRESSED' END,
              claim_token = $4, claimed_at = now(), retry_count = $5, updated_at = now()
        WHERE m.campaign_id = $1 AND m.seq >= $2 AND m.seq < $3 AND m.status = 'queued'
          AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.status = 'sending')
        RETURNING m.id, m.phone, m.variables, m.segments, m.status`,
      [campaignId, seqFrom, seqTo, token, retryCount, tenantId],
    );
    return rows.filter((r) => r.status === 'sending').map(({ status: _s, ...m }) => m);
  }

  /**
   * Writes an attempt's outcomes in one statement, only to rows this attempt still owns (its token,
   * still `sending` or moved to `unknown` meanwhile), so a late or repeated write changes nothing.
   */
  async writeResults(token: string, bulkId: string | null, results: MessageResult[]): Promise<number> {
    if (results.length === 0) return 0;
    const rows = await queryRows(this.db,
      `UPDATE campaign_messages m
          SET status = u.status,
              provider_message_id = coalesce(u.provider_id, m.provider_message_id),
              bulk_id = CASE WHEN u.status = 'sent' THEN $2 ELSE m.bulk_id END,
              error_code = u.error_code, error_message = u.error_message,
              sent_at = CASE WHEN u.status = 'sent' THEN now() ELSE m.sent_at END,
              claim_token = CASE WHEN u.status = 'queued' THEN NULL ELSE m.claim_token END,
              updated_at = now()
         FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(id, status, provider_id, error_code, error_message)
        WHERE m.id = u.id AND m.claim_token = $1 AND m.status IN ('sending', 'unknown')
        RETURNING 1`,
      [
        token,
        bulkId,
        results.map((r) => r.id),
        results.map((r) => r.status),
        results.map((r) => r.providerMessageId ?? null),
        results.map((r) => r.errorCode ?? null),
        results.map((r) => (r.errorMessage ? r.errorMessage.slice(0, 1000) : null)),
      ],
    );
    return rows.length;
  }

  /**
   * Cancels a campaign's queued messages in seq-ordered chunks, skipping rows a batch is claiming at
   * this moment (those go out with their batch), so cancel never waits on or deadlocks with workers.
   * The caller has already moved the campaign out of `sending`, so no new claim starts meanwhile.
   */
  async cancelQueued(campaignId: string): Promise<number> {
    let total = 0;
    for (let skipLocked = true; ; ) {
      const rows: unknown[] = await queryRows(
        this.db,
        `UPDATE campaign_messages SET status = 'cancelled', updated_at = now()
          WHERE id IN (SELECT id FROM campaign_messages WHERE campaign_id = $1 AND status = 'queued'
                        ORDER BY seq LIMIT 5000 FOR UPDATE ${skipLocked ? 'SKIP LOCKED' : ''})
            AND status = 'queued'
          RETURNING 1`,
        [campaignId],
      );
      total += rows.length;
      if (rows.length === 0 && !skipLocked) return total;
      // A pass that found only locked rows is followed by one that waits for them (a few ms).
      skipLocked = rows.length > 0;
    }
  }

  async counts(campaignId: string, tx?: EntityManager): Promise<Array<{ status: string; messages: string; segments: string }>> {
    return queryRows(tx ?? this.db,
      `SELECT status, messages, segments FROM campaign_message_counts WHERE campaign_id = $1`,
      [campaignId],
    );
  }

  /** Batches of a campaign that still have queued messages (recovery; reads the campaign's queued rows). */
  async batchesWithQueued(campaignId: string, batchSize: number): Promise<number[]> {
    const rows: Array<{ batch: number }> = await queryRows(this.db,
      `SELECT DISTINCT seq / $2 AS batch FROM campaign_messages WHERE campaign_id = $1 AND status = 'queued' ORDER BY 1`,
      [campaignId, batchSize],
    );
    return rows.map((r) => Number(r.batch));
  }
}

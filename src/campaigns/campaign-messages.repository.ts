import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { DataSource, type EntityManager } from 'typeorm';
import { CampaignMessage, type MessageStatus } from './campaign-message.entity.js';
import type { DueCheck } from './batch-recovery.repository.js';

/** A message a status lookup at Mitto can settle. */
export interface LookupRow {
  id: string;
  campaignId: string;
  providerMessageId: string;
  seq: number;
}

/** Messages a lookup can settle: accepted with a provider id and no final status yet. */
const ELIGIBLE = `campaign_id = $1 AND status IN ('sent', 'unknown') AND provider_message_id IS NOT NULL`;

/** Recipients re-rendered per statement after a text change. */
const REEVALUATE_CHUNK = 5_000;

/**
 * SQL on `campaign_messages` and its counters outside sending: reads (pages, counts, lookup targets), the
 * re-evaluation after a text change, and the cancel of a campaign never started. The import writes through
 * CampaignMessagesCopyWriter; statements that move a message out of `queued` while sending live in
 * campaign-batches.repository.ts and batch-leases.repository.ts, under the batch lease; delivery reports
 * in delivery-status-updates.repository.ts. Status moves fire the counters/credits trigger (see the migrations).
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

  /** Counter rows of several campaigns. */
  async countsFor(ids: string[]): Promise<Array<{ campaign_id: string; status: string; messages: string }>> {
    return queryRows(this.db,
      `SELECT campaign_id, status, messages FROM campaign_message_counts WHERE campaign_id = ANY($1::uuid[])`,
      [ids],
    );
  }

  /** One page of a campaign's messages in seq order, optionally of one status. */
  async page(campaignId: string, status: MessageStatus | undefined, skip: number, take: number): Promise<CampaignMessage[]> {
    return this.db.getRepository(CampaignMessage).find({
      where: { campaignId, ...(status ? { status } : {}) },
      order: { seq: 'ASC' },
      skip,
      take,
    });
  }

  /** How many of a campaign's messages a lookup can settle. */
  async lookupEligible(campaignId: string): Promise<number> {
    const [{ eligible }]: Array<{ eligible: number }> = await this.db.query(
      `SELECT count(*)::int AS eligible FROM campaign_messages WHERE ${ELIGIBLE}`,
      [campaignId],
    );
    return eligible;
  }

  /** Up to `limit` of a campaign's messages a lookup can settle, after seq `cursor` or (`wrapped`) up to it. */
  async lookupTargets(campaignId: string, cursor: number, limit: number, wrapped: boolean): Promise<LookupRow[]> {
    return this.db.query(
      `SELECT id, campaign_id AS "campaignId", provider_message_id AS "providerMessageId", seq
           FROM campaign_messages WHERE ${ELIGIBLE} AND ${wrapped ? 'seq <= $2' : 'seq > $2'} ORDER BY seq LIMIT $3`,
      [campaignId, cursor, limit],
    );
  }

  /** The due batches' messages that a lookup can settle (sent or unknown, with a provider id), at most `max`. */
  async lookupTargetsIn(due: DueCheck[], max: number): Promise<LookupRow[]> {
    return this.db.query(
      `SELECT m.id, m.campaign_id AS "campaignId", m.provider_message_id AS "providerMessageId", m.seq
         FROM unnest($1::uuid[], $2::int[], $3::int[]) WITH ORDINALITY AS d(campaign_id, seq_from, seq_to, ord)
         CROSS JOIN LATERAL (
           SELECT id, campaign_id, provider_message_id, seq FROM campaign_messages m
            WHERE m.campaign_id = d.campaign_id AND m.seq >= d.seq_from AND m.seq < d.seq_to
              AND m.status IN ('sent', 'unknown') AND m.provider_message_id IS NOT NULL
         ) m
        ORDER BY d.ord, m.seq
        LIMIT $4`,
      [due.map((d) => d.campaignId), due.map((d) => d.seqFrom), due.map((d) => d.seqTo), max],
    );
  }

  /** Recipients that a text change re-renders (queued or skipped), after seq `after`, in seq order. */
  async toReevaluate(tx: EntityManager, campaignId: string, after: number): Promise<Array<{ id: string; seq: number; variables: Record<string, string> | null; status: string }>> {
    return queryRows(tx,
      `SELECT id, seq, variables, status FROM campaign_messages
          WHERE campaign_id = $1 AND seq > $2 AND status IN ('queued', 'skipped') ORDER BY seq LIMIT ${REEVALUATE_CHUNK}`,
      [campaignId, after],
    );
  }

  /** New segments and status per recipient; a recipient skipped for another reason than a variable stays skipped. */
  async writeReevaluated(tx: EntityManager, ids: string[], segments: number[], statuses: string[], codes: Array<string | null>): Promise<void> {
    await queryRows(tx,
      `UPDATE campaign_messages m SET segments = u.segments, status = u.status, error_code = u.code, updated_at = now()
           FROM unnest($1::uuid[], $2::int2[], $3::text[], $4::text[]) AS u(id, segments, status, code)
          WHERE m.id = u.id AND m.status IN ('queued', 'skipped') AND (m.status <> 'skipped' OR m.error_code IS NULL OR m.error_code LIKE 'MISSING_VARIABLE%')`,
      [ids, segments, statuses, codes],
    );
  }

  /** After a re-evaluation: the counters' segment sums follow the new per-message segments, and the campaign its encoding figures. */
  async finishReevaluation(tx: EntityManager, campaignId: string, ucs2Messages: number, nonGsmCharacters: string[]): Promise<void> {
    await queryRows(tx,
      `UPDATE campaign_message_counts k SET segments = s.segments
         FROM (SELECT status, sum(segments) AS segments FROM campaign_messages WHERE campaign_id = $1 GROUP BY status) s
        WHERE k.campaign_id = $1 AND k.status = s.status`,
      [campaignId],
    );
    await queryRows(tx, `UPDATE campaigns SET ucs2_messages = $2, non_gsm_characters = $3 WHERE id = $1`, [
      campaignId,
      ucs2Messages,
      nonGsmCharacters,
    ]);
  }
}

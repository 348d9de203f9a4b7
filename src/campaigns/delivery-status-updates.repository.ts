import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';
import { STATUS_RANK, rankSql, type ReportTarget } from './message-status-rank.js';

/** One delivery status to write, matched by provider id first, then by our message id (the `reference`). */
export interface DeliveryStatusWrite {
  providerMessageId: string;
  /** Our message id when the reference is a UUID; anything else cannot name a message. */
  messageId: string | null;
  target: ReportTarget;
  /** Raw Mitto value, stored in `provider_status`. */
  rawStatus: string;
  errorCode: string | null;
  errorMessage: string | null;
  /** Report time (becomes `delivered_at`); null when absent or unreadable. */
  reportedAt: Date | null;
}

export interface UpdateOutcome {
  /** A message was found (by provider id, else by our id). */
  matched: boolean;
  /** This update moved the message's status (at most one update per message per statement does). */
  moved: boolean;
  campaignId: string | null;
  /** Status of the message before the move, as this statement saw it (for hints only). */
  previous: string | null;
  /** When the moved message was sent: Mitto reporting on it proves its report stream flows from then on. */
  sentAt: Date | null;
}

const DEADLOCK = '40P01';
const MAX_TRIES = 3;

/**
 * Applies delivery statuses in ONE set-based statement: match (provider id through
 * campaign_message_provider_ids, else our id = the report's reference), keep the highest-ranked update per message, and move only rows whose current rank is lower
 * (`delivered`/`undelivered` are final, `failed`/`cancelled`/`skipped` never move). The condition is
 * on the target row, so under concurrency PostgreSQL re-checks it on the latest row version.
 * Counters and credits follow through the status trigger (initial migration). The rules: status/delivery-status.ts.
 */
@Injectable()
export class DeliveryStatusUpdatesRepository {
  private readonly sql = buildSql();

  constructor(private readonly db: DataSource) {}

  /**
   * Records, per campaign, the send time of the latest message Mitto has reported on. Unknown-message
   * settlement reads it as proof that Mitto's reports flow (a message with no report while later ones
   * have theirs never reached Mitto). A separate statement after the moves, so its campaign-row lock
   * never sits between a move's message and counter locks.
   */
  async recordReportedUpTo(latestSentAt: Map<string, Date>): Promise<void> {
    if (latestSentAt.size === 0) return;
    await this.db.query(
      `UPDATE campaigns c SET last_report_sent_at = x.sent_at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS x(campaign_id, sent_at)
        WHERE c.id = x.campaign_id AND (c.last_report_sent_at IS NULL OR c.last_report_sent_at < x.sent_at)`,
      [[...latestSentAt.keys()], [...latestSentAt.values()].map((d) => d.toISOString())],
    );
  }

  async apply(updates: DeliveryStatusWrite[]): Promise<UpdateOutcome[]> {
    if (updates.length === 0) return [];
    const params = [
      updates.map((u) => u.providerMessageId),
      updates.map((u) => u.messageId),
      updates.map((u) => u.target),
      updates.map((u) => STATUS_RANK[u.target]!),
      updates.map((u) => u.rawStatus),
      updates.map((u) => u.errorCode),
      updates.map((u) => u.errorMessage),
      updates.map((u) => u.reportedAt?.toISOString() ?? null),
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        const rows: Array<{ ord: number; matched: boolean; moved: boolean; campaign_id: string | null; previous: string | null; sent_at: Date | null }> =
          await this.db.query(this.sql, params);
        const out: UpdateOutcome[] = updates.map(() => ({ matched: false, moved: false, campaignId: null, previous: null, sentAt: null }));
        for (const r of rows) {
          out[r.ord - 1] = { matched: r.matched, moved: r.moved, campaignId: r.campaign_id, previous: r.previous, sentAt: r.sent_at };
        }
        return out;
      } catch (e) {
        // Our rows and a batch's result write can lock the same rows in different orders.
        const code = e instanceof QueryFailedError ? (e.driverError as { code?: string }).code : undefined;
        if (code !== DEADLOCK || attempt >= MAX_TRIES) throw e;
      }
    }
  }
}

function buildSql(): string {
  return `
    WITH input AS (
      SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
        WITH ORDINALITY AS u(provider_id, ref_id, target, target_rank, raw_status, error_code, error_message, reported_at, ord)
    ), matched AS (
      SELECT i.*, coalesce(p.id, r.id) AS message_id, coalesce(p.status, r.status) AS previous,
             coalesce(p.campaign_id, r.campaign_id) AS campaign_id,
             -- matched by our reference, and its provider id not known to us yet: record it below
             r.id IS NOT NULL AND r.provider_message_id IS NULL AS new_provider_id
        FROM input i
        LEFT JOIN LATERAL (
          SELECT m.id, m.status, m.campaign_id FROM campaign_message_provider_ids x JOIN campaign_messages m ON m.id = x.message_id
           WHERE x.provider_message_id = i.provider_id
        ) p ON true
        LEFT JOIN LATERAL (
          SELECT m.id, m.status, m.campaign_id, m.provider_message_id FROM campaign_messages m WHERE p.id IS NULL AND m.id = i.ref_id
        ) r ON true
    ), best AS (
      SELECT DISTINCT ON (message_id) * FROM matched WHERE message_id IS NOT NULL ORDER BY message_id, target_rank DESC, ord
    ), moved AS (
      UPDATE campaign_messages m
         SET status = b.target,
             provider_message_id = coalesce(m.provider_message_id, b.provider_id),
             provider_status = b.raw_status,
             error_code = b.error_code,
             error_message = b.error_message,
             sent_at = coalesce(m.sent_at, now()),
             delivered_at = CASE WHEN b.target = 'delivered' THEN coalesce(b.reported_at, now()) ELSE m.delivered_at END,
             updated_at = now()
        FROM best b
       WHERE m.id = b.message_id AND ${rankSql('m.status')} < b.target_rank
      RETURNING m.id, b.ord, m.sent_at, b.new_provider_id, m.provider_message_id
    ), provider_ids AS (
      INSERT INTO campaign_message_provider_ids (provider_message_id, message_id)
      SELECT provider_message_id, id FROM moved WHERE new_provider_id AND provider_message_id IS NOT NULL
      ON CONFLICT DO NOTHING
    )
    SELECT mt.ord::int AS ord, mt.message_id IS NOT NULL AS matched, mv.id IS NOT NULL AS moved,
           mt.campaign_id, mt.previous, mv.sent_at
      FROM matched mt LEFT JOIN moved mv ON mv.ord = mt.ord`;
}

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { msInterval, queryRows } from '../database/sql.js';
import type { UnknownPolicy } from '../config/env.schema.js';

import type { PendingBatch } from './campaign-batches.repository.js';
import type { CampaignStatus } from './campaign-state.js';

export interface OpenCampaign {
  id: string;
  status: CampaignStatus;
  expires_at: Date | null;
  canary_state: string | null;
  batch_count: number;
  dispatched_batches: number;
  dispatch_generation: number;
  scheduled_at: Date | null;
  /** No message left a reserved status for `idleMs`. */
  idle: boolean;
}

export interface DueCheck {
  campaignId: string;
  batch: number;
  seqFrom: number;
  seqTo: number;
}

/**
 * Proof that Mitto never had an unknown message: its worker died with the call in flight (a takeover
 * made it unknown: INTERRUPTED, not an ambiguous answer to a call that surely left), and Mitto has since
 * reported on a message of the campaign sent after that moment but never on this one.
 */
const EVIDENCE = `m.error_code = 'INTERRUPTED' AND t.last_report_sent_at > m.updated_at`;

/**
 * The periodic side of campaign_batches: what recovery, unknown settlement and reconciliation read.
 * Every scan here is driven by an index on what it filters (open campaigns, pending batches, due
 * `unknown_at`/`check_at`), so its cost follows the work at hand, not the history of the deployment.
 */
@Injectable()
export class BatchRecoveryRepository {
  constructor(private readonly db: DataSource) {}

  /** Campaigns started and not settled (ix_campaigns_open). */
  async openCampaigns(idleMs: number): Promise<OpenCampaign[]> {
    return queryRows<OpenCampaign>(this.db,
      `SELECT id, status, batch_count, dispatched_batches, dispatch_generation, scheduled_at, expires_at, canary_state,
              coalesce(last_activity_at, started_at, updated_at) < now() - ${msInterval('$1')} AS idle
         FROM campaigns WHERE settled_at IS NULL AND status <> 'draft'`,
      [idleMs],
    );
  }

  /**
   * Pending batches that nobody holds and that may have lost their job: `abandoned` ones, whose holder's
   * lease ran out `graceMs` ago without a release (it died or lost contact) — and, with `all` (an idle
   * campaign), every one whose lease is free or expired (`unleased`: nobody holds it now). Batches waiting
   * for a send window or behind a canary (`not_before` ahead) are not looked at until then: a waiting
   * campaign costs no Redis lookups.
   */
  async unheld(campaignId: string, all: boolean, graceMs: number, limit: number): Promise<Array<PendingBatch & { abandoned: boolean; unleased: boolean }>> {
    return queryRows<PendingBatch & { abandoned: boolean; unleased: boolean }>(this.db,
      `SELECT batch, job_round AS "jobRound", lease_expires_at < now() - ${msInterval('$3')} AS abandoned,
              lease_token IS NULL AS unleased
         FROM campaign_batches
        WHERE campaign_id = $1 AND state = 'pending' AND (not_before IS NULL OR not_before <= now())
          AND (lease_expires_at < now() - ${msInterval('$3')} OR ($2 AND (lease_expires_at IS NULL OR lease_expires_at <= now())))
        ORDER BY batch LIMIT $4`,
      [campaignId, all, graceMs, limit],
    );
  }

  /** Gives these batches a new job round (their job ids change), returning the new rounds. */
  async nextRound(campaignId: string, batches: number[]): Promise<PendingBatch[]> {
    return queryRows<PendingBatch>(this.db,
      `UPDATE campaign_batches SET job_round = job_round + 1, updated_at = now()
        WHERE campaign_id = $1 AND batch = ANY($2::int[]) AND state = 'pending'
        RETURNING batch, job_round AS "jobRound"`,
      [campaignId, batches],
    );
  }

  /** An ended campaign with nothing open any more leaves the sweep's view (sets `settled_at`). */
  async settleIfClosed(campaignId: string): Promise<boolean> {
    const rows = await queryRows(this.db,
      `UPDATE campaigns c SET settled_at = now()
        WHERE c.id = $1 AND c.settled_at IS NULL AND c.status IN ('completed', 'failed', 'cancelled')
          AND NOT EXISTS (SELECT 1 FROM campaign_batches b WHERE b.campaign_id = c.id AND b.state = 'pending')
          AND NOT EXISTS (SELECT 1 FROM campaign_message_counts k WHERE k.campaign_id = c.id
                            AND k.status IN ('queued', 'unknown') AND k.messages > 0)
        RETURNING 1`,
      [campaignId],
    );
    return rows.length > 0;
  }

  /**
   * Settles `unknown` messages older than `settleAfterMs`, found through their batches' `unknown_at`
   * (ix_campaign_batches_unknown), only in batches nobody holds. First the evidence rule: when Mitto has
   * reported on a message of the campaign sent after this one became unknown (its reports flow) and
   * never on this one, Mitto never had it — it is queued again under either policy. Otherwise
   * UNKNOWN_POLICY: `fail` → failed UNCONFIRMED (refunded); `resend` → queued again. A batch with
   * messages queued again is pending again, with a new job round.
   */
  async settleUnknown(policy: UnknownPolicy, settleAfterMs: number, limit: number): Promise<{ messages: number; campaigns: string[]; reopened: Array<PendingBatch & { campaignId: string }> }> {
    const rows = await queryRows<{ campaign_id: string; batch: number; job_round: number; reopened: boolean; moved: number }>(this.db,
      `WITH target AS (
         SELECT b.campaign_id, b.batch, c.batch_size, c.last_report_sent_at FROM campaign_batches b JOIN campaigns c ON c.id = b.campaign_id
          WHERE b.unknown_at < now() - ${msInterval('$2')} AND (b.lease_expires_at IS NULL OR b.lease_expires_at <= now())
          ORDER BY b.unknown_at LIMIT $3
          FOR UPDATE OF b SKIP LOCKED
       ), moved AS (
         UPDATE campaign_messages m
            SET status = CASE WHEN $1 OR (${EVIDENCE}) THEN 'queued' ELSE 'failed' END,
                error_code = CASE WHEN ${EVIDENCE} THEN 'RESENT_NOT_AT_MITTO' WHEN $1 THEN 'RESENT_AFTER_UNKNOWN' ELSE 'UNCONFIRMED' END,
                error_message = CASE WHEN $1 OR (${EVIDENCE}) THEN NULL ELSE 'No confirmation from Mitto in time' END,
                updated_at = now()
           FROM target t
          WHERE m.campaign_id = t.campaign_id AND m.seq >= t.batch * t.batch_size AND m.seq < (t.batch + 1) * t.batch_size
            AND m.status = 'unknown' AND m.updated_at < now() - ${msInterval('$2')}
         RETURNING t.campaign_id, t.batch, m.status
       ), per_batch AS (
         SELECT t.campaign_id, t.batch,
                (SELECT count(*) FROM moved mv WHERE mv.campaign_id = t.campaign_id AND mv.batch = t.batch) AS moved,
                (SELECT count(*) FROM moved mv WHERE mv.campaign_id = t.campaign_id AND mv.batch = t.batch AND mv.status = 'queued') AS requeued,
                -- the batch's unknown messages not due yet (the statement's snapshot still shows the ones moved above)
                (SELECT min(m.updated_at) FROM campaign_messages m
                  WHERE m.campaign_id = t.campaign_id AND m.seq >= t.batch * t.batch_size AND m.seq < (t.batch + 1) * t.batch_size
                    AND m.status = 'unknown' AND m.updated_at >= now() - ${msInterval('$2')}) AS next_unknown
           FROM target t
       )
       UPDATE campaign_batches x
          SET unknown_at = p.next_unknown,
              state = CASE WHEN p.requeued > 0 THEN 'pending' ELSE x.state END,
              job_round = CASE WHEN p.requeued > 0 THEN x.job_round + 1 ELSE x.job_round END,
              updated_at = now()
         FROM per_batch p
        WHERE x.campaign_id = p.campaign_id AND x.batch = p.batch
        RETURNING x.campaign_id, x.batch, x.job_round, p.requeued > 0 AS reopened, p.moved::int AS moved`,
      [policy === 'resend', settleAfterMs, limit],
    );
    return {
      messages: rows.reduce((n, r) => n + r.moved, 0),
      campaigns: [...new Set(rows.filter((r) => r.moved > 0).map((r) => r.campaign_id))],
      reopened: rows.filter((r) => r.reopened).map((r) => ({ campaignId: r.campaign_id, batch: r.batch, jobRound: r.job_round })),
    };
  }

  /** Batches whose sent messages are due for a reconciliation lookup (ix_campaign_batches_check). */
  async dueChecks(limit: number): Promise<DueCheck[]> {
    return queryRows<DueCheck>(this.db,
      `SELECT b.campaign_id AS "campaignId", b.batch, b.batch * c.batch_size AS "seqFrom", (b.batch + 1) * c.batch_size AS "seqTo"
         FROM campaign_batches b JOIN campaigns c ON c.id = b.campaign_id
        WHERE b.check_at <= now() ORDER BY b.check_at LIMIT $1`,
      [limit],
    );
  }

  /**
   * After a lookup round: a batch with nothing left to ask about, or sent longer ago than `horizonMs`,
   * is not checked again; the others come back after `afterMs` · 2^checks (capped at `capMs`).
   */
  async rescheduleChecks(checked: DueCheck[], afterMs: number, capMs: number, horizonMs: number): Promise<{ givenUp: number }> {
    if (checked.length === 0) return { givenUp: 0 };
    const rows = await queryRows<{ gave_up: boolean }>(this.db,
      `WITH t AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) AS t(campaign_id, batch, seq_from, seq_to)),
       s AS (
         SELECT t.campaign_id, t.batch,
                EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = t.campaign_id AND m.seq >= t.seq_from AND m.seq < t.seq_to
                          AND m.status IN ('sent', 'unknown') AND m.provider_message_id IS NOT NULL) AS open
           FROM t
       )
       UPDATE campaign_batches b
          SET checks = b.checks + 1,
              check_at = CASE WHEN NOT s.open OR coalesce(b.first_sent_at, b.updated_at) < now() - ${msInterval('$7')} THEN NULL
                              ELSE now() + ${msInterval(`least($5::float8 * 2 ^ least(b.checks, 30), $6::float8)`)} END,
              updated_at = now()
         FROM s WHERE b.campaign_id = s.campaign_id AND b.batch = s.batch
        RETURNING (s.open AND b.check_at IS NULL) AS gave_up`,
      [checked.map((c) => c.campaignId), checked.map((c) => c.batch), checked.map((c) => c.seqFrom), checked.map((c) => c.seqTo), afterMs, capMs, horizonMs],
    );
    return { givenUp: rows.filter((r) => r.gave_up).length };
  }
}

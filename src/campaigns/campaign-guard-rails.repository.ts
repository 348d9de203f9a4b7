import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { queryRows } from '../database/sql.js';
import { targetStatus } from './campaign-state.js';
import { statusAllows, statusLiteral } from './campaign-state.sql.js';
import type { CanaryCounts } from '../guard-rails/canary.js';
import type { OutcomeCounts } from '../guard-rails/failure-rate.js';
import type { AutoPauseSettings, CanarySettings, FailureWindow, PauseReason } from '../guard-rails/guard-rails.types.js';

/** A sending campaign's guard-rail state, as the judgements need it. */
export interface GuardedCampaign {
  id: string;
  status: string;
  auto_pause: AutoPauseSettings | null;
  failure_window: FailureWindow | null;
  canary: CanarySettings | null;
  canary_state: string | null;
  canary_until_seq: number | null;
  canary_sent_at: Date | null;
  batch_size: number;
}

/**
 * SQL of the guard rails on `campaigns` and `campaign_messages` (docs/ARCHITECTURE.md, "Guard rails"):
 * the canary's boundary and counts, the failure-rate window, and the guard rails' own state changes —
 * each a conditional UPDATE, so two processes judging at once act once.
 */
@Injectable()
export class CampaignGuardRailsRepository {
  constructor(private readonly db: DataSource) {}

  /** The canary: the first `size` queued messages, i.e. those below the returned seq. */
  async canaryBoundary(tx: EntityManager, campaignId: string, size: number, nextSeq: number): Promise<{ untilSeq: number; messages: number }> {
    const [row] = await queryRows<{ seq: number | null; messages: number }>(tx,
      `SELECT (SELECT seq FROM campaign_messages WHERE campaign_id = $1 AND status = 'queued' ORDER BY seq OFFSET $2 - 1 LIMIT 1) AS seq,
              (SELECT count(*) FROM (SELECT 1 FROM campaign_messages WHERE campaign_id = $1 AND status = 'queued' LIMIT $2) x)::int AS messages`,
      [campaignId, size],
    );
    return { untilSeq: row.seq === null ? nextSeq : row.seq + 1, messages: row.messages };
  }

  /** Campaigns among `ids` that are sending with a guard rail to judge after new outcomes. */
  async guarded(ids: string[]): Promise<GuardedCampaign[]> {
    if (ids.length === 0) return [];
    return queryRows<GuardedCampaign>(this.db,
      `SELECT id, status, auto_pause, failure_window, canary, canary_state, canary_until_seq, canary_sent_at, batch_size
         FROM campaigns WHERE id = ANY($1::uuid[]) AND status = 'sending' AND (auto_pause IS NOT NULL OR canary_state = 'pending')`,
      [ids],
    );
  }

  /** Messages with an outcome, and failed or undelivered ones, from the counters. */
  async outcomeCounts(campaignId: string): Promise<OutcomeCounts> {
    const [row] = await queryRows<{ total: string; known: string; bad: string }>(this.db,
      `SELECT coalesce(sum(messages) FILTER (WHERE status IN ('sent', 'delivered', 'undelivered', 'failed')), 0) AS total,
              coalesce(sum(messages) FILTER (WHERE status IN ('delivered', 'undelivered', 'failed')), 0) AS known,
              coalesce(sum(messages) FILTER (WHERE status IN ('failed', 'undelivered')), 0) AS bad
         FROM campaign_message_counts WHERE campaign_id = $1`,
      [campaignId],
    );
    return { total: Number(row.total), known: Number(row.known), bad: Number(row.bad) };
  }

  /** Moves the failure window's checkpoints, unless another process moved them meanwhile. */
  async moveFailureWindow(campaignId: string, from: FailureWindow | null, to: FailureWindow): Promise<void> {
    await this.db.query(
      `UPDATE campaigns SET failure_window = $3 WHERE id = $1 AND failure_window IS NOT DISTINCT FROM $2::jsonb`,
      [campaignId, from === null ? null : JSON.stringify(from), JSON.stringify(to)],
    );
  }

  /** The canary's messages (seq below the boundary): sendable, delivered, still queued. One index range. */
  async canaryCounts(campaignId: string, untilSeq: number): Promise<CanaryCounts> {
    const [row] = await queryRows<{ sendable: number; delivered: number; waiting: number }>(this.db,
      `SELECT count(*) FILTER (WHERE status NOT IN ('skipped', 'cancelled', 'expired'))::int AS sendable,
              count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'queued')::int AS waiting
         FROM campaign_messages WHERE campaign_id = $1 AND seq < $2`,
      [campaignId, untilSeq],
    );
    return row;
  }

  /** The moment the canary went out completely (set once). */
  async markCanarySent(campaignId: string): Promise<Date | null> {
    const [row] = await queryRows<{ canary_sent_at: Date }>(this.db,
      `UPDATE campaigns SET canary_sent_at = coalesce(canary_sent_at, now()) WHERE id = $1 AND canary_state = 'pending' RETURNING canary_sent_at`,
      [campaignId],
    );
    return row?.canary_sent_at ?? null;
  }

  /**
   * The canary passed (or the user resumed past a failed one): the batches held behind it may be leased
   * again, and dispatch goes back to the canary's last batch so every one of them gets a job.
   * Returns the campaign's dispatch generation if this call made the change.
   *
   * Two statements in one transaction, not one: a batch finishing right now may be writing its held
   * messages ('infinity') under a share lock on the campaign row (writeOutcomes). Our row update waits
   * for it, and the second statement's fresh snapshot then sees — and clears — what it wrote.
   */
  async openCanaryGate(campaignId: string, from: 'pending' | 'failed'): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      const [passed] = await queryRows<{ generation: number }>(tx,
        `UPDATE campaigns SET canary_state = 'passed',
                dispatched_batches = least(dispatched_batches, (canary_until_seq - 1) / batch_size)
          WHERE id = $1 AND canary_state = $2
         RETURNING dispatch_generation AS generation`,
        [campaignId, from],
      );
      if (!passed) return null;
      await tx.query(`UPDATE campaign_batches SET not_before = NULL WHERE campaign_id = $1 AND not_before = 'infinity'`, [campaignId]);
      return passed.generation;
    });
  }

  /** The campaign pauses itself (failure rate, failed canary; `auto-pause`): only from `sending`; true if it did. */
  async pauseFor(campaignId: string, reason: PauseReason, canaryFailed = false): Promise<boolean> {
    const rows = await queryRows(this.db,
      `UPDATE campaigns SET status = ${statusLiteral(targetStatus('auto-pause'))}, pause_reason = $2, updated_at = now(),
              canary_state = CASE WHEN $3 THEN 'failed' ELSE canary_state END
        WHERE id = $1 AND ${statusAllows('status', 'auto-pause')} RETURNING id`,
      [campaignId, reason, canaryFailed],
    );
    return rows.length > 0;
  }

  /**
   * Ends a campaign past its `expiresAt` once nothing is left open (its queued messages expired, its
   * unknown ones settled): `completed`, even from `paused` (`expire`). True if this call ended it.
   */
  async finishExpired(campaignId: string): Promise<boolean> {
    const rows = await queryRows(this.db,
      `UPDATE campaigns c SET status = ${statusLiteral(targetStatus('expire'))}, pause_reason = NULL, completed_at = now(), updated_at = now()
        WHERE c.id = $1 AND ${statusAllows('c.status', 'expire')} AND c.expires_at <= now()
          AND NOT EXISTS (SELECT 1 FROM campaign_message_counts k WHERE k.campaign_id = c.id
                            AND k.status IN ('queued', 'unknown') AND k.messages > 0)
        RETURNING c.id`,
      [campaignId],
    );
    return rows.length > 0;
  }

  /**
   * A scheduled campaign whose expiresAt passed before its start: every message is `expired` and the
   * campaign ends as one that expired while sending would (`expire-unstarted` of the state machine; no
   * credits were held yet, so none move). One transaction; nothing is open afterwards, so it is settled at once.
   */
  async expireUnstarted(campaignId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await queryRows(tx,
        `UPDATE campaigns SET status = $2, completed_at = now(), settled_at = now(), updated_at = now()
          WHERE id = $1 AND ${statusAllows('status', 'expire-unstarted')} RETURNING id`,
        [campaignId, targetStatus('expire-unstarted')],
      );
      if (rows.length === 0) return false;
      await tx.query(
        `UPDATE campaign_messages SET status = 'expired', error_code = 'EXPIRED', error_message = 'expiresAt passed before the scheduled start', updated_at = now()
          WHERE campaign_id = $1 AND status = 'queued'`,
        [campaignId],
      );
      return true;
    });
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { preparedRows, queryRows } from '../database/sql.js';
import { finishStatus, statusesAllowing, targetStatus } from './campaign-state.js';
import { statusAllows, statusLiteral } from './campaign-state.sql.js';

/** What the delayed start job of a scheduled campaign reads. */
export interface ScheduledStart {
  tenant_id: string;
  status: string;
  scheduled_at: Date;
  expires_at: Date | null;
}

/**
 * The conditional status changes of CampaignLifecycleService on `campaigns`, each one statement whose
 * source and target statuses come from the state machine (campaign-state.ts), so a race cannot skip it.
 */
@Injectable()
export class CampaignLifecycleRepository {
  constructor(private readonly db: DataSource) {}

  async scheduledStart(campaignId: string): Promise<ScheduledStart | undefined> {
    const [row] = await queryRows<ScheduledStart>(this.db, `SELECT tenant_id, status, scheduled_at, expires_at FROM campaigns WHERE id = $1`, [campaignId]);
    return row;
  }

  /** A scheduled start was refused: the scheduled run ends visibly (`fail-start`). */
  async failStart(campaignId: string): Promise<void> {
    await queryRows(this.db, FAIL_START, [campaignId]);
  }

  /** User pause (`pauseReason` USER); true if this call paused it. */
  async pause(tenantId: string, id: string): Promise<boolean> {
    return this.transition(tenantId, id, 'pause', `, pause_reason = 'USER'`);
  }

  /** Resume with a new dispatch generation; true if this call resumed it. */
  async resume(tenantId: string, id: string): Promise<boolean> {
    return this.transition(
      tenantId,
      id,
      'resume',
      // The user overrides a failed canary (the rest may go out now) and restarts the failure-rate window
      // from here, so the outcomes that paused the campaign do not pause it again at once.
      `, pause_reason = NULL, dispatched_batches = 0, dispatch_generation = dispatch_generation + 1,
         canary_state = CASE WHEN canary_state = 'failed' THEN 'passed' ELSE canary_state END,
         failure_window = CASE WHEN auto_pause IS NULL THEN NULL ELSE (
           SELECT jsonb_build_object('aTotal', t, 'aKnown', f, 'aBad', b, 'bTotal', t, 'bKnown', f, 'bBad', b) FROM (
             SELECT coalesce(sum(messages) FILTER (WHERE status IN ('sent', 'delivered', 'undelivered', 'failed')), 0) AS t,
                    coalesce(sum(messages) FILTER (WHERE status IN ('delivered', 'undelivered', 'failed')), 0) AS f,
                    coalesce(sum(messages) FILTER (WHERE status IN ('failed', 'undelivered')), 0) AS b
               FROM campaign_message_counts WHERE campaign_id = campaigns.id) k) END`,
    );
  }

  /**
   * Ends a sending campaign once nothing is left to send (`finish`): `completed`, or `failed` when no
   * message could be sent. One conditional UPDATE, so it happens exactly once whoever calls it. An
   * `unknown` message keeps the campaign open under either UNKNOWN_POLICY: it may still be sent again.
   */
  async finishIfDone(campaignId: string): Promise<boolean> {
    const rows = await preparedRows(this.db, 'campaign_finish_if_done', FINISH_IF_DONE, [campaignId]);
    return rows.length > 0;
  }

  /** One conditional UPDATE to the state machine's target status; false if the campaign's status forbids it. */
  private async transition(tenantId: string, id: string, action: 'pause' | 'resume', alsoSet: string): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `UPDATE campaigns SET status = $4${alsoSet}, updated_at = now() WHERE id = $1 AND tenant_id = $2 AND status = ANY($3) RETURNING id`,
      [id, tenantId, statusesAllowing(action), targetStatus(action)],
    );
    return rows.length > 0;
  }
}

const FAIL_START = `UPDATE campaigns SET status = ${statusLiteral(targetStatus('fail-start'))}, completed_at = now(), updated_at = now() WHERE id = $1 AND ${statusAllows('status', 'fail-start')}`;

const FINISH_IF_DONE = `WITH ended AS (
       UPDATE campaigns c
          SET status = CASE WHEN EXISTS (
                SELECT 1 FROM campaign_message_counts k WHERE k.campaign_id = c.id
                   AND k.status IN ('sent', 'delivered', 'undelivered', 'unknown') AND k.messages > 0)
              THEN ${statusLiteral(finishStatus(true))} ELSE ${statusLiteral(finishStatus(false))} END,
              completed_at = now(), updated_at = now()
        WHERE c.id = $1 AND ${statusAllows('c.status', 'finish')}
          AND NOT EXISTS (SELECT 1 FROM campaign_message_counts k
                           WHERE k.campaign_id = c.id AND k.status IN ('queued', 'unknown') AND k.messages > 0)
        RETURNING c.id
       ), tidy AS (
         -- Nothing is queued any more, so a batch still marked pending (its holder died after its last
         -- write) has nothing to send.
         UPDATE campaign_batches b SET state = 'done', updated_at = now()
           FROM ended e WHERE b.campaign_id = e.id AND b.state = 'pending'
            AND (b.lease_expires_at IS NULL OR b.lease_expires_at <= now())
       )
       SELECT id FROM ended`;

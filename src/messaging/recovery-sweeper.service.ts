import { Injectable, Logger } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import { BatchQueue } from '../queues/batch.queue.js';
import { CampaignControlQueue } from '../queues/campaign-control.queue.js';
import { CampaignMessagesRepository } from '../campaigns/campaign-messages.repository.js';
import { CampaignLifecycleService } from '../campaigns/campaign-lifecycle.service.js';
import { CampaignEvents } from '../events/campaign-events.js';

/**
 * The recovery sweep (one BullMQ job scheduler for the whole deployment). PostgreSQL is the source of
 * truth; this re-creates from it whatever Redis or a dead process lost:
 *  1. sending campaigns not fully dispatched → the dispatch job (idempotent id);
 *  2. sending campaigns idle for 2 sweep intervals with queued messages → their batch jobs again;
 *  3. messages stuck in `sending` longer than CLAIM_TIMEOUT_MS (their worker died mid-call) → `unknown`;
 *  4. `unknown` messages older than UNKNOWN_SETTLE_AFTER_MS → UNKNOWN_POLICY (`fail` or `resend`);
 *  5. scheduled campaigns past their time → the start job again;
 *  6. sending campaigns with nothing left → completed (a finish missed by a crash);
 *  7. cancelled campaigns that still have queued messages (a cancel cut short) → cancelled messages.
 */
@Injectable()
export class RecoverySweeperService {
  private readonly logger = new Logger(RecoverySweeperService.name);

  constructor(
    private readonly db: DataSource,
    private readonly batches: BatchQueue,
    private readonly control: CampaignControlQueue,
    private readonly messageRows: CampaignMessagesRepository,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly events: CampaignEvents,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async sweep(): Promise<void> {
    const recovery = this.config.get('recovery', { infer: true });
    const interrupted = await queryRows(this.db,
      `UPDATE campaign_messages SET status = 'unknown', error_code = 'INTERRUPTED',
              error_message = 'The worker stopped while this message was being sent', updated_at = now()
        WHERE status = 'sending' AND claimed_at < now() - make_interval(secs => $1 / 1000.0)
        RETURNING campaign_id`,
      [recovery.claimTimeoutMs],
    );
    const settled = await this.settleUnknown(recovery.unknownSettleAfterMs, recovery.unknownPolicy);

    const campaigns: Array<{ id: string; batch_size: number; batch_count: number; dispatched_batches: number; dispatch_generation: number; idle: boolean }> =
      await queryRows(this.db,
        `SELECT id, batch_size, batch_count, dispatched_batches, dispatch_generation,
                coalesce(last_activity_at, started_at) < now() - make_interval(secs => $1 / 1000.0) AS idle
           FROM campaigns WHERE status = 'sending'`,
        [recovery.sweeperIntervalMs * 2],
      );
    for (const c of campaigns) {
      if (c.dispatched_batches < c.batch_count) {
        await this.control.dispatch({ campaignId: c.id, generation: c.dispatch_generation });
      } else if (c.idle || settled.has(c.id)) {
        const batches = await this.messageRows.batchesWithQueued(c.id, c.batch_size);
        await this.batches.add(batches.map((batch) => ({ campaignId: c.id, batch, generation: c.dispatch_generation })));
        if (batches.length > 0) this.logger.warn({ campaignId: c.id, batches: batches.length }, 're-created batch jobs');
      }
      if (await this.lifecycle.finishIfDone(c.id)) this.events.changed(c.id);
    }

    // A cancel interrupted between its commit and the end of its chunked message update.
    const cancelled: Array<{ id: string }> = await queryRows(
      this.db,
      `SELECT c.id FROM campaigns c JOIN campaign_message_counts k ON k.campaign_id = c.id
        WHERE c.status = 'cancelled' AND k.status = 'queued' AND k.messages > 0`,
    );
    for (const c of cancelled) {
      await this.messageRows.cancelQueued(c.id);
      this.events.changed(c.id);
    }

    const due: Array<{ id: string; scheduled_at: Date }> = await queryRows(this.db,
      `SELECT id, scheduled_at FROM campaigns WHERE status = 'scheduled' AND scheduled_at < now() - interval '30 seconds'`,
    );
    for (const c of due) await this.control.scheduleStart({ campaignId: c.id, scheduledAt: new Date(c.scheduled_at).toISOString() });

    if (interrupted.length > 0) this.logger.warn({ messages: interrupted.length }, 'claims timed out; messages moved to unknown');
  }

  /** Unknown messages nobody settled in time: failed (risk: a missed SMS) or resent (risk: a duplicate). */
  private async settleUnknown(afterMs: number, policy: 'fail' | 'resend'): Promise<Set<string>> {
    const set =
      policy === 'resend'
        ? `status = 'queued', claim_token = NULL, error_code = 'RESENT_AFTER_UNKNOWN'`
        : `status = 'failed', error_code = 'UNCONFIRMED', error_message = 'No confirmation from Mitto in time'`;
    const rows: Array<{ campaign_id: string }> = await queryRows(this.db,
      `UPDATE campaign_messages SET ${set}, updated_at = now()
        WHERE status = 'unknown' AND updated_at < now() - make_interval(secs => $1 / 1000.0)
        RETURNING campaign_id`,
      [afterMs],
    );
    const campaigns = new Set(rows.map((r) => r.campaign_id));
    for (const id of campaigns) this.events.changed(id);
    return campaigns;
  }
}

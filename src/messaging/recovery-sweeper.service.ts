import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { BatchQueue } from '../queues/batch.queue.js';
import { BatchRecoveryRepository, type OpenCampaign } from '../campaigns/batch-recovery.repository.js';
import type { PendingBatch } from '../campaigns/campaign-batches.repository.js';
import { CampaignLifecycleService } from '../campaigns/campaign-lifecycle.service.js';
import { CampaignEvents } from '../events/campaign-events.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CampaignDispatcherService } from './campaign-dispatcher.service.js';
import { CampaignGuardRailsService } from '../campaigns/campaign-guard-rails.service.js';

/** Batches of one campaign whose jobs are checked per sweep (in batch order; the rest next time). */
const MAX_CHECKED_PER_CAMPAIGN = 1_000;
/** Unknown-message batches settled per sweep. */
const MAX_UNKNOWN_BATCHES = 500;
/** A scheduled start this late is started by the sweep itself. */
const SCHEDULE_GRACE_MS = 30_000;

/**
 * The recovery sweep (one BullMQ job scheduler for the whole deployment). PostgreSQL is the source of
 * truth, and recovery never depends on BullMQ's job history: whatever a job should have done and did not
 * (it failed for good through a long database outage, stalled out, or vanished with Redis) is found in
 * PostgreSQL and done again under a fresh job id. Each run, over the open campaigns only (ix_campaigns_open):
 *  1. `unknown` messages older than UNKNOWN_SETTLE_AFTER_MS → UNKNOWN_POLICY (batches nobody holds);
 *     with `resend` their batches are pending again and get a fresh job at once;
 *  2. scheduled campaigns past their time → started here (the start is idempotent);
 *  3. sending campaigns: dispatch not finished and idle → dispatched here; pending batches nobody holds
 *     (all of them once the campaign is idle, else those whose lease expired long ago: their holder
 *     died) whose job is not live in BullMQ → a fresh job (next round); idle with nothing left → completed;
 *  4. cancelled campaigns with batches still pending (a walk cut short, a holder that died) → cancelled;
 *     sending or paused ones past their expiresAt → their queued messages expire, then they end; a canary
 *     that went out and timed out → paused (CANARY_FAILED);
 *  5. ended campaigns with nothing open → settled (they leave this scan).
 */
@Injectable()
export class RecoverySweeperService {
  private readonly logger = new Logger(RecoverySweeperService.name);

  constructor(
    private readonly recovery: BatchRecoveryRepository,
    private readonly batches: BatchQueue,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly dispatcher: CampaignDispatcherService,
    private readonly guardRails: CampaignGuardRailsService,
    private readonly events: CampaignEvents,
    private readonly metrics: MetricsService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async sweep(): Promise<void> {
    const r = this.config.get('recovery', { infer: true });
    const unknown = await this.recovery.settleUnknown(r.unknownPolicy, r.unknownSettleAfterMs, MAX_UNKNOWN_BATCHES);
    if (unknown.messages > 0) this.logger.warn({ messages: unknown.messages, policy: r.unknownPolicy }, 'unconfirmed messages settled by UNKNOWN_POLICY');
    for (const id of unknown.campaigns) this.events.changed(id);

    for (const c of await this.recovery.openCampaigns(r.sweeperIntervalMs * 2)) {
      try {
        await this.sweepCampaign(c, unknown.reopened.filter((b) => b.campaignId === c.id));
      } catch (e) {
        // One campaign's trouble must not stop the others' recovery.
        this.logger.warn({ campaignId: c.id, err: e instanceof Error ? e.message : e }, 'sweep of a campaign failed');
      }
    }
  }

  private async sweepCampaign(c: OpenCampaign, reopened: PendingBatch[]): Promise<void> {
    const r = this.config.get('recovery', { infer: true });
    // Guard rails that move with time: expiry (also while paused or waiting), a canary that timed out.
    if (c.status === 'sending' || c.status === 'paused') await this.guardRails.sweep(c);
    switch (c.status) {
      case 'scheduled':
        if (c.scheduled_at && new Date(c.scheduled_at).getTime() < Date.now() - SCHEDULE_GRACE_MS) {
          await this.lifecycle.startScheduled(c.id, new Date(c.scheduled_at).toISOString());
        }
        return;
      case 'sending': {
        if (reopened.length > 0) await this.addJobs(c, reopened);
        if (c.idle && c.dispatched_batches < c.batch_count) {
          await this.dispatcher.dispatch({ campaignId: c.id, generation: c.dispatch_generation });
        }
        const graceMs = Math.max(r.batchLeaseMs, r.sweeperIntervalMs);
        const unheld = await this.recovery.unheld(c.id, c.idle, graceMs, MAX_CHECKED_PER_CAMPAIGN);
        const dispatched = unheld.filter((b) => b.batch < c.dispatched_batches);
        // In an idle campaign, a batch nobody holds whose job a worker took more than the grace ago was
        // never leased by it (a worker leases first thing): that worker died in between, and BullMQ would
        // free the job only after its lock ran out and a stall check came by (up to a minute; the chaos
        // suite's kill cells idled 55-87 s on it). A live worker that is merely slow loses nothing to the
        // fresh job: whichever leases the batch first sends it, the other finds it held or done.
        const live = await this.batches.live(dispatched.map((b) => ({
          ...this.job(c, b),
          activeIsDead: b.abandoned,
          activeDeadAfterMs: c.idle && b.unleased ? graceMs : undefined,
        })));
        const dead = dispatched.filter((_, i) => !live[i]);
        if (dead.length > 0) {
          await this.addJobs(c, await this.recovery.nextRound(c.id, dead.map((b) => b.batch)));
          this.metrics.batchesRecovered.inc(dead.length);
          this.logger.warn({ campaignId: c.id, batches: dead.length }, 'pending batches had no live job; gave them fresh jobs');
        }
        if (c.idle && (await this.lifecycle.finishIfDone(c.id))) this.events.changed(c.id);
        return;
      }
      case 'cancelled':
        if ((await this.lifecycle.cancelPending(c.id)) > 0) this.events.changed(c.id);
        await this.recovery.settleIfClosed(c.id);
        return;
      case 'completed':
      case 'failed':
        await this.recovery.settleIfClosed(c.id);
        return;
      default:
        // paused: nothing moves until it is resumed or cancelled.
        return;
    }
  }

  private async addJobs(c: OpenCampaign, batches: PendingBatch[]): Promise<void> {
    await this.batches.add(batches.map((b) => this.job(c, b)));
  }

  private job(c: OpenCampaign, b: PendingBatch) {
    return { campaignId: c.id, batch: b.batch, generation: c.dispatch_generation, round: b.jobRound };
  }
}

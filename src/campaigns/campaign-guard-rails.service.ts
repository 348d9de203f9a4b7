import { Injectable, Logger } from '@nestjs/common';
import { judgeCanary } from '../guard-rails/canary.js';
import { EMPTY_WINDOW, judgeFailureRate } from '../guard-rails/failure-rate.js';
import { CampaignEvents } from '../events/campaign-events.js';
import { CampaignControlQueue } from '../queues/campaign-control.queue.js';
import { CampaignBatchesRepository } from './campaign-batches.repository.js';
import { CampaignGuardRailsRepository, type GuardedCampaign } from './campaign-guard-rails.repository.js';
import { BatchRecoveryRepository } from './batch-recovery.repository.js';
import { canPerform, type CampaignStatus } from './campaign-state.js';

/** Batches per statement of the expiry walk (as the cancel walk). */
const EXPIRE_CHUNK_BATCHES = 25;

/**
 * Acts on the guard rails that depend on outcomes and time (docs/ARCHITECTURE.md, "Guard rails"):
 * auto-pause (after every batch's outcomes and every delivery-report write), the canary (pass once
 * enough of it is delivered, fail after `waitSeconds`), and expiry (the sweep). Send windows and the
 * canary's hold on the other messages are applied by the batch service when it leases a batch.
 */
@Injectable()
export class CampaignGuardRailsService {
  private readonly logger = new Logger(CampaignGuardRailsService.name);

  constructor(
    private readonly repo: CampaignGuardRailsRepository,
    private readonly batches: CampaignBatchesRepository,
    private readonly recovery: BatchRecoveryRepository,
    private readonly control: CampaignControlQueue,
    private readonly events: CampaignEvents,
  ) {}

  /** After new outcomes of these campaigns (a batch's write, delivery reports): judge what they have on. */
  async afterOutcomes(campaignIds: string[]): Promise<void> {
    for (const c of await this.repo.guarded(campaignIds)) {
      try {
        if (c.auto_pause && (await this.judgeFailureRate(c))) continue;
        if (c.canary_state === 'pending') await this.judgeCanary(c);
      } catch (e) {
        // A judgement missed now is made again after the next outcomes or by the sweep.
        this.logger.warn({ campaignId: c.id, err: e instanceof Error ? e.message : e }, 'guard-rail check failed');
      }
    }
  }

  /** The sweep's part (open campaigns): expiry, and a canary that timed out or passed unnoticed. */
  async sweep(c: { id: string; status: CampaignStatus; expires_at: Date | null; canary_state: string | null }): Promise<void> {
    if (c.expires_at && new Date(c.expires_at).getTime() <= Date.now() && canPerform(c.status, 'expire')) {
      await this.expire(c.id);
      return;
    }
    if (c.status === 'sending' && c.canary_state === 'pending') await this.afterOutcomes([c.id]);
  }

  /**
   * Expiry: the queued messages of every batch nobody holds become `expired` (credits returned by the
   * status trigger); a holder finds out at its next marker and expires the rest of its batch. The
   * campaign ends once nothing else is left — also while paused or waiting for a window.
   */
  async expire(campaignId: string): Promise<void> {
    let moved = 0;
    for (let from = 0; ; ) {
      const pending = await this.batches.pendingFrom(campaignId, from, EXPIRE_CHUNK_BATCHES);
      if (pending.length === 0) break;
      const to = pending[pending.length - 1].batch + 1;
      moved += (await this.batches.settleFreeBatches(campaignId, pending[0].batch, to, 'expired', 'EXPIRED')).messages;
      from = to;
    }
    const ended = await this.repo.finishExpired(campaignId);
    if (ended) await this.recovery.settleIfClosed(campaignId);
    if (moved > 0 || ended) {
      this.logger.log({ campaignId, expired: moved, ended }, 'campaign past its expiresAt');
      this.events.changed(campaignId);
    }
  }

  /** True if the campaign paused itself. */
  private async judgeFailureRate(c: GuardedCampaign): Promise<boolean> {
    const window = c.failure_window ?? EMPTY_WINDOW;
    const verdict = judgeFailureRate(window, await this.repo.outcomeCounts(c.id), c.auto_pause!);
    if (verdict.pause && (await this.repo.pauseFor(c.id, 'FAILURE_RATE'))) {
      this.logger.warn({ campaignId: c.id, rate: verdict.rate, max: c.auto_pause!.maxFailureRate }, 'campaign paused itself: failure rate');
      this.events.changed(c.id);
      return true;
    }
    if (verdict.next) await this.repo.moveFailureWindow(c.id, c.failure_window, verdict.next);
    return false;
  }

  private async judgeCanary(c: GuardedCampaign): Promise<void> {
    const counts = await this.repo.canaryCounts(c.id, c.canary_until_seq!);
    let sentAt = c.canary_sent_at ? new Date(c.canary_sent_at) : null;
    if (!sentAt && counts.waiting === 0) sentAt = await this.repo.markCanarySent(c.id);
    const verdict = judgeCanary(counts, c.canary!, sentAt, new Date());
    const generation = verdict === 'pass' ? await this.repo.openCanaryGate(c.id, 'pending') : null;
    if (generation !== null) {
      this.logger.log({ campaignId: c.id, ...counts }, 'canary passed; the rest of the campaign goes out');
      await this.control.dispatch({ campaignId: c.id, generation, round: 'canary' });
      this.events.changed(c.id);
    } else if (verdict === 'fail' && (await this.repo.pauseFor(c.id, 'CANARY_FAILED', true))) {
      this.logger.warn({ campaignId: c.id, ...counts }, 'campaign paused itself: canary not delivered in time');
      this.events.changed(c.id);
    }
  }
}

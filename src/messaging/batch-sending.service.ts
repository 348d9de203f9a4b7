import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/app.config.js';
import { BatchLeasesRepository, type BatchContext, type LeaseRef, type QueuedMessage } from '../campaigns/batch-leases.repository.js';
import { CampaignBatchesRepository, type MessageOutcome } from '../campaigns/campaign-batches.repository.js';
import { CampaignLifecycleService } from '../campaigns/campaign-lifecycle.service.js';
import { withDatabaseRetry } from '../database/transient-errors.js';
import { settledWithin } from '../common/settled-within.js';
import { RateLimiterService } from '../rate-limiting/rate-limiter.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CampaignEvents } from '../events/campaign-events.js';
import type { SendBatchJob } from '../queues/queue-names.js';
import { BatchLease } from './batch-lease.js';
import { BatchDeferred, BatchRetryable, type BatchAttempt, type BatchRun } from './batch-run.js';
import { MessageRenderer } from './message-renderer.js';
import { SenderSelector } from './sender-selector.js';
import { closedWindow, sendNow } from './send-now.js';
import { CampaignGuardRailsService } from '../campaigns/campaign-guard-rails.service.js';
import type { SendContext, SmsSender } from './sms-sender.js';
import { accountCredentials } from '../mitto/traffic-account-credentials.js';

/** The first call's permit is waited for in place up to this; longer waits give the batch back. */
const FIRST_PERMIT_WAIT_MS = 250;
/** Later calls of a batch (single flow) wait in place up to this, lease renewed meanwhile. */
const NEXT_PERMIT_WAIT_MS = 5_000;
/**
 * A batch given back for the rate limit comes back this much before its slot frees: time to be picked up,
 * leased and marked, so that it is already waiting when the slot frees (else every window starts late).
 */
const PERMIT_LEAD_MS = 150;
/** A batch waiting for a send window comes back this long after it opens (clock skew between processes). */
const WINDOW_MARGIN_MS = 200;
/** A known outcome is written through database blips for up to this long (lease renewed meanwhile). */
const RESULT_WRITE_MAX_MS = 10 * 60_000;

/**
 * Sends one batch under a lease (docs/ARCHITECTURE.md, "Batch leases"):
 *  1. lease the batch in one statement, which also reads the context and the queued messages, and turns
 *     an abandoned marker into `unknown`; suppressed → skipped, missing variable → failed;
 *  3. for each Mitto call (bulk: one; single: one per message): permit → write-ahead marker (the last check
 *     that the lease is ours and the campaign still sending) → call → outcomes written, each message from
 *     `queued` to its outcome in one statement; the last write also releases the lease;
 *  4. end the campaign if nothing is left.
 * Safe to run for the same batch from two jobs at once: the lease lets exactly one of them send.
 */
@Injectable()
export class BatchSendingService {
  private readonly logger = new Logger(BatchSendingService.name);
  private readonly renderer = new MessageRenderer();
  private readonly leaseMs: number;
  private readonly reconcileAfterMs: number;
  private readonly backoffMs: number;
  private readonly defaultZone: string;
  private stopping = false;
  private readonly inFlight = new Set<Promise<BatchRun>>();

  constructor(
    private readonly leases: BatchLeasesRepository,
    private readonly batches: CampaignBatchesRepository,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly limiter: RateLimiterService,
    private readonly metrics: MetricsService,
    private readonly events: CampaignEvents,
    private readonly senders: SenderSelector,
    private readonly guardRails: CampaignGuardRailsService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {
    const recovery = config.get('recovery', { infer: true });
    this.leaseMs = recovery.batchLeaseMs;
    this.reconcileAfterMs = recovery.reconcileAfterMs;
    this.backoffMs = config.get('sending', { infer: true }).backoffMs;
    this.defaultZone = config.get('recipients', { infer: true }).defaultTimeZone;
  }

  /** Shutdown: batches stop before their next Mitto call and hand their lease back at once. */
  stop(): void {
    this.stopping = true;
  }

  /** Waits (at most `ms`) for the batches in flight in this process to write their outcomes. */
  async drain(ms: number): Promise<void> {
    await settledWithin(Promise.allSettled([...this.inFlight]), ms);
  }

  async run(job: SendBatchJob, attempt: BatchAttempt): Promise<BatchRun> {
    const running = this.runBatch(job, attempt);
    this.inFlight.add(running);
    try {
      return await running;
    } finally {
      this.inFlight.delete(running);
    }
  }

  private async runBatch(job: SendBatchJob, attempt: BatchAttempt): Promise<BatchRun> {
    const ref = { campaignId: job.campaignId, batch: job.batch, token: randomUUID() };
    const got = await this.leases.lease(ref, job.generation, { leaseMs: this.leaseMs, reconcileAfterMs: this.reconcileAfterMs });
    if (!got.leased) {
      if (got.reason === 'busy') throw new BatchDeferred(Math.max(50, got.until.getTime() - Date.now() + 50), 'lease held by another worker');
      if (got.reason === 'done') await this.finish(job.campaignId);
      return { messages: 0, sent: 0 };
    }
    const leased: LeaseRef = { ...ref, round: got.round };
    const sender = this.senders.forTenant(got.context.bulk_sending);
    if (got.interrupted > 0) {
      this.metrics.batchTakeovers.inc();
      this.metrics.messagesProcessed.inc({ status: 'unknown', mode: sender.mode }, got.interrupted);
      this.logger.warn({ campaignId: job.campaignId, batch: job.batch, messages: got.interrupted }, 'took over an abandoned batch; its call in flight is unknown');
    }
    const lease = new BatchLease(this.leases, leased, this.leaseMs, sender.mode);
    const stopTimer = this.metrics.batchSeconds.startTimer({ mode: sender.mode });
    try {
      return await this.sendLeased(lease, got.context, got.messages, sender, attempt);
    } finally {
      lease.stop();
      stopTimer();
    }
  }

  private async sendLeased(lease: BatchLease, ctx: BatchContext, queued: QueuedMessage[], sender: SmsSender, attempt: BatchAttempt): Promise<BatchRun> {
    const { campaignId } = lease.ref;
    const { apiKey, limits } = accountCredentials(ctx, this.config.get('rateLimits', { infer: true }), this.config.get('mitto', { infer: true }).defaultApiKey);
    if (!apiKey) this.logger.error({ campaignId }, 'traffic account has no API key and MITTO_API_KEY is not set');
    const at = new Date();
    if (ctx.expires_at && new Date(ctx.expires_at) <= at) {
      await this.write(lease, [], null, attempt.attempt, { done: false });
      await this.campaignStopped(lease, 'expired');
      return { messages: queued.length, sent: 0 };
    }
    // Guard rails: messages outside their send window, or behind a pending canary, wait (still queued).
    const plan = sendNow(queued, ctx, at, this.defaultZone);
    const { outgoing, settled } = this.renderer.render(campaignId, ctx.text, plan.now);
    this.count(settled, sender.mode);
    const sendCtx: SendContext = { apiKey: apiKey ?? '', mittoTrafficAccountId: ctx.mitto_traffic_account_id, sender: ctx.sender };
    const calls = sender.prepare(sendCtx, outgoing);
    const run: BatchRun = { messages: queued.length, sent: 0 };
    // How the lease ends when every call went out: done, or pending until the earliest window opening.
    let nextOpening = plan.nextOpening;
    const finalRelease = () => ({
      done: nextOpening === null && !plan.heldByCanary,
      notBefore: nextOpening ?? (plan.heldByCanary ? ('held' as const) : null),
    });

    // Outcomes known but not written yet; every write carries what has accumulated.
    let pending: MessageOutcome[] = settled;
    let bulkId: string | null = null;
    let canaryPassed = false;
    const flush = async (release?: { done: boolean; notBefore?: Date | 'held' | null }) => {
      ({ canaryPassed } = await this.write(lease, pending, bulkId, attempt.attempt, release));
      pending = [];
    };

    // The recipients' own data (a `timeZone` variable) for the window check of later calls.
    const queuedBySeq = new Map(ctx.send_window ? plan.now.map((m) => [m.seq, m]) : []);
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i];
      // Single flow: a window may close while the batch goes through its calls; that message waits.
      const closed = i > 0 && ctx.send_window ? closedWindow(call.messages.map((o) => queuedBySeq.get(o.seq)!), ctx, new Date(), this.defaultZone) : null;
      if (closed) {
        if (nextOpening === null || closed < nextOpening) nextOpening = closed;
        if (i === calls.length - 1) await flush(finalRelease());
        continue;
      }
      // The rate limit's grant is taken after the marker, right before the request leaves, so the marker's
      // commit never sits between a grant and its request and requests *arrive* at Mitto within the limit
      // (docs/RATE_LIMITING.md). A slot too far off gives the batch back before any marker is written.
      const permitBudgetMs = i === 0 ? FIRST_PERMIT_WAIT_MS : NEXT_PERMIT_WAIT_MS;
      const free = await this.limiter.available(limits);
      if (!free.granted && free.waitMs > permitBudgetMs) {
        await flush({ done: false });
        throw new BatchDeferred(Math.max(0, free.waitMs - PERMIT_LEAD_MS), `rate limit (${free.scope ?? 'account'})`);
      }
      if (this.stopping) {
        await flush({ done: false });
        throw new BatchDeferred(0, 'worker shutting down');
      }
      const marked = await lease.markInFlight(call.messages[0].seq, call.messages[call.messages.length - 1].seq + 1);
      if (marked.kind === 'lost') {
        // A successor owns the batch now (it treats our last call as unknown); our known outcomes still count.
        await flush();
        return run;
      }
      if (marked.kind === 'stopped') {
        await flush({ done: false });
        await this.campaignStopped(lease, marked.campaignStatus);
        return run;
      }

      // Wait for the slot with the marker set (a worker that dies now leaves this call `unknown`, as during
      // the call itself; the next holder's evidence rule queues it again once reports show Mitto never had
      // it); a grant that came late (a stalled event loop) is given back and taken again. The marker ran
      // the lease to now + BATCH_LEASE_MS; two waits of at most a third of that each end well before, so
      // no successor can have taken the batch over by the time the request leaves.
      const markedWaitMs = Math.min(permitBudgetMs, Math.floor(this.leaseMs / 3));
      const granted = await this.limiter.acquireWithin(limits, 1, markedWaitMs);
      const permit = await this.limiter.refreshIfLate(limits, granted, 1, markedWaitMs);
      if (!permit.granted) {
        await flush({ done: false }); // also clears the marker: this call did not go out
        throw new BatchDeferred(Math.max(0, permit.waitMs - PERMIT_LEAD_MS), `rate limit (${permit.scope ?? 'account'})`);
      }

      const report = await sender.send(call);
      if (report.retry) {
        if (report.retry.throttled) {
          const waitMs = Math.min(Math.max(report.retry.retryAfterMs ?? 1000, 100), 60_000);
          await this.limiter.pushback(limits.trafficAccountId, waitMs);
          await flush({ done: false });
          throw new BatchDeferred(waitMs, 'Mitto answered 429');
        }
        if (!attempt.isLastAttempt) {
          await flush({ done: false });
          // Progress in this attempt: come back after the backoff without spending one of the batch's attempts.
          if (run.sent > 0) throw new BatchDeferred(this.backoffMs, `Mitto did not take a call (${report.retry.reason})`);
          throw new BatchRetryable(report.retry.reason);
        }
        // Last attempt: this call's messages fail for good; the batch goes on with its next calls.
        const reason = report.retry.reason;
        report.outcomes.push(...call.messages.map((m): MessageOutcome => ({ seq: m.seq, status: 'failed', errorCode: 'MITTO_RETRY_EXHAUSTED', errorMessage: reason })));
      }
      pending.push(...report.outcomes);
      bulkId = report.bulkId;
      run.sent += report.outcomes.filter((o) => o.status === 'sent').length;
      this.count(report.outcomes, sender.mode);
      // Single flow: each message's outcome is written as soon as it is known; the last write ends the lease.
      await flush(i === calls.length - 1 ? finalRelease() : undefined);
      this.events.changed(campaignId);
    }
    if (calls.length === 0) await flush(finalRelease());
    if (ctx.guarded) await this.guardRails.afterOutcomes([campaignId]);
    // The canary passed while we sent its last messages: what we would have held goes now, in this job.
    if (canaryPassed) throw new BatchDeferred(0, 'canary passed during the batch');
    // Every batch checks for the campaign's end after its last write has committed: a check made inside
    // the write would read a snapshot from the statement's start, in which a batch leased, sent and
    // written while our write was under way still looks unsent (and its own check, before our commit,
    // saw ours unsent). Of the writes that overlap, the last to commit then sees all the others done.
    await this.finish(campaignId);
    // Messages waiting for their window: this job comes back when the first window opens (no polling).
    if (nextOpening) throw new BatchDeferred(Math.max(0, nextOpening.getTime() - Date.now()) + WINDOW_MARGIN_MS, 'send window closed');
    return run;
  }

  /**
   * The campaign left `sending` while we held the batch (we released it already): cancelled → its queued
   * messages are cancelled; past its expiresAt → they expire; paused → they wait for the resume.
   */
  private async campaignStopped(lease: BatchLease, campaignStatus: string): Promise<void> {
    if (campaignStatus !== 'cancelled' && campaignStatus !== 'expired') return;
    const { campaignId, batch } = lease.ref;
    const moved = campaignStatus === 'cancelled'
      ? await this.batches.settleFreeBatches(campaignId, batch, batch + 1, 'cancelled', 'CAMPAIGN_CANCELLED')
      : await this.batches.settleFreeBatches(campaignId, batch, batch + 1, 'expired', 'EXPIRED');
    if (moved.messages > 0) this.events.changed(campaignId);
  }

  /**
   * Writes outcomes (and the release), retrying through deadlocks and database blips: a known outcome is
   * never dropped. Returns whether the canary passed with this write.
   */
  private async write(
    lease: BatchLease, outcomes: MessageOutcome[], bulkId: string | null, attempt: number, release?: { done: boolean },
  ): Promise<{ canaryPassed: boolean }> {
    if (outcomes.length === 0 && !release) return { canaryPassed: false };
    const result = await withDatabaseRetry(
      () => this.batches.writeOutcomes(lease.ref, outcomes, { bulkId, attempt, reconcileAfterMs: this.reconcileAfterMs }, release),
      {
        maxMs: RESULT_WRITE_MAX_MS,
        // Try every second at most: the outcomes should land as soon as the database is back.
        capMs: 1_000,
        onRetry: (e, n) => {
          this.metrics.resultWriteRetries.inc();
          if (n === 1 || n % 10 === 0) this.logger.warn({ campaignId: lease.ref.campaignId, batch: lease.ref.batch, tries: n, err: e instanceof Error ? e.message : e }, 'result write failed; retrying');
        },
      },
    );
    if (result.providerIdRepeated) {
      // Written all the same; a report naming that id may be matched to the message that had it first.
      this.metrics.providerIdsRepeated.inc();
      this.logger.warn({ campaignId: lease.ref.campaignId, batch: lease.ref.batch, bulkId }, 'Mitto answered with a provider id already recorded for another message');
    }
    return result;
  }

  private count(outcomes: MessageOutcome[], mode: SmsSender['mode']): void {
    const byStatus = new Map<string, number>();
    for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    for (const [status, n] of byStatus) this.metrics.messagesProcessed.inc({ status, mode }, n);
  }

  private async finish(campaignId: string): Promise<void> {
    if (await this.lifecycle.finishIfDone(campaignId)) {
      this.renderer.forget(campaignId);
      this.events.changed(campaignId);
    }
  }
}


import { Injectable, Logger } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { ConfigService } from '@nestjs/config';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import { AppError } from '../common/app-error.js';
import { CreditsService } from '../tenants/credits.service.js';
import { CampaignControlQueue } from '../queues/campaign-control.queue.js';
import { Campaign } from './campaign.entity.js';
import { CampaignsService } from './campaigns.service.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { CampaignLifecycleRepository } from './campaign-lifecycle.repository.js';
import { CampaignMessagesRepository } from './campaign-messages.repository.js';
import { CampaignBatchesRepository } from './campaign-batches.repository.js';
import { BatchRecoveryRepository } from './batch-recovery.repository.js';
import { CampaignGuardRailsRepository } from './campaign-guard-rails.repository.js';
import { EMPTY_WINDOW } from '../guard-rails/failure-rate.js';
import type { CampaignStatusView, CampaignView } from './dto/campaign.dto.js';
import { targetStatus } from './campaign-state.js';

/** Batches per statement of the cancel walk (5,000 messages at the default batch size). */
const CANCEL_CHUNK_BATCHES = 25;

/**
 * Campaign state changes: schedule, enqueue, pause, resume, cancel and the end of sending.
 * PostgreSQL is the source of truth: each change commits first, then jobs are handed to BullMQ;
 * if the process dies in between, the recovery sweep re-creates the missing jobs from the database.
 */
@Injectable()
export class CampaignLifecycleService {
  private readonly logger = new Logger(CampaignLifecycleService.name);
  private readonly batchSize: number;
  private readonly creditsPerSegment: number;

  constructor(
    private readonly db: DataSource,
    private readonly campaigns: CampaignsService,
    private readonly campaignRows: CampaignsRepository,
    private readonly rows: CampaignLifecycleRepository,
    private readonly messageRows: CampaignMessagesRepository,
    private readonly batches: CampaignBatchesRepository,
    private readonly recovery: BatchRecoveryRepository,
    private readonly guardRails: CampaignGuardRailsRepository,
    private readonly credits: CreditsService,
    private readonly control: CampaignControlQueue,
    config: ConfigService<AppConfig, true>,
  ) {
    const sending = config.get('sending', { infer: true });
    this.batchSize = sending.batchSize;
    this.creditsPerSegment = sending.creditsPerSegment;
  }

  /**
   * Starts sending now. Checks, in order: the campaign exists for this tenant (404), its state allows
   * it (409), the subscription is active (403), a sendable recipient exists (422), credits suffice
   * (402); then reserves credits with one conditional UPDATE and commits. Work is O(1) in the
   * campaign's size: batches are seq ranges, and batch jobs are created by the dispatch job.
   */
  async enqueue(tenantId: string, id: string): Promise<CampaignStatusView> {
    const campaign = await this.db.transaction(async (tx) => {
      const c = await this.campaigns.find(tenantId, id, tx, true);
      CampaignsService.assertCan(c, 'enqueue');
      const [tenant] = await queryRows(tx,
        `SELECT t.subscription_status, t.traffic_account_id, a.default_sender
           FROM tenants t LEFT JOIN traffic_accounts a ON a.id = t.traffic_account_id WHERE t.id = $1`,
        [tenantId],
      );
      if (tenant.subscription_status !== 'active') {
        throw new AppError('INACTIVE_SUBSCRIPTION', 'The subscription of this account is not active');
      }
      const queued = (await this.messageRows.counts(c.id, tx)).find((r) => r.status === 'queued');
      const recipients = Number(queued?.messages ?? 0);
      if (recipients === 0) throw new AppError('NO_RECIPIENTS', 'The campaign has no recipient that can be sent to');
      if (c.expiresAt && c.expiresAt.getTime() <= Date.now()) {
        throw AppError.validation([{ field: 'expiresAt', message: 'expiresAt has passed: move it or remove it (PATCH) before sending' }]);
      }
      const required = Number(queued?.segments ?? 0) * this.creditsPerSegment;
      if (!tenant.traffic_account_id) {
        throw new AppError('SERVICE_UNAVAILABLE', 'No Mitto traffic account is assigned to this tenant; ask an administrator');
      }
      await this.credits.reserve(tx, tenantId, c.id, required);
      const wasScheduled = c.status === 'scheduled';
      const changes: Partial<Campaign> = {
        status: targetStatus('enqueue'),
        startedAt: c.startedAt ?? new Date(),
        sender: c.sender ?? tenant.default_sender,
        trafficAccountId: tenant.traffic_account_id,
        batchSize: this.batchSize,
        batchCount: Math.ceil(c.nextSeq / this.batchSize),
        dispatchedBatches: 0,
        dispatchGeneration: c.dispatchGeneration + 1,
        creditsHeld: true,
        creditsReserved: required,
        creditsPerSegment: this.creditsPerSegment,
        pauseReason: null,
        failureWindow: c.autoPause ? EMPTY_WINDOW : null,
        ...(await this.canaryStart(tx, c, recipients)),
        updatedAt: new Date(),
      };
      await this.campaignRows.update(tx, c.id, changes);
      await this.batches.createBatches(tx, c.id, changes.batchCount!);
      return { ...Object.assign(c, changes), wasScheduled };
    });
    await this.handOff(campaign);
    if (campaign.wasScheduled && campaign.scheduledAt) {
      await this.control.unschedule({ campaignId: campaign.id, scheduledAt: campaign.scheduledAt.toISOString() });
    }
    return this.campaigns.statusOf(campaign);
  }

  async schedule(tenantId: string, id: string, scheduledAt: string): Promise<CampaignView> {
    const when = new Date(scheduledAt);
    if (when.getTime() <= Date.now()) {
      throw AppError.validation([{ field: 'scheduledAt', message: 'scheduledAt must be in the future' }]);
    }
    const { campaign, previous } = await this.db.transaction(async (tx) => {
      const c = await this.campaigns.find(tenantId, id, tx, true);
      CampaignsService.assertCan(c, 'schedule');
      const previous = c.status === 'scheduled' ? c.scheduledAt : null;
      c.status = targetStatus('schedule');
      c.scheduledAt = when;
      await this.campaignRows.save(tx, c);
      return { campaign: c, previous };
    });
    await this.control.scheduleStart({ campaignId: campaign.id, scheduledAt: when.toISOString() });
    if (previous && previous.getTime() !== when.getTime()) {
      await this.control.unschedule({ campaignId: campaign.id, scheduledAt: previous.toISOString() });
    }
    return this.campaigns.view(campaign);
  }

  /** Run by the delayed start job; a job for an outdated schedule (rescheduled, cancelled) does nothing. */
  async startScheduled(campaignId: string, scheduledAt: string): Promise<void> {
    const row = await this.rows.scheduledStart(campaignId);
    if (!row || row.status !== 'scheduled' || new Date(row.scheduled_at).getTime() !== Date.parse(scheduledAt)) return;
    if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) {
      if (await this.guardRails.expireUnstarted(campaignId)) this.logger.warn({ campaignId }, 'scheduled campaign expired before its start');
      return;
    }
    try {
      await this.enqueue(row.tenant_id, campaignId);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      // A business refusal (credits, subscription, no recipients) ends the scheduled run visibly.
      this.logger.warn({ campaignId, code: e.code }, 'scheduled campaign could not start');
      await this.rows.failStart(campaignId);
    }
  }

  async pause(tenantId: string, id: string): Promise<CampaignView> {
    return this.campaigns.view(await this.transition(tenantId, id, 'pause', await this.rows.pause(tenantId, id)));
  }

  /**
   * Resumes with a new dispatch generation: jobs for the batches still pending. A batch whose holder is
   * still finishing its call keeps its lease; the new job waits for it, so nobody is sent twice.
   */
  async resume(tenantId: string, id: string): Promise<CampaignView> {
    const campaign = await this.transition(tenantId, id, 'resume', await this.rows.resume(tenantId, id));
    // Batches a failed canary held back may be leased again (the canary now counts as passed).
    if (campaign.canaryState === 'passed') await this.batches.releaseCanaryHold(campaign.id);
    await this.handOff(campaign);
    return this.campaigns.view(campaign);
  }

  /**
   * Cancels: the campaign leaves `sending` first (committed: no batch is leased and no Mitto call starts
   * after that), then the queued messages of every batch nobody holds become `cancelled` (credits refunded
   * by the status trigger), walking the campaign once by batch number. A batch whose holder is in a call
   * finishes that call and cancels the rest itself; the sweep finishes a walk cut short.
   */
  async cancel(tenantId: string, id: string): Promise<CampaignView> {
    const campaign = await this.db.transaction(async (tx) => {
      const c = await this.campaigns.find(tenantId, id, tx, true);
      CampaignsService.assertCan(c, 'cancel');
      c.status = targetStatus('cancel');
      c.completedAt = new Date();
      await this.campaignRows.save(tx, c);
      return c;
    });
    if (campaign.batchSize === null) {
      // Never started: no batch exists, so nothing can be sending; cancel its messages by seq range.
      for (let from = 0; from < campaign.nextSeq; from += CANCEL_CHUNK_BATCHES * 200) {
        await this.messageRows.cancelNeverSent(campaign.id, from, from + CANCEL_CHUNK_BATCHES * 200);
      }
    } else {
      await this.cancelPending(campaign.id);
    }
    // Usually nothing is left open (no holder mid-call): the campaign leaves the sweep's view at once.
    await this.recovery.settleIfClosed(campaign.id);
    if (campaign.scheduledAt) await this.control.unschedule({ campaignId: campaign.id, scheduledAt: campaign.scheduledAt.toISOString() });
    return this.campaigns.view(campaign);
  }

  /**
   * The cancel walk over the campaign's pending batches, in order, once: each chunk one statement (see
   * settleFreeBatches). Batches held by a worker are left to it. Returns the messages cancelled.
   */
  async cancelPending(campaignId: string): Promise<number> {
    let messages = 0;
    for (let from = 0; ; ) {
      const pending = await this.batches.pendingFrom(campaignId, from, CANCEL_CHUNK_BATCHES);
      if (pending.length === 0) return messages;
      const to = pending[pending.length - 1].batch + 1;
      messages += (await this.batches.settleFreeBatches(campaignId, pending[0].batch, to, 'cancelled', 'CAMPAIGN_CANCELLED')).messages;
      from = to;
    }
  }

  /** Ends a sending campaign once nothing is left to send (CampaignLifecycleRepository.finishIfDone); true if this call did. */
  async finishIfDone(campaignId: string): Promise<boolean> {
    return this.rows.finishIfDone(campaignId);
  }

  /**
   * The canary of a starting campaign: its first `size` queued messages (those below `canaryUntilSeq`).
   * A canary as large as the campaign holds nothing back: it counts as passed from the start.
   */
  private async canaryStart(tx: EntityManager, c: Campaign, recipients: number): Promise<Partial<Campaign>> {
    if (!c.canary) return { canaryState: null, canaryUntilSeq: null, canaryMessages: null, canarySentAt: null };
    const { untilSeq, messages } = await this.guardRails.canaryBoundary(tx, c.id, c.canary.size, c.nextSeq);
    return { canaryState: messages < recipients ? 'pending' : 'passed', canaryUntilSeq: untilSeq, canaryMessages: messages, canarySentAt: null };
  }

  /** Hands a sending campaign to the dispatcher (idempotent: the job id is per generation). */
  async handOff(campaign: Pick<Campaign, 'id' | 'dispatchGeneration'>): Promise<void> {
    try {
      await this.control.dispatch({ campaignId: campaign.id, generation: campaign.dispatchGeneration });
    } catch (e) {
      // Committed already: the recovery sweep will dispatch it. The client still gets its answer.
      this.logger.error({ err: e, campaignId: campaign.id }, 'dispatch hand-off failed; the sweeper will retry');
    }
  }

  /** After a conditional status change (`changed`: it happened): the campaign as it is now; 409 if its status forbade the change. */
  private async transition(tenantId: string, id: string, action: 'pause' | 'resume', changed: boolean): Promise<Campaign> {
    const campaign = await this.campaigns.find(tenantId, id);
    if (!changed) CampaignsService.assertCan(campaign, action);
    return campaign;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/app-error.js';
import { CampaignLifecycleService } from '../campaigns/campaign-lifecycle.service.js';
import { CampaignGuardRailsService } from '../campaigns/campaign-guard-rails.service.js';
import { CampaignEvents } from '../events/campaign-events.js';
import type { StatusUpdate } from './delivery-status.js';
import { DeliveryStatusUpdatesRepository, type UpdateOutcome } from '../campaigns/delivery-status-updates.repository.js';

/** Statements in flight per process; more requests wait and go together into the next statement. */
const MAX_IN_FLIGHT = 2;
/** Upper bound of updates per statement (a single larger request still goes alone, whole). */
const MAX_UPDATES_PER_STATEMENT = 10_000;
/**
 * Updates waiting for a statement, all callers together. Past it new work is refused with 503 (Mitto
 * retries a report POST later), so a flood beyond what PostgreSQL absorbs cannot exhaust memory.
 */
const MAX_QUEUED_UPDATES = 200_000;
/** A message leaving one of these may let its campaign finish. */
const OPEN_STATUSES = new Set(['queued', 'unknown']);

interface Pending {
  updates: StatusUpdate[];
  resolve(outcomes: UpdateOutcome[]): void;
  reject(error: unknown): void;
}

/**
 * The one code path that applies delivery statuses (webhook, refresh, reconciliation). Concurrent
 * callers are coalesced: while statements are in flight, new requests queue up and the next
 * statement carries all of them. After each statement: one event per touched campaign, and a
 * finish check for campaigns whose messages left an open status.
 */
@Injectable()
export class StatusWriter {
  private readonly logger = new Logger(StatusWriter.name);
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private queuedUpdates = 0;

  constructor(
    private readonly repository: DeliveryStatusUpdatesRepository,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly guardRails: CampaignGuardRailsService,
    private readonly events: CampaignEvents,
  ) {}

  write(updates: StatusUpdate[]): Promise<UpdateOutcome[]> {
    if (updates.length === 0) return Promise.resolve([]);
    if (this.queuedUpdates > 0 && this.queuedUpdates + updates.length > MAX_QUEUED_UPDATES) {
      return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'Too many status updates waiting; try again shortly'));
    }
    this.queuedUpdates += updates.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ updates, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const group: Pending[] = [this.queue.shift()!];
      let size = group[0].updates.length;
      while (this.queue.length > 0 && size + this.queue[0].updates.length <= MAX_UPDATES_PER_STATEMENT) {
        size += this.queue[0].updates.length;
        group.push(this.queue.shift()!);
      }
      this.queuedUpdates -= size;
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(group: Pending[]): Promise<void> {
    let outcomes: UpdateOutcome[];
    try {
      outcomes = await this.repository.apply(group.flatMap((p) => p.updates));
    } catch (e) {
      for (const p of group) p.reject(e);
      return;
    }
    // Events and finish checks go out before callers hear back, so a caller that reads right after
    // sees the consequences too.
    await this.afterMoves(outcomes);
    let offset = 0;
    for (const p of group) {
      p.resolve(outcomes.slice(offset, offset + p.updates.length));
      offset += p.updates.length;
    }
  }

  private async afterMoves(outcomes: UpdateOutcome[]): Promise<void> {
    const touched = new Set<string>();
    const mayFinish = new Set<string>();
    const reportedUpTo = new Map<string, Date>();
    for (const o of outcomes) {
      if (!o.moved || !o.campaignId) continue;
      touched.add(o.campaignId);
      if (o.previous && OPEN_STATUSES.has(o.previous)) mayFinish.add(o.campaignId);
      const sentAt = o.sentAt ? new Date(o.sentAt) : null;
      const known = reportedUpTo.get(o.campaignId);
      if (sentAt && (!known || sentAt > known)) reportedUpTo.set(o.campaignId, sentAt);
    }
    try {
      await this.repository.recordReportedUpTo(reportedUpTo);
    } catch (e) {
      // Only a hint for unknown-message settlement; the next reports record it again.
      this.logger.warn({ err: e instanceof Error ? e.message : e }, 'could not record the report watermark');
    }
    try {
      // Auto-pause and the canary judge delivery reports too (failed reports count; delivered ones pass a canary).
      await this.guardRails.afterOutcomes([...touched]);
    } catch (e) {
      this.logger.warn({ err: e instanceof Error ? e.message : e }, 'guard-rail checks after delivery statuses failed; the sweep will retry');
    }
    for (const id of mayFinish) {
      try {
        await this.lifecycle.finishIfDone(id);
      } catch (e) {
        this.logger.warn({ err: e, campaignId: id }, 'finish check after delivery statuses failed; the sweeper will retry');
      }
    }
    for (const id of touched) this.events.changed(id);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { MittoClient } from '../mitto/mitto.client.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RateLimiterService } from '../rate-limiting/rate-limiter.service.js';
import { toStatusUpdate, type StatusUpdate } from './delivery-status.js';
import { StatusWriter } from './status-writer.service.js';
import type { LookupAccount } from './traffic-accounts.lookup.js';

/** A message to ask Mitto about. */
export interface LookupTarget {
  id: string;
  campaignId: string;
  providerMessageId: string;
}

export interface LookupOptions {
  /** Lookups in flight at once. */
  concurrency: number;
  /** Longest wait for one rate-limit permit; past it the run stops (the rest is left for later). */
  maxPermitWaitMs: number;
}

export interface LookupSummary {
  /** Targets we asked about (answered or not). */
  attempted: number;
  /**
   * Per target, in their order: 1 when it was asked about (or had no account to ask with), else 0. Not
   * `attempted`: lookups run concurrently, so when a run stops on a permit it did not get, a later target
   * may have been asked while an earlier one was not (askedPrefix).
   */
  asked: Uint8Array;
  /** Answered: found or not found. */
  checked: number;
  updated: number;
  notFound: number;
  errors: number;
  /** Why the run ended before the last target, if it did. */
  stoppedBy?: 'rate-limit' | 'mitto-throttled' | 'mitto-unavailable';
}

/** Updates are written in groups of this size while lookups go on (live progress for SSE). */
const WRITE_EVERY = 200;
/** Consecutive failed lookups after which Mitto is taken as down and the run stops. */
const MAX_CONSECUTIVE_ERRORS = 10;

/**
 * Asks Mitto `GET /Messages/{id}` about messages, with bounded concurrency and a rate-limit permit
 * per lookup (the sending budget of the message's traffic account), and applies the answers through
 * the same writer as the webhook (forward-only). Used by refresh-status and reconciliation.
 */
@Injectable()
export class StatusLookupService {
  private readonly logger = new Logger(StatusLookupService.name);

  constructor(
    private readonly mitto: MittoClient,
    private readonly limiter: RateLimiterService,
    private readonly writer: StatusWriter,
    private readonly metrics: MetricsService,
  ) {}

  async lookUp(targets: LookupTarget[], accounts: Map<string, LookupAccount>, options: LookupOptions): Promise<LookupSummary> {
    const asked = new Uint8Array(targets.length);
    const summary: LookupSummary = { attempted: 0, asked, checked: 0, updated: 0, notFound: 0, errors: 0 };
    let next = 0;
    let consecutiveErrors = 0;
    let buffer: StatusUpdate[] = [];
    const writes: Array<Promise<void>> = [];
    let writeError: unknown;
    const flush = (): void => {
      if (buffer.length === 0) return;
      const chunk = buffer;
      buffer = [];
      // Handled at once (a rejection left pending while lookups go on would be "unhandled").
      writes.push(
        this.writer.write(chunk).then(
          (outcomes) => void (summary.updated += outcomes.filter((o) => o.moved).length),
          (e: unknown) => void (writeError ??= e),
        ),
      );
    };

    const worker = async (): Promise<void> => {
      while (!summary.stoppedBy && writeError === undefined && next < targets.length) {
        const i = next++;
        const target = targets[i];
        const account = accounts.get(target.campaignId);
        if (!account) {
          asked[i] = 1;
          continue;
        }
        if (!(await this.permit(account, options.maxPermitWaitMs))) {
          summary.stoppedBy ??= 'rate-limit';
          return;
        }
        asked[i] = 1;
        summary.attempted++;
        const end = this.metrics.mittoCalls.startTimer({ endpoint: 'status' });
        const answer = await this.mitto.getMessage(account.apiKey, target.providerMessageId);
        end({ outcome: answer.kind });
        if (answer.kind === 'error') {
          summary.errors++;
          if (answer.retryAfterMs !== undefined) {
            summary.stoppedBy ??= 'mitto-throttled';
            await this.limiter.pushback(account.limits.trafficAccountId, answer.retryAfterMs);
          } else if (++consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) {
            summary.stoppedBy ??= 'mitto-unavailable';
          }
          continue;
        }
        consecutiveErrors = 0;
        summary.checked++;
        if (answer.kind === 'not-found') {
          summary.notFound++;
          continue;
        }
        const update = toStatusUpdate({ ...answer.message, messageId: target.providerMessageId }, Date.now(), target.id);
        if (update) buffer.push(update);
        if (buffer.length >= WRITE_EVERY) flush();
      }
    };

    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
    flush();
    await Promise.all(writes);
    if (writeError !== undefined) throw writeError;
    if (summary.stoppedBy) this.logger.warn({ ...summary, asked: undefined }, 'status lookups stopped early');
    return summary;
  }

  /**
   * One permit of the account and tenant budget, waited for up to `maxWaitMs`: a lookup run can stop
   * cleanly, so it never proceeds without a permit. Called right before the request; a grant that came
   * later than the arrival margin (a busy event loop) is swapped for a fresh one, as in the send path
   * (docs/RATE_LIMITING.md, "Grant time and arrival time", rule 2), so lookups too arrive within the limit.
   */
  private async permit(account: LookupAccount, maxWaitMs: number): Promise<boolean> {
    const deadline = Date.now() + maxWaitMs;
    const granted = await this.limiter.acquireWithin(account.limits, 1, maxWaitMs);
    // The swap waits only for what is left of the same budget.
    return (await this.limiter.refreshIfLate(account.limits, granted, 1, Math.max(0, deadline - Date.now()))).granted;
  }
}

/** How many targets, from the first, were all asked about (LookupSummary.asked): a cursor may move past them, no further. */
export function askedPrefix(asked: ArrayLike<number>): number {
  let n = 0;
  while (n < asked.length && asked[n]) n++;
  return n;
}

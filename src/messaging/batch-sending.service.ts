import { Inject, Injectable, Logger } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/app.config.js';
import { CampaignMessagesRepository, type MessageResult } from '../campaigns/campaign-messages.repository.js';
import { CampaignLifecycleService } from '../campaigns/campaign-lifecycle.service.js';
import { MessageTemplate } from '../recipients/message-template.js';
import { RateLimiterService } from '../rate-limiting/rate-limiter.service.js';
import type { RateLimitKeys } from '../rate-limiting/rate-limiter.types.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CampaignEvents } from '../events/campaign-events.js';
import type { SendBatchJob } from '../queues/queue-names.js';
import { SMS_SENDER, type OutgoingSms, type SmsSender } from './sms-sender.js';
import { accountCredentials, type AccountRow } from './traffic-account-credentials.js';

const IN_PLACE_WAIT_MS = 250;

/** The batch must wait `waitMs` before trying again; it costs no retry attempt. */
export class BatchThrottled extends Error {
  constructor(readonly waitMs: number, readonly scope: string) {
    super(`rate limited (${scope}) for ${waitMs} ms`);
  }
}

/** Mitto did not take the messages (5xx, connection refused…): retry with backoff, costs an attempt. */
export class BatchRetryable extends Error {}

interface BatchContext {
  tenantId: string;
  status: string;
  text: string;
  sender: string;
  batchSize: number;
  apiKey: string;
  mittoTrafficAccountId: string;
  limits: RateLimitKeys;
}

export interface BatchAttempt {
  attempt: number;
  /** True on the last attempt BullMQ will make: "retry" outcomes then become failures. */
  isLastAttempt: boolean;
}

/**
 * Sends one batch: checks the campaign is still sending, takes a rate-limit permit, claims the
 * batch's unsent messages, calls the sender, writes every outcome in one statement and ends the
 * campaign when nothing is left. Safe to run twice for the same batch: claims and writes only touch
 * rows in the expected state, so nobody is sent twice.
 */
@Injectable()
export class BatchSendingService {
  private readonly logger = new Logger(BatchSendingService.name);
  private readonly templates = new Map<string, MessageTemplate>();

  constructor(
    private readonly db: DataSource,
    private readonly messageRows: CampaignMessagesRepository,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly limiter: RateLimiterService,
    private readonly metrics: MetricsService,
    private readonly events: CampaignEvents,
    @Inject(SMS_SENDER) private readonly sender: SmsSender,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async run(job: SendBatchJob, attempt: BatchAttempt): Promise<{ sent: number; claimed: number }> {
    const ctx = await this.context(job.campaignId);
    if (!ctx || ctx.status !== 'sending') return { sent: 0, claimed: 0 };

    const stopTimer = this.metrics.batchSeconds.startTimer({ mode: this.sender.mode });
    const token = randomUUID();
    const from = job.batch * ctx.batchSize;
    const claimed = await this.messageRows.claimBatch(job.campaignId, ctx.tenantId, from, from + ctx.batchSize, token, attempt.attempt);
    if (claimed.length === 0) {
      await this.finish(job.campaignId);
      return { sent: 0, claimed: 0 };
    }

    // The permit is taken as late as possible, right before the provider call, so the rate Mitto sees
    // is the rate the limiter granted. Short waits are slept in place (keeps the account's limit fully
    // used); longer ones give the claim back and return the job to `delayed` for exactly the wait, so
    // other tenants' batches use the slot meanwhile.
    const permit = await this.limiter.acquireWithin(ctx.limits, 1, IN_PLACE_WAIT_MS);
    if (!permit.granted) {
      await this.messageRows.writeResults(token, null, claimed.map((m) => ({ id: m.id, status: 'queued' })));
      throw new BatchThrottled(permit.waitMs, permit.scope ?? 'account');
    }

    const template = this.template(job.campaignId, ctx.text);
    const outgoing: OutgoingSms[] = [];
    const results: MessageResult[] = [];
    for (const m of claimed) {
      const rendered = template.render(m.variables);
      if ('missing' in rendered) {
        results.push({ id: m.id, status: 'failed', errorCode: 'MISSING_VARIABLE', errorMessage: rendered.missing.join(', ') });
      } else {
        outgoing.push({ id: m.id, phone: m.phone, text: rendered.text });
      }
    }

    const report = outgoing.length
      ? await this.sender.send(
          { apiKey: ctx.apiKey, mittoTrafficAccountId: ctx.mittoTrafficAccountId, sender: ctx.sender, nextPermit: () => this.limiter.acquireOrWait(ctx.limits, 1, 60_000) },
          outgoing,
        )
      : { bulkId: null, results: [] };
    const retry = report.retry;
    for (const r of report.results) {
      // On the last attempt a "try later" becomes a final failure with the last error.
      results.push(r.status === 'queued' && attempt.isLastAttempt && !retry?.throttled ? { ...r, status: 'failed', errorCode: r.errorCode ?? 'MITTO_RETRY_EXHAUSTED' } : r);
    }
    await this.messageRows.writeResults(token, report.bulkId, results);
    stopTimer();
    const byStatus = new Map<string, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    for (const [status, n] of byStatus) this.metrics.messagesProcessed.inc({ status }, n);
    this.events.changed(job.campaignId);

    if (retry?.throttled) {
      // Honour Retry-After, within reason: a garbage value must not park the account for hours.
      const waitMs = Math.min(Math.max(retry.retryAfterMs ?? 1000, 100), 60_000);
      await this.limiter.pushback(ctx.limits.trafficAccountId, waitMs);
      throw new BatchThrottled(waitMs, 'pushback');
    }
    if (retry && !attempt.isLastAttempt) throw new BatchRetryable(retry.reason);
    await this.finish(job.campaignId);
    return { sent: results.filter((r) => r.status === 'sent').length, claimed: claimed.length };
  }

  private async finish(campaignId: string): Promise<void> {
    if (await this.lifecycle.finishIfDone(campaignId)) {
      this.templates.delete(campaignId);
      this.events.changed(campaignId);
    }
  }

  private template(campaignId: string, text: string): MessageTemplate {
    let t = this.templates.get(campaignId);
    if (!t || t.source !== text) {
      t = MessageTemplate.parse(text);
      this.templates.set(campaignId, t);
    }
    return t;
  }

  private async context(campaignId: string): Promise<BatchContext | undefined> {
    const [row] = await queryRows<AccountRow & { status: string; text: string; sender: string; batch_size: number; mitto_traffic_account_id: string }>(
      this.db,
      `SELECT c.tenant_id, c.status, c.text, c.sender, c.batch_size,
              a.id AS account_id, a.mitto_traffic_account_id, a.api_key, a.rate_limit_per_second AS account_rps,
              t.rate_limit_per_second AS tenant_rps
         FROM campaigns c
         JOIN tenants t ON t.id = c.tenant_id
         JOIN traffic_accounts a ON a.id = c.traffic_account_id
        WHERE c.id = $1`,
      [campaignId],
    );
    if (!row) return undefined;
    const { apiKey, limits } = accountCredentials(
      row,
      this.config.get('rateLimits', { infer: true }),
      this.config.get('mitto', { infer: true }).defaultApiKey,
    );
    if (!apiKey) this.logger.error({ campaignId }, 'traffic account has no API key and MITTO_API_KEY is not set');
    return {
      tenantId: row.tenant_id,
      status: row.status,
      text: row.text,
      sender: row.sender,
      batchSize: row.batch_size,
      apiKey: apiKey ?? '',
      mittoTrafficAccountId: row.mitto_traffic_account_id,
      limits,
    };
  }
}

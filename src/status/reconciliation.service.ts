import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/app.config.js';
import { InjectRedis } from '../redis/redis.module.js';
import { StatusLookupService, type LookupSummary } from './status-lookup.service.js';
import { BatchRecoveryRepository, type DueCheck } from '../campaigns/batch-recovery.repository.js';
import { CampaignMessagesRepository } from '../campaigns/campaign-messages.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TrafficAccountsLookup } from './traffic-accounts.lookup.js';

/** Most lookups per run; each takes a permit from the sending budget, so keep a run short. */
const MAX_PER_RUN = 500;
/** Due batches looked at per run. */
const MAX_BATCHES_PER_RUN = 50;
const CONCURRENCY = 8;
/** Background work must not queue behind sends for long: past this wait the run stops. */
const MAX_PERMIT_WAIT_MS = 2_000;
/**
 * The run's lock lives this long unless renewed (every third of it, while the run goes on): a process
 * that dies mid-run blocks reconciliation for seconds, not minutes.
 */
const LOCK_TTL_MS = 15_000;
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
/** Longest pause between two checks of one batch (the backoff doubles up to this). */
const MAX_CHECK_INTERVAL_MS = 6 * 3600_000;

export type ReconcileResult = LookupSummary & { skipped?: 'locked' | 'error'; givenUp?: number };

const NOTHING: LookupSummary = { attempted: 0, asked: new Uint8Array(0), checked: 0, updated: 0, notFound: 0, errors: 0 };

/**
 * Periodic reconciliation: sent messages without a final status (a lost or never-sent delivery report)
 * are looked up at Mitto, a few hundred per run, across all campaigns. The work list is the batches whose
 * `check_at` is due (ix_campaign_batches_check; set RECONCILE_AFTER_MS after a batch's first send), so a
 * run costs what it checks, never a scan of history. Each check of a batch that still has unsettled
 * messages doubles its next wait (RECONCILE_AFTER_MS · 2^checks, at most 6 h); after RECONCILE_HORIZON_MS
 * from its first send a batch is no longer checked (its messages stay `sent`). One run at a time in the
 * whole deployment (Redis lock). Called from the recovery sweep; it never throws.
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);
  private readonly afterMs: number;
  private readonly horizonMs: number;
  private readonly lockKey: string;

  constructor(
    private readonly messageRows: CampaignMessagesRepository,
    private readonly recovery: BatchRecoveryRepository,
    private readonly lookups: StatusLookupService,
    private readonly accounts: TrafficAccountsLookup,
    private readonly metrics: MetricsService,
    @InjectRedis() private readonly redis: Redis,
    config: ConfigService<AppConfig, true>,
  ) {
    const settings = config.get('recovery', { infer: true });
    this.afterMs = settings.reconcileAfterMs;
    this.horizonMs = settings.reconcileHorizonMs;
    this.lockKey = `${config.get('redis', { infer: true }).queuePrefix}:reconcile:lock`;
  }

  async reconcile(): Promise<ReconcileResult> {
    try {
      return await this.run();
    } catch (e) {
      this.logger.warn({ err: e }, 'reconciliation run failed');
      return { ...NOTHING, skipped: 'error' };
    }
  }

  private async run(): Promise<ReconcileResult> {
    const token = randomUUID();
    const locked = await this.redis.set(this.lockKey, token, 'PX', LOCK_TTL_MS, 'NX');
    if (locked !== 'OK') return { ...NOTHING, skipped: 'locked' };
    const renewal = setInterval(() => {
      this.redis.eval(RENEW_SCRIPT, 1, this.lockKey, token, LOCK_TTL_MS).catch(() => undefined);
    }, LOCK_TTL_MS / 3);
    try {
      const due = await this.recovery.dueChecks(MAX_BATCHES_PER_RUN);
      if (due.length === 0) return { ...NOTHING };
      const targets = await this.messageRows.lookupTargetsIn(due, MAX_PER_RUN);
      const summary = targets.length
        ? await this.lookups.lookUp(targets, await this.accounts.forCampaigns([...new Set(targets.map((t) => t.campaignId))]), {
            concurrency: CONCURRENCY,
            maxPermitWaitMs: MAX_PERMIT_WAIT_MS,
          })
        : { ...NOTHING };
      const checked = batchesToReschedule(due, targets, summary, targets.length === MAX_PER_RUN);
      const { givenUp } = await this.recovery.rescheduleChecks(checked, this.afterMs, MAX_CHECK_INTERVAL_MS, this.horizonMs);
      if (givenUp > 0) {
        this.metrics.reconcileGivenUp.inc(givenUp);
        this.logger.warn({ batches: givenUp }, 'sent messages still without a final status after RECONCILE_HORIZON_MS; no longer looked up');
      }
      if (summary.updated > 0 || summary.errors > 0) this.logger.log({ ...summary }, 'reconciled sent messages');
      return { ...summary, givenUp };
    } finally {
      clearInterval(renewal);
      // Release only our own lock.
      await this.redis
        .eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`, 1, this.lockKey, token)
        .catch(() => undefined);
    }
  }
}

/**
 * The due batches to move on after a run (rescheduleChecks: the next check backed off, or given up past
 * the horizon). Normally those whose every message was asked (completedBatches). A run that Mitto stopped
 * (down: errors in a row; or throttling us) moves on every due batch: otherwise the same first targets
 * would be asked, and fail, at every sweep for as long as that lasts (a revoked API key: for good, the
 * horizon never reached), and the batches behind them never asked. A run stopped by our own rate limit
 * (the permits went to sends) leaves the rest due for the next run.
 */
export function batchesToReschedule(
  due: DueCheck[], targets: Array<{ campaignId: string; seq: number }>, summary: Pick<LookupSummary, 'asked' | 'stoppedBy'>, truncated: boolean,
): DueCheck[] {
  if (summary.stoppedBy === 'mitto-unavailable' || summary.stoppedBy === 'mitto-throttled') return due;
  return completedBatches(due, targets, summary.asked, truncated);
}

/**
 * The due batches whose every eligible message was asked about in this run (`asked`, per target:
 * LookupSummary.asked; lookups run concurrently, so the asked ones need not be the first). A batch
 * without targets has nothing left to ask about; the batch holding the last target of a truncated list
 * may have more.
 */
export function completedBatches(due: DueCheck[], targets: Array<{ campaignId: string; seq: number }>, asked: ArrayLike<number>, truncated: boolean): DueCheck[] {
  const key = (campaignId: string, seq: number) => due.findIndex((d) => d.campaignId === campaignId && seq >= d.seqFrom && seq < d.seqTo);
  const open = new Set<number>();
  targets.forEach((t, i) => {
    if (!asked[i]) open.add(key(t.campaignId, t.seq));
  });
  const cut = truncated && targets.length > 0 ? key(targets[targets.length - 1].campaignId, targets[targets.length - 1].seq) : -1;
  return due.filter((_, d) => d !== cut && !open.has(d));
}

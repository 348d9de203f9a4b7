import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/app.config.js';
import { InjectRedis } from '../redis/redis.module.js';
import { StatusLookupService, type LookupSummary, type LookupTarget } from './status-lookup.service.js';
import { TrafficAccountsLookup } from './traffic-accounts.lookup.js';

/** Most lookups per run; each takes a permit from the sending budget, so keep a run short. */
const MAX_PER_RUN = 500;
const CONCURRENCY = 8;
/** Background work must not queue behind sends for long: past this wait the run stops. */
const MAX_PERMIT_WAIT_MS = 2_000;
const LOCK_TTL_MS = 5 * 60_000;
const START = { campaignId: '00000000-0000-0000-0000-000000000000', seq: -1 };

export type ReconcileResult = LookupSummary & { skipped?: 'locked' | 'error' };

const NOTHING: LookupSummary = { attempted: 0, checked: 0, updated: 0, notFound: 0, errors: 0 };

/**
 * Periodic reconciliation: messages accepted by Mitto longer than RECONCILE_AFTER_MS ago with no
 * final status (a lost or never-sent delivery report) are looked up at Mitto, a few hundred per run,
 * across all campaigns. One run at a time in the whole deployment (Redis lock). Call `reconcile()`
 * from the recovery sweep; it never throws (a failed run is logged and the next one continues).
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);
  private readonly afterMs: number;
  private readonly lockKey: string;
  /** Position (campaign_id:seq) where the next run continues; runs walk all stale messages in turn. */
  private readonly cursorKey: string;

  constructor(
    private readonly db: DataSource,
    private readonly lookups: StatusLookupService,
    private readonly accounts: TrafficAccountsLookup,
    @InjectRedis() private readonly redis: Redis,
    config: ConfigService<AppConfig, true>,
  ) {
    this.afterMs = config.get('recovery', { infer: true }).reconcileAfterMs;
    const prefix = config.get('redis', { infer: true }).queuePrefix;
    this.lockKey = `${prefix}:reconcile:lock`;
    this.cursorKey = `${prefix}:reconcile:cursor`;
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
    try {
      const cursor = await this.readCursor();
      const targets = await this.stale(cursor, MAX_PER_RUN);
      if (targets.length === 0) {
        await this.redis.del(this.cursorKey);
        return { ...NOTHING };
      }
      const accounts = await this.accounts.forCampaigns([...new Set(targets.map((t) => t.campaignId))]);
      const summary = await this.lookups.lookUp(targets, accounts, { concurrency: CONCURRENCY, maxPermitWaitMs: MAX_PERMIT_WAIT_MS });
      const last = targets[summary.attempted - 1];
      // Fewer than a full page and all looked up: the walk is complete, start over next time.
      if (targets.length < MAX_PER_RUN && summary.attempted >= targets.length) await this.redis.del(this.cursorKey);
      else if (last) await this.redis.set(this.cursorKey, `${last.campaignId}:${last.seq}`);
      if (summary.updated > 0 || summary.errors > 0) this.logger.log({ ...summary }, 'reconciled stale messages');
      return summary;
    } finally {
      // Release only our own lock.
      await this.redis
        .eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`, 1, this.lockKey, token)
        .catch(() => undefined);
    }
  }

  /** Stale unsettled messages in (campaign_id, seq) order after the cursor (walks the unsettled index). */
  private async stale(cursor: typeof START, limit: number): Promise<Array<LookupTarget & { seq: number }>> {
    return this.db.query(
      `SELECT id, campaign_id AS "campaignId", provider_message_id AS "providerMessageId", seq
         FROM campaign_messages
        WHERE status IN ('sent', 'unknown') AND provider_message_id IS NOT NULL
          AND coalesce(sent_at, updated_at) < now() - make_interval(secs => $1 / 1000.0)
          AND (campaign_id, seq) > ($2::uuid, $3::int)
        ORDER BY campaign_id, seq
        LIMIT $4`,
      [this.afterMs, cursor.campaignId, cursor.seq, limit],
    );
  }

  private async readCursor(): Promise<typeof START> {
    const value = await this.redis.get(this.cursorKey).catch(() => null);
    const match = value ? /^([0-9a-f-]{36}):(-?\d+)$/.exec(value) : null;
    return match ? { campaignId: match[1], seq: Number(match[2]) } : START;
  }
}

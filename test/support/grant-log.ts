import { Redis } from 'ioredis';
import { rateLimitKeys, DEFAULT_RATE_LIMIT_KEY_PREFIX } from '../../src/rate-limiting/rate-limiter.service.js';

/**
 * Watches the rate limiter's account log in Redis, which every worker process writes, and keeps every
 * grant it ever held: the limit as the limiter enforced it, across processes, on the Redis clock.
 *
 * The log holds the newest `max` grant stamps (µs, newest first). A stamp leaves it in one of three ways:
 * pushed out by newer grants (the oldest go first), given back (a late grant swapped for a fresh one,
 * `LREM`), or with the whole key when it expires a window after the last grant. Reading the log faster
 * than it turns over sees every grant. A stamp that is gone while an older one is still there was given
 * back, and is not counted. One given back after it had become the oldest cannot be told from one pushed
 * out and stays counted, which errs on the strict side. `stop()` returns the grants; the caller checks
 * their number against the requests that arrived, which also shows that no read missed a grant and that
 * no request went out on a fail-open grant (one without a log entry).
 */
export class GrantLog {
  private readonly redis: Redis;
  private readonly key: string;
  /** stamp → grants counted with it (concurrent grants of one microsecond share a stamp). */
  private readonly grants = new Map<string, number>();
  /** stamp → entries in the log at the last read. */
  private inLog = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private failure: unknown;
  /** Grants seen and then given back. */
  givenBack = 0;

  constructor(redisUrl: string, trafficAccountId: string, tenantId: string, private readonly everyMs = 20) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.key = rateLimitKeys(DEFAULT_RATE_LIMIT_KEY_PREFIX, trafficAccountId, tenantId).account;
  }

  start(): void {
    const tick = (): void => {
      this.polling = this.poll().catch((err) => {
        this.failure ??= err;
      });
      void this.polling.then(() => {
        if (this.timer) this.timer = setTimeout(tick, this.everyMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops after one last read; returns the grants' times in ms on the Redis clock, ascending. */
  async stop(): Promise<number[]> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await this.poll();
    await this.redis.quit();
    if (this.failure) throw this.failure;
    return [...this.grants.entries()].flatMap(([stamp, n]) => Array<number>(n).fill(Number(stamp) / 1000)).sort((a, b) => a - b);
  }

  private async poll(): Promise<void> {
    const log = await this.redis.lrange(this.key, 0, -1);
    const present = new Map<string, number>();
    for (const stamp of log) present.set(stamp, (present.get(stamp) ?? 0) + 1);
    const oldest = log.length ? Number(log[log.length - 1]) : Number.POSITIVE_INFINITY;
    for (const [stamp, before] of this.inLog) {
      const gone = before - (present.get(stamp) ?? 0);
      if (gone <= 0 || Number(stamp) <= oldest) continue; // still there, or pushed out
      this.givenBack += gone;
      this.grants.set(stamp, (this.grants.get(stamp) ?? 0) - gone);
      if (this.grants.get(stamp)! <= 0) this.grants.delete(stamp);
    }
    for (const [stamp, now] of present) {
      const added = now - (this.inLog.get(stamp) ?? 0);
      if (added > 0) this.grants.set(stamp, (this.grants.get(stamp) ?? 0) + added);
    }
    this.inLog = present;
  }
}

/** The most grants within any interval of `windowMs` (half-open), over times in ascending order. */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  let most = 0;
  let from = 0;
  for (let to = 0; to < times.length; to++) {
    while (times[to] - times[from] >= windowMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

import { Redis } from 'ioredis';
import { rateLimitKeys, DEFAULT_RATE_LIMIT_KEY_PREFIX } from '../../src/rate-limiting/rate-limiter.service.js';

/**
 * Watches the rate limiter's account log in Redis, which every worker process writes, and keeps every
 * grant it ever held: the limit as the limiter enforced it, across processes, on the Redis clock.
 *
 * The log holds the newest `max` grant stamps (µs, newest first). A stamp leaves it in one of three ways:
 * pushed out by a newer grant, given back (a late grant swapped for a fresh one, `LREM`), or with the
 * whole key when it expires. The first and the last happen only to a stamp older than the window: the
 * script grants only when the entry that the push moves out is already outside the window, and the key
 * expires a window after its newest stamp. So a stamp that is gone while still inside the window (on the
 * clock the script itself uses: Redis `TIME`, or the newest stamp if that is later) was given back and is
 * not counted; one gone after it left the window stays counted (a grant given back more than a window
 * after it was taken: not seen in these tests). Reading the log every 20 ms, far faster than a stamp
 * leaves it, sees every grant. `stop()` returns the grants; the caller checks their number against the
 * requests that arrived, which also shows that no read missed a grant and that every request went out
 * on a grant the log counted.
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

  constructor(
    redisUrl: string,
    trafficAccountId: string,
    tenantId: string,
    /** The window the limiter counts in: the configured one plus its arrival margin. */
    private readonly windowMs: number,
    private readonly everyMs = 20,
  ) {
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

  /**
   * Stops after one last read; returns the grants' stamps in µs on the Redis clock (integers, exact),
   * ascending. Throws the first failed read, if any.
   */
  async stop(): Promise<number[]> {
    clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.polling;
      await this.poll().catch((err) => {
        this.failure ??= err;
      });
    } finally {
      this.redis.disconnect();
    }
    if (this.failure) throw this.failure;
    return [...this.grants.entries()].flatMap(([stamp, n]) => Array<number>(n).fill(Number(stamp))).sort((a, b) => a - b);
  }

  private async poll(): Promise<void> {
    const replies = await this.redis.multi().time().lrange(this.key, 0, -1).exec();
    if (!replies || replies.some(([err]) => err)) throw replies?.find(([err]) => err)?.[0] ?? new Error('MULTI aborted');
    const [seconds, micros] = replies[0][1] as [string, string];
    const log = replies[1][1] as string[];
    const now = Math.max(Number(seconds) * 1_000_000 + Number(micros), log.length ? Number(log[0]) : 0);
    const windowStart = now - this.windowMs * 1000;
    const present = new Map<string, number>();
    for (const stamp of log) present.set(stamp, (present.get(stamp) ?? 0) + 1);
    for (const [stamp, before] of this.inLog) {
      const gone = before - (present.get(stamp) ?? 0);
      if (gone <= 0 || Number(stamp) <= windowStart) continue; // still there, or out of the window: pushed out or expired
      this.givenBack += gone;
      const left = (this.grants.get(stamp) ?? 0) - gone;
      if (left > 0) this.grants.set(stamp, left);
      else this.grants.delete(stamp);
    }
    for (const [stamp, n] of present) {
      const added = n - (this.inLog.get(stamp) ?? 0);
      if (added > 0) this.grants.set(stamp, (this.grants.get(stamp) ?? 0) + added);
    }
    this.inLog = present;
  }
}

/** The most stamps within any half-open interval `(t - windowUs, t]`, over stamps in ascending order. */
export function busiestWindow(stampsUs: readonly number[], windowUs: number): number {
  let most = 0;
  let from = 0;
  for (let to = 0; to < stampsUs.length; to++) {
    while (stampsUs[to] - stampsUs[from] >= windowUs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

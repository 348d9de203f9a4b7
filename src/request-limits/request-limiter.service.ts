import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import type { AppConfig } from '../config/app.config.js';
import { InjectRedis } from '../redis/redis.module.js';
import type { RedisClient } from '../redis/redis-clients.js';

/** A limit check never holds a request longer than this; past it the per-process fallback decides. */
const REDIS_TIMEOUT_MS = 250;

export interface LimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until this budget starts over (the Retry-After of a refused request). */
  resetSeconds: number;
}

/**
 * The API's own request budget: `API_RATE_LIMIT` requests per `API_RATE_LIMIT_WINDOW_MS` per key, counted
 * in Redis so all API replicas share one budget. rate-limiter-flexible does the counting: one atomic Lua
 * script on one key (SET NX EX + INCRBY + PTTL), so it works unchanged on Redis Cluster, and a key's
 * window is fixed from its first request. (@nestjs/throttler, the Nest-native choice, is CommonJS that
 * `require`s the ESM-only @nestjs/common 12: Node 20 loads that, Jest's module runtime on Node 20 does
 * not, so the e2e suite could not boot the app; see docs/OPERATIONS.md.)
 *
 * When Redis is down or slow, each process falls back to its own in-memory budget of the same size, so
 * the API stays up and still limited (per replica) instead of failing every request.
 */
@Injectable()
export class RequestLimiter {
  private readonly limiter: RLWrapperTimeouts;
  readonly limit: number;
  readonly windowSeconds: number;

  constructor(@InjectRedis() redis: RedisClient, config: ConfigService<AppConfig, true>) {
    const { max, windowMs } = config.get('apiRateLimit', { infer: true });
    this.limit = max;
    this.windowSeconds = windowMs / 1000;
    // Processes sharing a QUEUE_PREFIX are one deployment and share budgets. No hash tag: each check touches
    // one key only, so on a cluster the keys may spread over every slot.
    const prefix = `${config.get('redis', { infer: true }).queuePrefix}:api-limit`;
    const fallback = new RateLimiterMemory({ keyPrefix: prefix, points: max, duration: this.windowSeconds });
    const shared = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: prefix,
      points: max,
      duration: this.windowSeconds,
      // The first refusal of a window marks the key in this process until the window ends: a client that keeps
      // knocking is refused without a Redis call (the window's end is the same for every replica).
      inMemoryBlockOnConsumed: max + 1,
      rejectIfRedisNotReady: true,
      insuranceLimiter: fallback,
    });
    this.limiter = new RLWrapperTimeouts({ limiter: shared, timeoutMs: REDIS_TIMEOUT_MS, insuranceLimiter: fallback });
  }

  /** Takes one request from `key`'s budget. */
  async consume(key: string): Promise<LimitVerdict> {
    try {
      return this.verdict(true, await this.limiter.consume(key));
    } catch (refused) {
      if (refused instanceof RateLimiterRes) return this.verdict(false, refused);
      throw refused;
    }
  }

  private verdict(allowed: boolean, res: RateLimiterRes): LimitVerdict {
    return { allowed, limit: this.limit, remaining: res.remainingPoints, resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
  }
}

import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { InjectRedis } from '../redis/redis.module.js';
import type { RedisClient } from '../redis/redis-clients.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ACQUIRE_LUA, PUSHBACK_LUA, positiveInt } from './rate-limiter.scripts.js';
import type { RateLimitDecision, RateLimitKeys } from './rate-limiter.types.js';

export const DEFAULT_RATE_LIMIT_KEY_PREFIX = 'bulk-sms';

export interface RateLimitRedisKeys {
  account: string;
  tenant: string;
  pushback: string;
}

/**
 * The Redis keys of one account and one tenant. All three carry the same Redis Cluster hash tag, the
 * traffic account (`{acct:<id>}`), so the acquire script's keys share one slot and the script stays
 * one atomic call on a cluster too. The price: a tenant's log lives under the account it sends
 * through; see "Redis Cluster" in docs/RATE_LIMITING.md for a tenant whose account changes.
 */
export function rateLimitKeys(keyPrefix: string, trafficAccountId: string, tenantId: string): RateLimitRedisKeys {
  const tag = `{acct:${trafficAccountId}}`;
  return {
    account: `${keyPrefix}:rl:${tag}:log`,
    tenant: `${keyPrefix}:rl:${tag}:tenant:${tenantId}`,
    pushback: `${keyPrefix}:rl:${tag}:pushback`,
  };
}

/** Optional DI token; without a provider the defaults below apply. */
export const RATE_LIMITER_OPTIONS = Symbol('RATE_LIMITER_OPTIONS');

export interface RateLimiterOptions {
  /** Redis key prefix; keys are `${keyPrefix}:rl:{acct:<id>}:log` etc. Default `bulk-sms`. */
  keyPrefix?: string;
  /** A Redis round trip slower than this counts as a failure (fail-open). Default 250 ms. */
  commandTimeoutMs?: number;
  /** At most one fail-open warning per this interval. Default 10 s. */
  failOpenLogIntervalMs?: number;
}

type Scope = NonNullable<RateLimitDecision['scope']>;
const SCOPES: readonly string[] = ['account', 'tenant', 'pushback'] satisfies Scope[];

const ACQUIRE_COMMAND = 'bulkSmsRateLimitAcquire';
const PUSHBACK_COMMAND = 'bulkSmsRateLimitPushback';

/** The two commands defined on the shared client with `defineCommand` (EVALSHA, EVAL on NOSCRIPT). */
interface ScriptCommands {
  [ACQUIRE_COMMAND](...args: (string | number)[]): Promise<unknown>;
  [PUSHBACK_COMMAND](...args: (string | number)[]): Promise<unknown>;
}

class RedisTimeout extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = 'RedisTimeout';
  }
}

/**
 * Distributed limiter in front of every Mitto HTTP call, shared by all worker processes through one
 * Redis or Redis Cluster. One atomic script checks provider pushback, the traffic-account limit and
 * the tenant limit and charges both limits or neither. Sliding-window log, Redis clock; see docs/RATE_LIMITING.md.
 *
 * Never throws: when Redis fails or is slower than `commandTimeoutMs`, `acquire` grants (fail-open),
 * counts it in `bulksms_rate_limit_fail_open_total` and warns at most once per 10 s.
 */
@Injectable()
export class RateLimiterService {
  private readonly logger = new Logger(RateLimiterService.name);
  readonly keyPrefix: string;
  private readonly commandTimeoutMs: number;
  private readonly failOpenLogIntervalMs: number;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private suppressedWarnings = 0;

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    private readonly metrics: MetricsService,
    @Optional() @Inject(RATE_LIMITER_OPTIONS) options?: RateLimiterOptions,
  ) {
    this.keyPrefix = options?.keyPrefix ?? DEFAULT_RATE_LIMIT_KEY_PREFIX;
    this.commandTimeoutMs = options?.commandTimeoutMs ?? 250;
    this.failOpenLogIntervalMs = options?.failOpenLogIntervalMs ?? 10_000;
    try {
      redis.defineCommand(ACQUIRE_COMMAND, { numberOfKeys: 3, lua: ACQUIRE_LUA });
      redis.defineCommand(PUSHBACK_COMMAND, { numberOfKeys: 1, lua: PUSHBACK_LUA });
    } catch (err) {
      // A stand-in client without scripting: every call will fail open (and say so).
      this.warnThrottled('could not define the rate-limit scripts', err);
    }
  }

  /** The Redis keys of one account and one tenant (see `rateLimitKeys`). */
  keysFor(trafficAccountId: string, tenantId: string): RateLimitRedisKeys {
    return rateLimitKeys(this.keyPrefix, trafficAccountId, tenantId);
  }

  /**
   * Asks for `cost` requests (default 1, one Mitto HTTP call) against the account and the tenant
   * limit. Granted: both were charged, send now. Refused: neither was charged; `waitMs` is when a retry
   * would succeed for the binding limit (`scope`), unless someone else takes the slot first.
   */
  async acquire(keys: RateLimitKeys, cost = 1): Promise<RateLimitDecision> {
    try {
      const k = this.keysFor(keys.trafficAccountId, keys.tenantId);
      const reply = await this.withTimeout(
        this.commands()[ACQUIRE_COMMAND](
          k.account,
          k.tenant,
          k.pushback,
          positiveInt(keys.accountMax),
          positiveInt(keys.accountWindowMs),
          positiveInt(keys.tenantMax),
          positiveInt(keys.tenantWindowMs),
          positiveInt(cost),
        ),
      );
      const decision = parseDecision(reply);
      if (!decision.granted) this.metrics.rateLimitWaits.inc({ scope: decision.scope });
      return decision;
    } catch (err) {
      return this.failOpen(err);
    }
  }

  /**
   * `acquire` until granted, sleeping exactly the advised `waitMs` between tries (never busy-loops).
   * Returns the refusal as soon as the advised wait would end after `maxWaitMs` (no pointless
   * sleeping), so check `granted`.
   */
  async acquireWithin(keys: RateLimitKeys, cost = 1, maxWaitMs = 60_000): Promise<RateLimitDecision> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const decision = await this.acquire(keys, cost);
      if (decision.granted || decision.waitMs > deadline - Date.now()) return decision;
      await sleep(Math.max(1, decision.waitMs));
    }
  }

  /**
   * Provider pushback (HTTP 429 / Retry-After): refuse every `acquire` of this traffic account, with
   * scope 'pushback', for `ms` from now (or longer if a later block is already in force).
   * Never throws; if Redis is unreachable the block is lost (logged).
   */
  async pushback(trafficAccountId: string, ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms <= 0) return;
    const key = this.keysFor(trafficAccountId, '').pushback;
    try {
      await this.withTimeout(this.commands()[PUSHBACK_COMMAND](key, Math.ceil(ms)));
    } catch (err) {
      this.warnThrottled(`could not store a ${Math.ceil(ms)} ms pushback for traffic account ${trafficAccountId}`, err);
    }
  }

  private commands(): ScriptCommands {
    return this.redis as unknown as ScriptCommands;
  }

  private async withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeout(this.commandTimeoutMs)), this.commandTimeoutMs);
      timer.unref();
    });
    try {
      // A late reply or error of `promise` is absorbed by race's own handlers (no unhandled rejection).
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private failOpen(err: unknown): RateLimitDecision {
    try {
      this.metrics.rateLimitFailOpen.inc();
      this.warnThrottled('rate limiter unavailable, failing open (sending without a limit)', err);
    } catch {
      // Metrics or logging must not turn a fail-open into a failure.
    }
    return { granted: true, waitMs: 0 };
  }

  private warnThrottled(message: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < this.failOpenLogIntervalMs) {
      this.suppressedWarnings++;
      return;
    }
    const suppressed = this.suppressedWarnings;
    this.lastWarnAt = now;
    this.suppressedWarnings = 0;
    const reason = err instanceof Error ? err.message : String(err);
    this.logger.warn(`${message}: ${reason}${suppressed > 0 ? ` (${suppressed} similar warnings suppressed)` : ''}`);
  }
}

function parseDecision(reply: unknown): RateLimitDecision {
  if (!Array.isArray(reply) || reply.length < 3) throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
  const [granted, waitMs, scope] = reply as [unknown, unknown, unknown];
  if (Number(granted) === 1) return { granted: true, waitMs: 0 };
  if (typeof scope !== 'string' || !SCOPES.includes(scope) || !(Number(waitMs) > 0)) {
    throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
  }
  return { granted: false, waitMs: Number(waitMs), scope: scope as Scope };
}

import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { InjectRedis } from '../redis/redis.module.js';
import type { RedisClient } from '../redis/redis-clients.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ACQUIRE_LUA, PUSHBACK_LUA, RELEASE_LUA, positiveInt } from './rate-limiter.scripts.js';
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
  /**
   * How late after its grant a request may leave and still count as on time; every window is counted
   * this much longer. Default 25 ms (DEFAULT_ARRIVAL_MARGIN_MS); see "Grant time and arrival time" in
   * docs/RATE_LIMITING.md.
   */
  arrivalMarginMs?: number;
}

/**
 * A request leaves at most this long after its permit was asked for (else the permit is given back and
 * taken again), and every window counts this much longer than configured: then requests *arrive* at Mitto
 * within the limit too, not only their grants (docs/RATE_LIMITING.md). Costs 2.4 % of a 1 s window.
 */
export const DEFAULT_ARRIVAL_MARGIN_MS = 25;

type Scope = NonNullable<RateLimitDecision['scope']>;
const SCOPES: readonly string[] = ['account', 'tenant', 'pushback'] satisfies Scope[];

const ACQUIRE_COMMAND = 'bulkSmsRateLimitAcquire';
const PUSHBACK_COMMAND = 'bulkSmsRateLimitPushback';
const RELEASE_COMMAND = 'bulkSmsRateLimitRelease';

/** The two commands defined on the shared client with `defineCommand` (EVALSHA, EVAL on NOSCRIPT). */
interface ScriptCommands {
  [ACQUIRE_COMMAND](...args: (string | number)[]): Promise<unknown>;
  [PUSHBACK_COMMAND](...args: (string | number)[]): Promise<unknown>;
  [RELEASE_COMMAND](...args: (string | number)[]): Promise<unknown>;
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
  readonly arrivalMarginMs: number;
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
    this.arrivalMarginMs = Math.max(0, options?.arrivalMarginMs ?? DEFAULT_ARRIVAL_MARGIN_MS);
    try {
      redis.defineCommand(ACQUIRE_COMMAND, { numberOfKeys: 3, lua: ACQUIRE_LUA });
      redis.defineCommand(PUSHBACK_COMMAND, { numberOfKeys: 1, lua: PUSHBACK_LUA });
      redis.defineCommand(RELEASE_COMMAND, { numberOfKeys: 2, lua: RELEASE_LUA });
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
    return this.decide(keys, cost, false);
  }

  /**
   * Would `acquire` grant now, and if not, in how long? Charges nothing. Lets a caller that must do work
   * between deciding to send and the grant (the write-ahead marker) give up before that work when the
   * slot is too far off, and take the grant itself right before the request leaves.
   */
  async available(keys: RateLimitKeys, cost = 1): Promise<RateLimitDecision> {
    return this.decide(keys, cost, true);
  }

  private async decide(keys: RateLimitKeys, cost: number, peek: boolean): Promise<RateLimitDecision> {
    try {
      const k = this.keysFor(keys.trafficAccountId, keys.tenantId);
      const askedAt = Date.now();
      const reply = await this.withTimeout(
        this.commands()[ACQUIRE_COMMAND](
          k.account,
          k.tenant,
          k.pushback,
          positiveInt(keys.accountMax),
          positiveInt(keys.accountWindowMs) + this.arrivalMarginMs,
          positiveInt(keys.tenantMax),
          positiveInt(keys.tenantWindowMs) + this.arrivalMarginMs,
          positiveInt(cost),
          ...(peek ? ['peek'] : []),
        ),
      );
      const decision = parseDecision(reply, askedAt);
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
    return this.retryWithin(() => this.acquire(keys, cost), maxWaitMs);
  }

  private async retryWithin(ask: () => Promise<RateLimitDecision>, maxWaitMs: number): Promise<RateLimitDecision> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const decision = await ask();
      if (decision.granted || decision.waitMs > deadline - Date.now()) return decision;
      await sleep(Math.max(1, decision.waitMs));
    }
  }

  /**
   * Right before the request of a grant leaves: a grant asked for longer than the arrival margin ago (a
   * slow write-ahead marker, a busy event loop) is given back and taken again, waiting at most
   * `maxWaitMs`, so that no request arrives at Mitto later after its grant than the margin allows. A
   * fresh grant, a refusal or a fail-open grant is returned as it is.
   */
  async refreshIfLate(keys: RateLimitKeys, permit: RateLimitDecision, cost = 1, maxWaitMs = 60_000): Promise<RateLimitDecision> {
    if (!permit.granted || permit.stamp === undefined || permit.askedAt === undefined) return permit;
    if (Date.now() - permit.askedAt <= this.arrivalMarginMs) return permit;
    await this.release(keys, permit, cost);
    this.metrics.rateLimitRegrants.inc();
    return this.acquireWithin(keys, cost, maxWaitMs);
  }

  /** Gives back a grant that will not be used (both logs). Never throws; a failure leaves the grant counted. */
  async release(keys: RateLimitKeys, permit: RateLimitDecision, cost = 1): Promise<void> {
    if (!permit.granted || permit.stamp === undefined) return;
    try {
      const k = this.keysFor(keys.trafficAccountId, keys.tenantId);
      await this.withTimeout(
        this.commands()[RELEASE_COMMAND](k.account, k.tenant, permit.stamp, positiveInt(keys.accountMax), positiveInt(keys.tenantMax), positiveInt(cost)),
      );
    } catch (err) {
      this.warnThrottled('could not give back a rate-limit grant (it stays counted)', err);
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

function parseDecision(reply: unknown, askedAt: number): RateLimitDecision {
  if (!Array.isArray(reply) || reply.length < 3) throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
  const [granted, waitMs, scope, stamp] = reply as [unknown, unknown, unknown, unknown];
  if (Number(granted) === 1) return typeof stamp === 'string' && stamp !== '' ? { granted: true, waitMs: 0, stamp, askedAt } : { granted: true, waitMs: 0 };
  if (typeof scope !== 'string' || !SCOPES.includes(scope) || !(Number(waitMs) > 0)) {
    throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
  }
  return { granted: false, waitMs: Number(waitMs), scope: scope as Scope };
}

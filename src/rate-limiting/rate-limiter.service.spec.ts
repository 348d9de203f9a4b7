import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MetricsService } from '../metrics/metrics.service.js';
import { REDIS } from '../redis/redis.module.js';
import { RATE_LIMITER_OPTIONS, RateLimiterService } from './rate-limiter.service.js';
import type { RateLimitKeys } from './rate-limiter.types.js';

// Against the real Redis at 127.0.0.1:6379; every key of this run lives under a random prefix.
const PREFIX = `test-rl-${randomUUID()}`;
const clients: Redis[] = [];

function connect(): Redis {
  const r = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
  clients.push(r);
  return r;
}

/** The algorithm's tests run without the arrival margin (windows exactly as configured); its own tests set one. */
function limiter(redis: Redis = connect(), metrics = new MetricsService(), commandTimeoutMs = 250, arrivalMarginMs = 0) {
  return { service: new RateLimiterService(redis, metrics, { keyPrefix: PREFIX, commandTimeoutMs, arrivalMarginMs }), metrics, redis };
}

function limits(over: Partial<RateLimitKeys> = {}): RateLimitKeys {
  return {
    trafficAccountId: randomUUID(),
    accountMax: 20,
    accountWindowMs: 1000,
    tenantId: randomUUID(),
    tenantMax: 1000,
    tenantWindowMs: 1000,
    ...over,
  };
}

async function counterValue(c: { get(): Promise<{ values: { value: number; labels: object }[] }> }, labels: object = {}) {
  const { values } = await c.get();
  return values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))?.value ?? 0;
}

/** The most grants (µs timestamps) in any half-open interval [s, s + windowMs). */
function maxInAnyWindow(timestampsUs: number[], windowMs: number): number {
  const ts = [...timestampsUs].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < ts.length; hi++) {
    while (ts[hi] - ts[lo] >= windowMs * 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

afterAll(async () => {
  const redis = connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
});

describe('RateLimiterService (real Redis)', () => {
  it('never grants more than max in any sliding window while 8 callers in 2 "processes" hammer it', async () => {
    // The tenant limit is wide and long so its log keeps every grant's Redis timestamp for checking.
    const keys = limits({ accountMax: 20, accountWindowMs: 1000, tenantMax: 100_000, tenantWindowMs: 60_000 });
    const a = limiter(connect(), new MetricsService(), 1000);
    const b = limiter(connect(), new MetricsService(), 1000);
    let granted = 0;
    let refused = 0;
    const deadline = Date.now() + 3000;
    const caller = async (service: RateLimiterService, polite: boolean) => {
      while (Date.now() < deadline) {
        const d = await service.acquire(keys);
        if (d.granted) granted++;
        else {
          refused++;
          expect(d.scope).toBe('account');
          expect(d.waitMs).toBeGreaterThan(0);
          expect(d.waitMs).toBeLessThanOrEqual(1000);
          // Polite callers sleep the advised wait (capped at the deadline); the others retry at once.
          await (polite ? sleep(Math.max(0, Math.min(d.waitMs, deadline - Date.now()))) : new Promise((r) => setImmediate(r)));
        }
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => caller(i % 2 ? a.service : b.service, i < 4)));

    const log = (await a.redis.lrange(a.service.keysFor(keys.trafficAccountId, keys.tenantId).tenant, 0, -1)).map(Number);
    expect(log).toHaveLength(granted);
    expect(maxInAnyWindow(log, 1000)).toBe(20);
    expect(granted).toBeGreaterThanOrEqual(58);
    expect(granted).toBeLessThanOrEqual(62);
    expect(refused).toBeGreaterThan(100);
    expect(await counterValue(a.metrics.rateLimitFailOpen)).toBe(0);
    expect(await counterValue(b.metrics.rateLimitFailOpen)).toBe(0);
    expect((await counterValue(a.metrics.rateLimitWaits, { scope: 'account' })) + (await counterValue(b.metrics.rateLimitWaits, { scope: 'account' }))).toBe(refused);
  }, 15_000);

  it('charges both keys or neither: a refused tenant does not use up the account', async () => {
    const { service, redis } = limiter();
    const trafficAccountId = randomUUID();
    const tenantA = limits({ trafficAccountId, accountMax: 10, accountWindowMs: 10_000, tenantMax: 3, tenantWindowMs: 10_000 });
    const tenantB = { ...tenantA, tenantId: randomUUID(), tenantMax: 100 };

    const a = [];
    for (let i = 0; i < 10; i++) a.push(await service.acquire(tenantA));
    expect(a.filter((d) => d.granted)).toHaveLength(3);
    for (const d of a.slice(3)) {
      expect(d).toMatchObject({ granted: false, scope: 'tenant' });
      expect(d.waitMs).toBeGreaterThan(9_000);
      expect(d.waitMs).toBeLessThanOrEqual(10_000);
    }
    const k = service.keysFor(trafficAccountId, tenantA.tenantId);
    expect(await redis.llen(k.account)).toBe(3);

    // The account's full remaining share (10 - 3) is still there for another tenant.
    const b = [];
    for (let i = 0; i < 8; i++) b.push(await service.acquire(tenantB));
    expect(b.slice(0, 7).every((d) => d.granted)).toBe(true);
    expect(b[7]).toMatchObject({ granted: false, scope: 'account' });
    expect(await redis.llen(k.account)).toBe(10);
  });

  it('sets TTLs so idle keys vanish', async () => {
    const { service, redis } = limiter();
    const keys = limits({ accountWindowMs: 1500, tenantWindowMs: 700 });
    await service.acquire(keys);
    await service.pushback(keys.trafficAccountId, 400);
    const k = service.keysFor(keys.trafficAccountId, keys.tenantId);
    const [acct, tenant, push] = await Promise.all([redis.pttl(k.account), redis.pttl(k.tenant), redis.pttl(k.pushback)]);
    expect(acct).toBeGreaterThan(1400);
    expect(acct).toBeLessThanOrEqual(1501);
    expect(tenant).toBeGreaterThan(600);
    expect(tenant).toBeLessThanOrEqual(701);
    expect(push).toBeGreaterThan(300);
    expect(push).toBeLessThanOrEqual(400);
  });

  it('refuses with scope pushback for about the given time, never shortens it, then grants', async () => {
    const { service, metrics } = limiter();
    const keys = limits();
    await service.pushback(keys.trafficAccountId, 300);
    await service.pushback(keys.trafficAccountId, 50); // shorter: the 300 ms block stays
    const started = Date.now();
    const d = await service.acquire(keys);
    expect(d).toMatchObject({ granted: false, scope: 'pushback' });
    expect(d.waitMs).toBeGreaterThan(250);
    expect(d.waitMs).toBeLessThanOrEqual(300);
    expect(await counterValue(metrics.rateLimitWaits, { scope: 'pushback' })).toBe(1);

    // Another tenant on the same account is blocked too.
    expect(await service.acquire({ ...keys, tenantId: randomUUID() })).toMatchObject({ granted: false, scope: 'pushback' });

    // acquireWithin sleeps the advised wait (no busy loop) and gets through right after the block.
    const permit = await service.acquireWithin(keys, 1, 2_000);
    const elapsed = Date.now() - started;
    expect(permit).toMatchObject({ granted: true, waitMs: 0 });
    expect(elapsed).toBeGreaterThanOrEqual(d.waitMs - 5);
    expect(elapsed).toBeLessThan(d.waitMs + 150);
    expect(await counterValue(metrics.rateLimitWaits, { scope: 'pushback' })).toBeLessThanOrEqual(4);
  });

  it('acquireWithin returns the refusal at once when the wait would exceed its budget', async () => {
    const { service } = limiter();
    const keys = limits();
    await service.pushback(keys.trafficAccountId, 5_000);
    const started = Date.now();
    const d = await service.acquireWithin(keys, 1, 1_000);
    expect(d).toMatchObject({ granted: false, scope: 'pushback' });
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('acquireWithin paces calls to the limit', async () => {
    const { service } = limiter();
    const keys = limits({ accountMax: 5, accountWindowMs: 200 });
    const started = Date.now();
    for (let i = 0; i < 12; i++) expect((await service.acquireWithin(keys, 1, 5_000)).granted).toBe(true);
    // 5 at once, 5 more after 200 ms, the last 2 after 400 ms.
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(395);
    expect(elapsed).toBeLessThan(600);
  });

  describe('arrival margin: requests arrive within the limit, not only their grants', () => {
    it('counts every window longer by the margin', async () => {
      const { service } = limiter(connect(), new MetricsService(), 250, 50);
      const keys = limits({ accountMax: 2, accountWindowMs: 200 });
      expect((await service.acquire(keys)).granted).toBe(true);
      expect((await service.acquire(keys)).granted).toBe(true);
      const refused = await service.acquire(keys);
      expect(refused).toMatchObject({ granted: false, scope: 'account' });
      expect(refused.waitMs).toBeGreaterThan(200);
      expect(refused.waitMs).toBeLessThanOrEqual(250);
    });

    it('available says whether a grant would be given, and charges nothing', async () => {
      const { service, redis } = limiter();
      const keys = limits({ accountMax: 1, accountWindowMs: 10_000 });
      const k = service.keysFor(keys.trafficAccountId, keys.tenantId);
      expect(await service.available(keys)).toEqual({ granted: true, waitMs: 0 });
      expect(await service.available(keys)).toEqual({ granted: true, waitMs: 0 });
      expect(await redis.llen(k.account)).toBe(0);
      expect((await service.acquire(keys)).granted).toBe(true);
      const peek = await service.available(keys);
      expect(peek).toMatchObject({ granted: false, scope: 'account' });
      expect(peek.waitMs).toBeGreaterThan(9_000);
      expect(await redis.llen(k.account)).toBe(1);
    });

    it('release gives a grant back: the next caller gets it at once', async () => {
      const { service, redis } = limiter();
      const keys = limits({ accountMax: 1, accountWindowMs: 10_000 });
      const permit = await service.acquire(keys);
      expect(permit).toMatchObject({ granted: true, stamp: expect.any(String) });
      expect((await service.acquire(keys)).granted).toBe(false);
      await service.release(keys, permit);
      const k = service.keysFor(keys.trafficAccountId, keys.tenantId);
      expect([await redis.llen(k.account), await redis.llen(k.tenant)]).toEqual([0, 0]);
      expect((await service.acquire(keys)).granted).toBe(true);
    });

    it('refreshIfLate keeps a fresh grant and swaps a late one for a new one (the old is given back)', async () => {
      const { service, redis, metrics } = limiter(connect(), new MetricsService(), 250, 20);
      const keys = limits({ accountMax: 1, accountWindowMs: 10_000 });
      const permit = await service.acquire(keys);
      expect(await service.refreshIfLate(keys, permit)).toBe(permit);
      await sleep(40);
      const again = await service.refreshIfLate(keys, permit, 1, 1_000);
      expect(again).toMatchObject({ granted: true });
      expect(again.stamp).not.toBe(permit.stamp);
      expect(again.askedAt).toBeGreaterThanOrEqual(permit.askedAt! + 40);
      // Only the new grant is counted: with a limit of 1 per 10 s, the swap needed the old one given back.
      const k = service.keysFor(keys.trafficAccountId, keys.tenantId);
      expect(await redis.lrange(k.account, 0, -1)).toEqual([again.stamp]);
      expect(await counterValue(metrics.rateLimitRegrants)).toBe(1);
    });
  });

  describe('fail-open', () => {
    let warn: ReturnType<typeof jest.spyOn>;
    beforeAll(() => {
      warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => warn.mockClear());
    afterAll(() => warn.mockRestore());

    it('grants, counts and warns once per 10 s when Redis is unreachable', async () => {
      const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      dead.on('error', () => undefined);
      clients.push(dead);
      const metrics = new MetricsService();
      const service = new RateLimiterService(dead, metrics);
      const keys = limits();
      for (let i = 0; i < 3; i++) await expect(service.acquire(keys)).resolves.toEqual({ granted: true, waitMs: 0 });
      await expect(service.pushback(keys.trafficAccountId, 1000)).resolves.toBeUndefined();
      await expect(service.acquireWithin(keys, 1, 1000)).resolves.toEqual({ granted: true, waitMs: 0 });
      expect(await counterValue(metrics.rateLimitFailOpen)).toBe(4);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/failing open/);
    });

    it('grants after the command timeout when Redis hangs', async () => {
      // Accepts connections and never answers: the client's commands wait forever.
      const sockets: Socket[] = [];
      const server: Server = createServer((s) => sockets.push(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const hung = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, retryStrategy: () => null });
      hung.on('error', () => undefined);
      try {
        const metrics = new MetricsService();
        const service = new RateLimiterService(hung, metrics, { commandTimeoutMs: 250 });
        const started = Date.now();
        await expect(service.acquire(limits())).resolves.toEqual({ granted: true, waitMs: 0 });
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(245);
        expect(elapsed).toBeLessThan(400);
        expect(await counterValue(metrics.rateLimitFailOpen)).toBe(1);
      } finally {
        hung.disconnect();
        for (const s of sockets) s.destroy();
        await new Promise((r) => server.close(r));
      }
    });
  });

  it('resolves through Nest DI, with and without the optional options provider', async () => {
    const redis = connect();
    const withDeps = await Test.createTestingModule({
      providers: [
        { provide: REDIS, useValue: redis },
        MetricsService,
        { provide: RATE_LIMITER_OPTIONS, useValue: { keyPrefix: PREFIX } },
        RateLimiterService,
      ],
    }).compile();
    const service = withDeps.get(RateLimiterService);
    expect(service.keyPrefix).toBe(PREFIX);
    expect((await service.acquire(limits())).granted).toBe(true);

    const defaults = await Test.createTestingModule({
      providers: [{ provide: REDIS, useValue: redis }, MetricsService, RateLimiterService],
    }).compile();
    expect(defaults.get(RateLimiterService).keyPrefix).toBe('bulk-sms');
  });
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RequestLimiter } from './request-limiter.service.js';

// Against the real Redis at 127.0.0.1:6379; every key of this run lives under a random prefix.
const clients: Redis[] = [];
function connect(port = 6379): Redis {
  const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: port !== 6379, enableOfflineQueue: false });
  clients.push(r);
  return r;
}

/** A RequestLimiter as one API replica of the deployment `prefix` builds it. */
function replica(prefix: string, max: number, windowMs: number, redis: Redis): RequestLimiter {
  // RequestLimiter reads two config namespaces; nothing else of AppConfig.
  const config = { apiRateLimit: { max, windowMs }, redis: { queuePrefix: prefix } } as Record<string, unknown>;
  return new RequestLimiter(redis, { get: (key: string) => config[key] } as never);
}

/** The app's shared client is connected long before requests come; so are these. */
async function ready(redis: Redis): Promise<Redis> {
  if (redis.status !== 'ready') await once(redis, 'ready');
  return redis;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
});

describe('RequestLimiter', () => {
  it('replicas of one deployment share one budget per key', async () => {
    const prefix = `t-${randomUUID()}`;
    const [a, b] = [replica(prefix, 5, 60_000, await ready(connect())), replica(prefix, 5, 60_000, await ready(connect()))];
    const verdicts = [];
    for (let i = 0; i < 7; i++) verdicts.push(await (i % 2 ? a : b).consume('tenant:k1'));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, true, true, false, false]);
    expect(verdicts.map((v) => v.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0]);
    expect(verdicts[6].resetSeconds).toBeGreaterThan(0);
    expect(verdicts[6].resetSeconds).toBeLessThanOrEqual(60);
    // another key, and the same key in another deployment, have budgets of their own
    expect((await a.consume('tenant:k2')).allowed).toBe(true);
    expect((await replica(`t-${randomUUID()}`, 5, 60_000, await ready(connect())).consume('tenant:k1')).allowed).toBe(true);
  });

  it('keeps one key per budget, named by deployment and kind, with no hash tag', async () => {
    const redis = await ready(connect());
    const prefix = `t-${randomUUID()}`;
    await replica(prefix, 5, 60_000, redis).consume('tenant:k');
    expect(await redis.keys(`${prefix}:*`)).toEqual([`${prefix}:api-limit:tenant:k`]);
    expect(await redis.pttl(`${prefix}:api-limit:tenant:k`)).toBeGreaterThan(59_000);
  });

  it('after the first refusal of a window, refuses in memory: Redis counts one refusal, not every knock', async () => {
    const redis = await ready(connect());
    const prefix = `t-${randomUUID()}`;
    const limiter = replica(prefix, 3, 60_000, redis);
    const verdicts = [];
    for (let i = 0; i < 10; i++) verdicts.push((await limiter.consume('k')).allowed);
    expect(verdicts).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(await redis.get(`${prefix}:api-limit:k`)).toBe('4');
  });

  it('starts the budget over after the window', async () => {
    const limiter = replica(`t-${randomUUID()}`, 2, 1000, await ready(connect()));
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect((await limiter.consume('k')).allowed).toBe(true);
    const refused = await limiter.consume('k');
    expect(refused).toMatchObject({ allowed: false, resetSeconds: 1 });
    await sleep(1100);
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('without Redis, each process still limits with a budget of its own instead of failing requests', async () => {
    const limiter = replica(`t-${randomUUID()}`, 3, 60_000, connect(1));
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push((await limiter.consume('k')).allowed);
    expect(verdicts).toEqual([true, true, true, false]);
  });
});

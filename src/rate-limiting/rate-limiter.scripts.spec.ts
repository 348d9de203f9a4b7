import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ACQUIRE_LUA, PUSHBACK_LUA, positiveInt } from './rate-limiter.scripts.js';
import type { RateLimitDecision } from './rate-limiter.types.js';

// The limiter's Lua scripts, run by the real Redis at 127.0.0.1:6379 under a random key prefix, on a clock
// the test sets. Two things differ from production, each replaced exactly once (see onTestClock): the time
// comes from the last two arguments instead of `TIME`, and keys get no expiry (expiry runs on Redis's real
// clock, which a simulated one must not race; rate-limiter.service.spec.ts checks the TTLs on the real clock).

const MS = 1000; // µs per ms
const PREFIX = `test-rl-lua-${randomUUID()}`;
const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });

function replaceOnce(text: string, search: string, replacement: string): string {
  const at = text.indexOf(search);
  if (at < 0 || text.indexOf(search, at + 1) >= 0) throw new Error(`expected exactly one "${search}" in the script`);
  return text.slice(0, at) + replacement + text.slice(at + search.length);
}

function onTestClock(lua: string, expiry: string): string {
  return replaceOnce(replaceOnce(lua, "redis.call('TIME')", '{ARGV[#ARGV - 1], ARGV[#ARGV]}'), expiry, '');
}

const ACQUIRE_ON_TEST_CLOCK = onTestClock(ACQUIRE_LUA, "redis.call('PEXPIRE', key, windowMs + 1)");
const PUSHBACK_ON_TEST_CLOCK = onTestClock(PUSHBACK_LUA, ", 'PX', ttl");

/** Redis `TIME` for a clock reading in µs: seconds and microseconds. */
const time = (nowUs: number): [number, number] => [Math.floor(nowUs / 1e6), nowUs % 1e6];

interface WindowLimit {
  max: number;
  windowMs: number;
}

/** What Redis holds for one (account, tenant) pair, in µs: grant logs newest first, pushback end or null. */
interface LimiterState {
  account: number[];
  tenant: number[];
  pushbackUntilUs: number | null;
}

interface Keys {
  account: string;
  tenant: string;
  pushback: string;
}

const wide: WindowLimit = { max: 1_000_000, windowMs: 1000 };
/** Every key this run may have written, deleted at the end. */
const created: string[] = [];

function freshKeys(): Keys {
  const tag = `{acct:${randomUUID()}}`;
  const keys = { account: `${PREFIX}:${tag}:log`, tenant: `${PREFIX}:${tag}:tenant`, pushback: `${PREFIX}:${tag}:pushback` };
  created.push(keys.account, keys.tenant, keys.pushback);
  return keys;
}

type EvalArgs = [script: string, numKeys: number, ...args: (string | number)[]];

function acquireArgs(keys: Keys, nowUs: number, cost: number, account: WindowLimit, tenant: WindowLimit): EvalArgs {
  return [ACQUIRE_ON_TEST_CLOCK, 3, keys.account, keys.tenant, keys.pushback, account.max, account.windowMs, tenant.max, tenant.windowMs, cost, ...time(nowUs)];
}

function toDecision(reply: unknown): RateLimitDecision {
  const [granted, waitMs, scope] = reply as [number, number, string];
  return granted === 1 ? { granted: true, waitMs: 0 } : { granted: false, waitMs, scope: scope as RateLimitDecision['scope'] };
}

function toState(account: unknown, tenant: unknown, pushback: unknown): LimiterState {
  return {
    account: (account as string[]).map(Number),
    tenant: (tenant as string[]).map(Number),
    pushbackUntilUs: pushback === null ? null : Number(pushback),
  };
}

/** Runs a pipeline and returns each command's result, failing on the first error. */
async function run(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** One account and one tenant in Redis, driven through the scripts on the test's clock. */
class Limiter {
  readonly keys = freshKeys();
  grants: { atUs: number; cost: number }[] = [];
  constructor(
    readonly account: WindowLimit,
    readonly tenant: WindowLimit = wide,
  ) {}

  /** One acquire at `ms`, recording the grant. */
  async at(ms: number, cost = 1): Promise<RateLimitDecision> {
    const { decision } = await this.acquire(ms * MS, cost);
    if (decision.granted) this.grants.push({ atUs: ms * MS, cost });
    return decision;
  }

  /** One acquire at `nowUs`, and the state right after it (one round trip). */
  async acquire(nowUs: number, cost = 1): Promise<{ decision: RateLimitDecision; state: LimiterState }> {
    const [reply, account, tenant, pushback] = await run(
      redis
        .pipeline()
        .eval(...acquireArgs(this.keys, nowUs, cost, this.account, this.tenant))
        .lrange(this.keys.account, 0, -1)
        .lrange(this.keys.tenant, 0, -1)
        .get(this.keys.pushback),
    );
    return { decision: toDecision(reply), state: toState(account, tenant, pushback) };
  }

  /**
   * Two acquires at the given instants on a copy of the current keys (the limiter itself is untouched),
   * as a retry with no other traffic would see them.
   */
  async probe(nowUs: [number, number], cost: number): Promise<[RateLimitDecision, RateLimitDecision]> {
    const copy = freshKeys();
    const p = redis.pipeline();
    for (const k of ['account', 'tenant', 'pushback'] as const) p.copy(this.keys[k], copy[k], 'REPLACE');
    p.eval(...acquireArgs(copy, nowUs[0], cost, this.account, this.tenant));
    p.eval(...acquireArgs(copy, nowUs[1], cost, this.account, this.tenant));
    p.del(copy.account, copy.tenant, copy.pushback);
    const results = await run(p);
    return [toDecision(results[3]), toDecision(results[4])];
  }

  async pushback(nowUs: number, ms: number): Promise<void> {
    await redis.eval(PUSHBACK_ON_TEST_CLOCK, 1, this.keys.pushback, ms, ...time(nowUs));
  }

  async state(): Promise<LimiterState> {
    const [account, tenant, pushback] = await run(
      redis.pipeline().lrange(this.keys.account, 0, -1).lrange(this.keys.tenant, 0, -1).get(this.keys.pushback),
    );
    return toState(account, tenant, pushback);
  }
}

/** The most cost granted in any half-open interval [s, s + windowMs). */
function maxInAnyWindow(grants: { atUs: number; cost: number }[], windowMs: number): number {
  let best = 0;
  for (const g of grants) {
    const sum = grants.filter((o) => o.atUs >= g.atUs && o.atUs < g.atUs + windowMs * MS).reduce((s, o) => s + o.cost, 0);
    best = Math.max(best, sum);
  }
  return best;
}

afterAll(async () => {
  for (let i = 0; i < created.length; i += 1000) await redis.del(...created.slice(i, i + 1000));
  await redis.quit();
});

describe('rate limiter scripts (real Redis, test clock)', () => {
  it('lets a burst of up to max through at one instant, then refuses for a full window', async () => {
    const limiter = new Limiter({ max: 20, windowMs: 1000 });
    for (let i = 0; i < 20; i++) expect(await limiter.at(0)).toEqual({ granted: true, waitMs: 0 });
    expect(await limiter.at(0)).toEqual({ granted: false, waitMs: 1000, scope: 'account' });
    expect((await limiter.state()).account).toHaveLength(20);
  });

  it('holds a steady rate of max per window under continuous demand', async () => {
    const limiter = new Limiter({ max: 20, windowMs: 1000 });
    for (let ms = 0; ms < 10_000; ms++) await limiter.at(ms);
    expect(limiter.grants).toHaveLength(200);
    expect(maxInAnyWindow(limiter.grants, 1000)).toBe(20);
  }, 30_000);

  it('says exactly when a retry succeeds: when the blocking grant leaves the window', async () => {
    const limiter = new Limiter({ max: 3, windowMs: 1000 });
    await limiter.at(0);
    await limiter.at(100);
    await limiter.at(200);
    expect(await limiter.at(500)).toEqual({ granted: false, waitMs: 500, scope: 'account' });
    // 1 µs before the grant at 0 leaves: still refused, wait rounds up to 1 ms.
    const early = await limiter.acquire(1000 * MS - 1);
    expect(early.decision).toEqual({ granted: false, waitMs: 1, scope: 'account' });
    expect((await limiter.at(1000)).granted).toBe(true);
    // Now the grant at 100 is the blocking one.
    expect(await limiter.at(1000)).toEqual({ granted: false, waitMs: 100, scope: 'account' });
    expect((await limiter.at(1099)).granted).toBe(false);
    expect((await limiter.at(1100)).granted).toBe(true);
  });

  it('has no 2x burst across a fixed-window edge', async () => {
    const limiter = new Limiter({ max: 20, windowMs: 1000 });
    for (let i = 0; i < 20; i++) expect((await limiter.at(999)).granted).toBe(true);
    // A fixed window [0,1000) / [1000,2000) would allow 20 more at 1000.
    expect(await limiter.at(1000)).toEqual({ granted: false, waitMs: 999, scope: 'account' });
    expect((await limiter.at(1998)).granted).toBe(false);
    expect((await limiter.at(1999)).granted).toBe(true);
  });

  it('charges both keys or neither: a tenant refusal leaves the account untouched', async () => {
    const limiter = new Limiter({ max: 10, windowMs: 1000 }, { max: 3, windowMs: 1000 });
    for (let i = 0; i < 3; i++) await limiter.acquire(0);
    const before = await limiter.state();
    const refused = await limiter.acquire(10 * MS);
    expect(refused.decision).toEqual({ granted: false, waitMs: 990, scope: 'tenant' });
    expect(refused.state).toEqual(before);
    expect(refused.state.account).toEqual([0, 0, 0]);
  });

  it('charges both keys or neither: an account refusal leaves the tenant untouched', async () => {
    const limiter = new Limiter({ max: 2, windowMs: 1000 }, { max: 5, windowMs: 1000 });
    await limiter.acquire(0);
    await limiter.acquire(0);
    const refused = await limiter.acquire(1);
    expect(refused.decision.scope).toBe('account');
    expect(refused.state.tenant).toEqual([0, 0]);
  });

  it('reports the limit that frees up last as the binding one', async () => {
    const tenant = { max: 1, windowMs: 5000 };
    const a = new Limiter({ max: 1, windowMs: 1000 }, tenant);
    await a.acquire(0);
    expect((await a.acquire(0)).decision).toEqual({ granted: false, waitMs: 5000, scope: 'tenant' });
    const b = new Limiter({ max: 1, windowMs: 9000 }, tenant);
    await b.acquire(0);
    expect((await b.acquire(0)).decision).toEqual({ granted: false, waitMs: 9000, scope: 'account' });
  });

  it('honours pushback: refuses with the remaining time, keeps the later block, charges nothing', async () => {
    const limiter = new Limiter({ max: 10, windowMs: 1000 });
    await limiter.pushback(0, 300);
    expect((await limiter.state()).pushbackUntilUs).toBe(300 * MS);
    await limiter.pushback(100 * MS, 50); // shorter: the existing block stays
    expect((await limiter.state()).pushbackUntilUs).toBe(300 * MS);
    await limiter.pushback(100 * MS, 500);
    const before = await limiter.state();
    expect(before.pushbackUntilUs).toBe(600 * MS);
    const [refused, granted] = await limiter.probe([250 * MS, 600 * MS], 1);
    expect(refused).toEqual({ granted: false, waitMs: 350, scope: 'pushback' });
    expect(await limiter.state()).toEqual(before);
    expect(granted.granted).toBe(true);
  });

  it('reports the account limit when it outlasts a pushback', async () => {
    const limiter = new Limiter({ max: 1, windowMs: 1000 });
    await limiter.acquire(0);
    await limiter.pushback(0, 200);
    expect((await limiter.acquire(0)).decision).toEqual({ granted: false, waitMs: 1000, scope: 'account' });
  });

  it('counts cost as that many requests, capping a cost above max at max', async () => {
    const limiter = new Limiter({ max: 20, windowMs: 1000 });
    for (let i = 0; i < 4; i++) expect((await limiter.at(i, 5)).granted).toBe(true);
    expect(await limiter.at(10, 1)).toEqual({ granted: false, waitMs: 990, scope: 'account' });
    expect((await limiter.at(1001, 5)).granted).toBe(true); // the 5 grants at 0 have left the window
    const big = new Limiter({ max: 3, windowMs: 1000 });
    expect((await big.at(0, 1)).granted).toBe(true);
    expect(await big.at(1, 7)).toEqual({ granted: false, waitMs: 999, scope: 'account' }); // needs an empty window
    expect((await big.at(1000, 7)).granted).toBe(true);
    expect((await big.state()).account).toHaveLength(3);
  });

  it('survives the Redis clock stepping back: waits stay within one window', async () => {
    const limiter = new Limiter({ max: 2, windowMs: 1000 });
    await limiter.at(5000);
    await limiter.at(5000);
    const r = await limiter.at(1000); // clock jumped 4 s back
    expect(r).toEqual({ granted: false, waitMs: 1000, scope: 'account' });
  });

  it('normalises limits and costs to positive integers', () => {
    expect([positiveInt(20), positiveInt(2.7), positiveInt(0), positiveInt(-3), positiveInt(Number.NaN), positiveInt(Infinity)]).toEqual([20, 2, 1, 1, 1, 1]);
  });

  it('property: never more than max per window on either key, both-or-neither, exact waits', async () => {
    const limit = fc.record({ max: fc.integer({ min: 1, max: 8 }), windowMs: fc.integer({ min: 1, max: 50 }) });
    const call = fc.record({ gapUs: fc.integer({ min: 0, max: 20_000 }), cost: fc.integer({ min: 1, max: 3 }), pushMs: fc.option(fc.integer({ min: 1, max: 30 }), { freq: 10 }) });
    await fc.assert(
      fc.asyncProperty(limit, limit, fc.array(call, { maxLength: 120 }), async (account, tenant, calls) => {
        const limiter = new Limiter(account, tenant);
        let state = await limiter.state();
        let now = 0;
        const accountGrants: { atUs: number; cost: number }[] = [];
        const tenantGrants: { atUs: number; cost: number }[] = [];
        for (const c of calls) {
          now += c.gapUs;
          if (c.pushMs !== null) {
            await limiter.pushback(now, c.pushMs);
            state = await limiter.state();
          }
          const r = await limiter.acquire(now, c.cost);
          if (r.decision.granted) {
            expect(r.state.account.length).toBe(Math.min(account.max, state.account.length + Math.min(c.cost, account.max)));
            expect(r.state.tenant.length).toBe(Math.min(tenant.max, state.tenant.length + Math.min(c.cost, tenant.max)));
            accountGrants.push({ atUs: now, cost: Math.min(c.cost, account.max) });
            tenantGrants.push({ atUs: now, cost: Math.min(c.cost, tenant.max) });
            expect(state.pushbackUntilUs === null || state.pushbackUntilUs <= now).toBe(true);
          } else {
            expect(r.state).toEqual(state); // neither key charged
            // Exact: 1 ms earlier is still refused, at waitMs a retry (no other traffic) succeeds.
            const { waitMs } = r.decision;
            expect(waitMs).toBeGreaterThan(0);
            const [early, onTime] = await limiter.probe([now + (waitMs - 1) * MS, now + waitMs * MS], c.cost);
            expect(early.granted).toBe(false);
            expect(onTime.granted).toBe(true);
          }
          state = r.state;
        }
        expect(maxInAnyWindow(accountGrants, account.windowMs)).toBeLessThanOrEqual(account.max);
        expect(maxInAnyWindow(tenantGrants, tenant.windowMs)).toBeLessThanOrEqual(tenant.max);
      }),
      { numRuns: 500 },
    );
  }, 120_000);
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { applyPushback, decide, positiveInt, type LimiterState, type WindowLimit } from './sliding-window.js';

const MS = 1000; // µs per ms
const empty = (): LimiterState => ({ account: [], tenant: [], pushbackUntilUs: null });
const wide: WindowLimit = { max: 1_000_000, windowMs: 1000 };

/** Runs one caller through `decide`, keeping the state, like consecutive script calls would. */
class Sim {
  state = empty();
  grants: { atUs: number; cost: number }[] = [];
  constructor(
    readonly account: WindowLimit,
    readonly tenant: WindowLimit = wide,
  ) {}
  at(ms: number, cost = 1) {
    const r = decide(this.state, { nowUs: ms * MS, cost, account: this.account, tenant: this.tenant });
    this.state = r.state;
    if (r.decision.granted) this.grants.push({ atUs: ms * MS, cost });
    return r.decision;
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

describe('sliding-window limiter math', () => {
  it('lets a burst of up to max through at one instant, then refuses for a full window', () => {
    const sim = new Sim({ max: 20, windowMs: 1000 });
    for (let i = 0; i < 20; i++) expect(sim.at(0)).toEqual({ granted: true, waitMs: 0 });
    expect(sim.at(0)).toEqual({ granted: false, waitMs: 1000, scope: 'account' });
    expect(sim.state.account).toHaveLength(20);
  });

  it('holds a steady rate of max per window under continuous demand', () => {
    const sim = new Sim({ max: 20, windowMs: 1000 });
    for (let ms = 0; ms < 10_000; ms++) sim.at(ms);
    expect(sim.grants).toHaveLength(200);
    expect(maxInAnyWindow(sim.grants, 1000)).toBe(20);
  });

  it('says exactly when a retry succeeds: when the blocking grant leaves the window', () => {
    const sim = new Sim({ max: 3, windowMs: 1000 });
    sim.at(0);
    sim.at(100);
    sim.at(200);
    expect(sim.at(500)).toEqual({ granted: false, waitMs: 500, scope: 'account' });
    // 1 µs before the grant at 0 leaves: still refused, wait rounds up to 1 ms.
    const early = decide(sim.state, { nowUs: 1000 * MS - 1, cost: 1, account: sim.account, tenant: wide });
    expect(early.decision).toEqual({ granted: false, waitMs: 1, scope: 'account' });
    expect(sim.at(1000).granted).toBe(true);
    // Now the grant at 100 is the blocking one.
    expect(sim.at(1000)).toEqual({ granted: false, waitMs: 100, scope: 'account' });
    expect(sim.at(1099).granted).toBe(false);
    expect(sim.at(1100).granted).toBe(true);
  });

  it('has no 2x burst across a fixed-window edge', () => {
    const sim = new Sim({ max: 20, windowMs: 1000 });
    for (let i = 0; i < 20; i++) expect(sim.at(999).granted).toBe(true);
    // A fixed window [0,1000) / [1000,2000) would allow 20 more at 1000.
    expect(sim.at(1000)).toEqual({ granted: false, waitMs: 999, scope: 'account' });
    expect(sim.at(1998).granted).toBe(false);
    expect(sim.at(1999).granted).toBe(true);
  });

  it('charges both keys or neither: a tenant refusal leaves the account untouched', () => {
    const account = { max: 10, windowMs: 1000 };
    const tenant = { max: 3, windowMs: 1000 };
    let state = empty();
    for (let i = 0; i < 3; i++) state = decide(state, { nowUs: 0, cost: 1, account, tenant }).state;
    const refused = decide(state, { nowUs: 10 * MS, cost: 1, account, tenant });
    expect(refused.decision).toEqual({ granted: false, waitMs: 990, scope: 'tenant' });
    expect(refused.state).toBe(state);
    expect(refused.state.account).toEqual([0, 0, 0]);
  });

  it('charges both keys or neither: an account refusal leaves the tenant untouched', () => {
    const account = { max: 2, windowMs: 1000 };
    const tenant = { max: 5, windowMs: 1000 };
    let state = empty();
    state = decide(state, { nowUs: 0, cost: 1, account, tenant }).state;
    state = decide(state, { nowUs: 0, cost: 1, account, tenant }).state;
    const refused = decide(state, { nowUs: 1, cost: 1, account, tenant });
    expect(refused.decision.scope).toBe('account');
    expect(refused.state.tenant).toEqual([0, 0]);
  });

  it('reports the limit that frees up last as the binding one', () => {
    const account = { max: 1, windowMs: 1000 };
    const tenant = { max: 1, windowMs: 5000 };
    const { state } = decide(empty(), { nowUs: 0, cost: 1, account, tenant });
    expect(decide(state, { nowUs: 0, cost: 1, account, tenant }).decision).toEqual({ granted: false, waitMs: 5000, scope: 'tenant' });
    const longerAccount = { max: 1, windowMs: 9000 };
    const s2 = decide(empty(), { nowUs: 0, cost: 1, account: longerAccount, tenant }).state;
    expect(decide(s2, { nowUs: 0, cost: 1, account: longerAccount, tenant }).decision).toEqual({ granted: false, waitMs: 9000, scope: 'account' });
  });

  it('honours pushback: refuses with the remaining time, keeps the later block, charges nothing', () => {
    const account = { max: 10, windowMs: 1000 };
    let until = applyPushback(null, 0, 300);
    expect(until).toBe(300 * MS);
    until = applyPushback(until, 100 * MS, 50); // shorter: the existing block stays
    expect(until).toBe(300 * MS);
    until = applyPushback(until, 100 * MS, 500);
    expect(until).toBe(600 * MS);
    const state = { ...empty(), pushbackUntilUs: until };
    const r = decide(state, { nowUs: 250 * MS, cost: 1, account, tenant: wide });
    expect(r.decision).toEqual({ granted: false, waitMs: 350, scope: 'pushback' });
    expect(r.state).toBe(state);
    expect(decide(state, { nowUs: 600 * MS, cost: 1, account, tenant: wide }).decision.granted).toBe(true);
  });

  it('reports the account limit when it outlasts a pushback', () => {
    const account = { max: 1, windowMs: 1000 };
    const { state } = decide(empty(), { nowUs: 0, cost: 1, account, tenant: wide });
    const r = decide({ ...state, pushbackUntilUs: 200 * MS }, { nowUs: 0, cost: 1, account, tenant: wide });
    expect(r.decision).toEqual({ granted: false, waitMs: 1000, scope: 'account' });
  });

  it('counts cost as that many requests, capping a cost above max at max', () => {
    const sim = new Sim({ max: 20, windowMs: 1000 });
    for (let i = 0; i < 4; i++) expect(sim.at(i, 5).granted).toBe(true);
    expect(sim.at(10, 1)).toEqual({ granted: false, waitMs: 990, scope: 'account' });
    expect(sim.at(1001, 5).granted).toBe(true); // the 5 grants at 0 have left the window
    const big = new Sim({ max: 3, windowMs: 1000 });
    expect(big.at(0, 1).granted).toBe(true);
    expect(big.at(1, 7)).toEqual({ granted: false, waitMs: 999, scope: 'account' }); // needs an empty window
    expect(big.at(1000, 7).granted).toBe(true);
    expect(big.state.account).toHaveLength(3);
  });

  it('survives the Redis clock stepping back: waits stay within one window', () => {
    const sim = new Sim({ max: 2, windowMs: 1000 });
    sim.at(5000);
    sim.at(5000);
    const r = sim.at(1000); // clock jumped 4 s back
    expect(r).toEqual({ granted: false, waitMs: 1000, scope: 'account' });
  });

  it('normalises limits and costs to positive integers', () => {
    expect([positiveInt(20), positiveInt(2.7), positiveInt(0), positiveInt(-3), positiveInt(Number.NaN), positiveInt(Infinity)]).toEqual([20, 2, 1, 1, 1, 1]);
  });

  it('property: never more than max per window on either key, both-or-neither, exact waits', () => {
    const limit = fc.record({ max: fc.integer({ min: 1, max: 8 }), windowMs: fc.integer({ min: 1, max: 50 }) });
    const call = fc.record({ gapUs: fc.integer({ min: 0, max: 20_000 }), cost: fc.integer({ min: 1, max: 3 }), pushMs: fc.option(fc.integer({ min: 1, max: 30 }), { freq: 10 }) });
    fc.assert(
      fc.property(limit, limit, fc.array(call, { maxLength: 120 }), (account, tenant, calls) => {
        let state = empty();
        let now = 0;
        const accountGrants: { atUs: number; cost: number }[] = [];
        const tenantGrants: { atUs: number; cost: number }[] = [];
        for (const c of calls) {
          now += c.gapUs;
          if (c.pushMs !== null) state = { ...state, pushbackUntilUs: applyPushback(state.pushbackUntilUs, now, c.pushMs) };
          const input = { nowUs: now, cost: c.cost, account, tenant };
          const r = decide(state, input);
          if (r.decision.granted) {
            expect(r.state.account.length).toBe(Math.min(account.max, state.account.length + Math.min(c.cost, account.max)));
            expect(r.state.tenant.length).toBe(Math.min(tenant.max, state.tenant.length + Math.min(c.cost, tenant.max)));
            accountGrants.push({ atUs: now, cost: Math.min(c.cost, account.max) });
            tenantGrants.push({ atUs: now, cost: Math.min(c.cost, tenant.max) });
            expect(state.pushbackUntilUs === null || state.pushbackUntilUs <= now).toBe(true);
          } else {
            expect(r.state).toBe(state); // neither key charged
            // Exact: 1 ms earlier is still refused, at waitMs a retry (no other traffic) succeeds.
            const { waitMs } = r.decision;
            expect(waitMs).toBeGreaterThan(0);
            expect(decide(state, { ...input, nowUs: now + (waitMs - 1) * MS }).decision.granted).toBe(false);
            expect(decide(state, { ...input, nowUs: now + waitMs * MS }).decision.granted).toBe(true);
          }
          state = r.state;
        }
        expect(maxInAnyWindow(accountGrants, account.windowMs)).toBeLessThanOrEqual(account.max);
        expect(maxInAnyWindow(tenantGrants, tenant.windowMs)).toBeLessThanOrEqual(tenant.max);
      }),
      { numRuns: 500 },
    );
  });
});

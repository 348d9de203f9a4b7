import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, type TestApp } from './support/test-app.js';
import { createTenant, phone, type TenantFixture } from './support/api.js';

/**
 * The status trigger (`campaign_messages_status_moved`, migrations 1764400000000 and 1764800000000) keeps the
 * books of every status change: counters per status, the campaign's and the tenant's reserved credits, the
 * tenant's balance (refunds) and the ledger. Here random statements move random messages of two campaigns
 * of two tenants — several campaigns and statuses in one statement, as delivery reports and settlements do —
 * along the real status graph, and after each statement the books are checked against the messages
 * themselves. No worker runs (APP_ROLE=api): only these statements move anything.
 */
const NEXT: Record<string, string[]> = {
  queued: ['sent', 'failed', 'skipped', 'cancelled', 'expired', 'unknown'],
  unknown: ['sent', 'failed', 'queued'],
  sent: ['delivered', 'undelivered'],
  delivered: [],
  undelivered: [],
  failed: [],
  skipped: [],
  cancelled: [],
  expired: [],
};
const CHARGED = ['sent', 'delivered', 'undelivered'];
const REFUNDED = ['failed', 'cancelled', 'skipped', 'expired'];
const RESERVED = ['queued', 'unknown'];

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('status trigger: the books follow every status change', () => {
  let app: TestApp;
  const campaigns: Array<{ id: string; tenant: TenantFixture }> = [];

  beforeAll(async () => {
    app = await startApp({}, 'api');
    for (let k = 0; k < 2; k++) {
      const tenant = await createTenant(app.url, { credits: 100_000 });
      const c = await tenant.api.post('/api/campaigns', { name: `books ${k}`, text: 'Hi {{n}}' });
      // Texts of one and of two segments, so that messages weigh differently.
      const recipients = Array.from({ length: 300 }, (_, i) => ({ phone: phone(7_000_000 + k * 1000 + i), variables: { n: i % 3 ? 'x' : 'y'.repeat(200) } }));
      expect((await tenant.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(300);
      expect((await tenant.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);
      campaigns.push({ id: c.body.id, tenant });
    }
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  async function books(id: string) {
    const [c] = await app.db.query(
      `SELECT c.credits_reserved::int AS reserved, c.credits_per_segment AS cps, t.credit_reserved::int AS tenant_reserved,
              t.credit_balance::int AS balance, t.id AS tenant_id
         FROM campaigns c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1`, [id]);
    const actual: Array<{ status: string; messages: number; segments: number }> = await app.db.query(
      `SELECT status, count(*)::int AS messages, sum(segments)::int AS segments FROM campaign_messages WHERE campaign_id = $1 GROUP BY status`, [id]);
    const counted: Array<{ status: string; messages: number; segments: number }> = await app.db.query(
      `SELECT status, messages::int, segments::int FROM campaign_message_counts WHERE campaign_id = $1 AND (messages <> 0 OR segments <> 0)`, [id]);
    const [ledger] = await app.db.query(
      `SELECT coalesce(sum(amount) FILTER (WHERE kind = 'debit'), 0)::int AS debit, coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)::int AS refund
         FROM credit_ledger WHERE campaign_id = $1`, [id]);
    const segmentsIn = (statuses: string[]) => actual.filter((r) => statuses.includes(r.status)).reduce((n, r) => n + r.segments, 0);
    return { ...c, actual, counted, ledger, charged: segmentsIn(CHARGED), refunded: segmentsIn(REFUNDED), reservedSegments: segmentsIn(RESERVED) };
  }

  it('counters, reserved credits, balance and ledger match the messages after each of 40 random statements', async () => {
    const start = await Promise.all(campaigns.map((c) => books(c.id)));
    for (const b of start) {
      expect(b.reserved).toBeGreaterThan(0);
      expect(b.reservedSegments * b.cps).toBe(b.reserved);
      expect(b.tenant_reserved).toBe(b.reserved);
      expect(b.charged + b.refunded).toBe(0);
      expect(b.ledger).toEqual({ debit: 0, refund: 0 });
    }
    const next = random(20261130);
    for (let step = 0; step < 40; step++) {
      // One statement: for each of up to 12 messages of either campaign, a random next status.
      const rows: Array<{ id: string; status: string }> = await app.db.query(
        `SELECT id, status FROM campaign_messages WHERE campaign_id = ANY($1::uuid[]) AND status NOT IN ('delivered', 'undelivered', 'failed', 'skipped', 'cancelled', 'expired')
          ORDER BY md5(id::text || $2) LIMIT 12`, [campaigns.map((c) => c.id), String(step)]);
      const moves = rows.map((r) => ({ id: r.id, to: NEXT[r.status][Math.floor(next() * NEXT[r.status].length)] }));
      await app.db.query(
        `UPDATE campaign_messages m SET status = u.target, updated_at = now() FROM unnest($1::uuid[], $2::text[]) AS u(id, target) WHERE m.id = u.id`,
        [moves.map((m) => m.id), moves.map((m) => m.to)]);
      for (const [k, c] of campaigns.entries()) {
        const b = await books(c.id);
        const where = `step ${step}, campaign ${k}`;
        const sort = (xs: Array<{ status: string }>) => [...xs].sort((x, y) => x.status.localeCompare(y.status));
        expect({ where, counts: sort(b.counted) }).toEqual({ where, counts: sort(b.actual) });
        expect({ where, reserved: b.reserved }).toEqual({ where, reserved: b.reservedSegments * b.cps });
        expect({ where, tenantReserved: b.tenant_reserved }).toEqual({ where, tenantReserved: b.reserved });
        expect({ where, ledger: b.ledger }).toEqual({ where, ledger: { debit: b.charged * b.cps, refund: b.refunded * b.cps } });
        expect({ where, balance: b.balance }).toEqual({ where, balance: start[k].balance + b.refunded * b.cps });
      }
    }
    // The walk reached every kind of book entry.
    const end = await Promise.all(campaigns.map((c) => books(c.id)));
    expect(end.every((b) => b.charged > 0 && b.refunded > 0 && b.reservedSegments > 0)).toBe(true);
  }, 120_000);
});

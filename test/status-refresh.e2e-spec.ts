import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { SANDBOX_KEY, startApp, startSandbox, type TestApp } from './support/test-app.js';
import { Api, createTenant, expectError, waitFor, type TenantFixture } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';
import { ReconciliationService } from '../src/status/reconciliation.service.js';
import { RateLimiterService } from '../src/rate-limiting/rate-limiter.service.js';

/**
 * refresh-status and reconciliation against the Mitto sandbox. Messages are put into the sandbox
 * with its bulk API (reports off), then seeded as `sent` rows carrying the sandbox's message ids.
 */
const LOOKUP_KEY = 'lookup-key-for-refresh';
const ACCOUNT_RPS = 20;

describe('status: refresh-status and reconciliation', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;
  let sandboxUrl: string;
  let t: TenantFixture;

  beforeAll(async () => {
    const sbx = await startSandbox({ apiKeys: [SANDBOX_KEY, LOOKUP_KEY], reportDelayMs: 100, deliveredRatio: 1 });
    sandbox = sbx.sandbox;
    sandboxUrl = sbx.url;
    // Its own database: reconciliation looks at every campaign, and other files leave thousands of
    // `sent` messages (their sandboxes send no reports) in the run's shared one.
    app = await startApp({ MITTO_BASE_URL: sbx.url, RECONCILE_AFTER_MS: '60000' }, 'all', { ownDatabase: true });
    const account = await Api.admin(app.url).post('/api/admin/traffic-accounts', {
      name: 'lookups',
      mittoTrafficAccountId: randomUUID(),
      apiKey: LOOKUP_KEY,
      defaultSender: 'ACME',
      rateLimitPerSecond: ACCOUNT_RPS,
    });
    expect(account.status).toBe(201);
    t = await createTenant(app.url, { trafficAccountId: account.body.id });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  /** Sends `n` messages to the sandbox (as Mitto would have accepted them) and returns their Mitto ids. */
  async function acceptedAtMitto(references: string[]): Promise<string[]> {
    const res = await fetch(`${sandboxUrl}/api/v1.1/Messages/sendmessagesbulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mitto-api-key': SANDBOX_KEY },
      body: JSON.stringify({
        messages: references.map((reference, i) => ({
          trafficAccountId: randomUUID(),
          destination: `+4179${String(i).padStart(7, '0')}`,
          sms: { text: 'Hello', sender: 'ACME' },
          reference,
        })),
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { messages: Array<{ messageId: string }> }).messages.map((m) => m.messageId);
  }

  /** A paused campaign on the tenant's traffic account with `sent` messages carrying the given provider ids. */
  async function seed(providerIds: string[], ids = providerIds.map(() => randomUUID())): Promise<{ campaignId: string; ids: string[] }> {
    const [c] = await app.db.query(
      `INSERT INTO campaigns (tenant_id, name, text, status, started_at, traffic_account_id)
       VALUES ($1, 'refresh', 'Hello', 'paused', now(), $2) RETURNING id`,
      [t.tenantId, t.trafficAccountId],
    );
    await app.db.query(
      `INSERT INTO campaign_messages (id, campaign_id, seq, phone, segments, status, provider_message_id, sent_at)
       SELECT u.id, $1, u.ord - 1, '+4179' || lpad(u.ord::text, 7, '0'), 1, 'sent', u.pid, now()
         FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS u(id, pid, ord)`,
      [c.id, ids, providerIds],
    );
    return { campaignId: c.id, ids };
  }

  it('looks up unsettled messages within the rate limit, in capped calls that continue where the last one stopped', async () => {
    const ids = Array.from({ length: 31 }, () => randomUUID());
    const mittoIds = await acceptedAtMitto(ids);
    const s = await seed([...mittoIds, 'NOT-AT-MITTO-1', 'NOT-AT-MITTO-2'], [...ids, randomUUID(), randomUUID()]);
    // One ambiguous send that Mitto did take: eligible too, since it has a provider id.
    await app.db.query(`UPDATE campaign_messages SET status = 'unknown' WHERE id = $1`, [ids[30]]);
    await new Promise((r) => setTimeout(r, 200)); // past the sandbox's report time: final statuses visible

    const first = await t.api.post(`/api/campaigns/${s.campaignId}/refresh-status?limit=10`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ checked: 10, updated: 10, notFound: 0, errors: 0, remaining: 23 });
    expect(first.body.metrics).toMatchObject({ total: 33, delivered: 10, sent: 22, unknown: 1 });

    // The grants the lookups used, on the Redis clock (ms), observed on the app's real limiter: a grant
    // given back (a late one swapped for a fresh one) does not count.
    const limiter = app.app.get(RateLimiterService);
    const { acquire, release } = limiter;
    const grants = new Map<string, number>();
    let failedOpen = 0;
    limiter.acquire = async (...args: Parameters<RateLimiterService['acquire']>) => {
      const decision = await acquire.apply(limiter, args);
      if (decision.granted && decision.stamp !== undefined) grants.set(decision.stamp, Number(decision.stamp) / 1000);
      else if (decision.granted) failedOpen++; // Redis too slow: granted without a log entry
      return decision;
    };
    limiter.release = async (...args: Parameters<RateLimiterService['release']>) => {
      if (args[1].stamp !== undefined) grants.delete(args[1].stamp);
      return release.apply(limiter, args);
    };
    const started = Date.now();
    let second;
    try {
      second = await t.api.post(`/api/campaigns/${s.campaignId}/refresh-status`);
    } finally {
      limiter.acquire = acquire;
      limiter.release = release;
    }
    const tookMs = Date.now() - started;
    expect(second.body).toMatchObject({ checked: 23, updated: 21, notFound: 2, errors: 0, remaining: 0 });
    expect(second.body.metrics).toMatchObject({ total: 33, delivered: 31, sent: 2, unknown: 0 });
    // 23 lookups at 20/s, right after the first call's 10, cannot all happen within one second.
    expect(tookMs).toBeGreaterThanOrEqual(500);
    const perSecond = Object.values(sandbox.stats().perSecondByApiKey[LOOKUP_KEY] ?? {});
    expect(perSecond.reduce((a, b) => a + b, 0)).toBe(33);
    // The limit holds on the grants in any sliding second. Arrivals at the sandbox are logged, not
    // asserted: this sandbox runs on the test's own event loop, so a busy loop delays its reading of
    // requests that left in time and bunches them into the next calendar second (docs/RATE_LIMITING.md).
    expect({ failedOpen }).toEqual({ failedOpen: 0 });
    const times = [...grants.values()].sort((a, b) => a - b);
    expect(times).toHaveLength(23);
    const busiest = Math.max(...times.map((from, i) => times.slice(i).filter((at) => at - from < 1000).length));
    expect(busiest).toBeLessThanOrEqual(ACCOUNT_RPS);
    console.log(`status lookups: most grants in any sliding second ${busiest}; arrivals per calendar second at the sandbox ${perSecond.join(' ')}`);

    // Nothing left but the two Mitto does not know: they are checked again, nothing changes.
    const third = await t.api.post(`/api/campaigns/${s.campaignId}/refresh-status`);
    expect(third.body).toMatchObject({ checked: 2, updated: 0, notFound: 2, remaining: 0 });
  });

  it("another tenant's campaign → 404; a bad limit → 400", async () => {
    const s = await seed(['X-1']);
    const other = await createTenant(app.url);
    expectError(await other.api.post(`/api/campaigns/${s.campaignId}/refresh-status`), 404, 'NOT_FOUND');
    expectError(await t.api.post(`/api/campaigns/${s.campaignId}/refresh-status?limit=0`), 400, 'VALIDATION_FAILED');
    expectError(await t.api.post(`/api/campaigns/${s.campaignId}/refresh-status?limit=1001`), 400, 'VALIDATION_FAILED');
  });

  /** Batches of `size` messages for a seeded campaign, as enqueue makes them, each due for its check at `checkAt[i]`. */
  async function seedBatches(campaignId: string, size: number, checkAt: Array<string | null>, firstSentAt = `now() - interval '1 hour'`): Promise<void> {
    await app.db.query(`UPDATE campaigns SET batch_size = $2, batch_count = $3 WHERE id = $1`, [campaignId, size, checkAt.length]);
    for (const [batch, at] of checkAt.entries()) {
      await app.db.query(
        `INSERT INTO campaign_batches (campaign_id, batch, state, first_sent_at, check_at) VALUES ($1, $2, 'done', ${firstSentAt}, ${at ?? 'NULL'})`,
        [campaignId, batch],
      );
    }
  }

  async function reconcileOnce() {
    // The recovery sweep (every second here) also runs reconciliation, under the same Redis lock: a
    // direct call may find it busy, and either run may be the one that settles the messages. A lock whose
    // release did not arrive lapses after its TTL (15 s), so wait a little longer than that.
    return waitFor(async () => {
      const result = await app.app.get(ReconciliationService).reconcile();
      return result.skipped === undefined ? result : undefined;
    }, 20_000, 100);
  }

  it('reconciliation looks up the batches whose check is due, and only those', async () => {
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const mittoIds = await acceptedAtMitto(ids);
    // Past the sandbox's report time before any check is due: the recovery sweep (every second) may run
    // reconciliation as soon as the batches exist, and a lookup that still found `sent` would put the
    // next check RECONCILE_AFTER_MS (60 s) away.
    await new Promise((r) => setTimeout(r, 200));
    const s = await seed(mittoIds, ids);
    // Batch 0 (seq 0-4) was sent an hour ago and is due; batch 1 (seq 5) is not due for an hour.
    await seedBatches(s.campaignId, 5, [`now() - interval '1 second'`, `now() + interval '1 hour'`]);

    await reconcileOnce();
    const rows: Array<{ seq: number; status: string }> = await waitFor(async () => {
      const current: Array<{ seq: number; status: string }> = await app.db.query(
        `SELECT seq, status FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq`,
        [s.campaignId],
      );
      return current.filter((r) => r.status === 'delivered').length >= 5 ? current : undefined;
    }, 10_000, 100);
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'sent']);
    const batches = await app.db.query(`SELECT batch, check_at, checks FROM campaign_batches WHERE campaign_id = $1 ORDER BY batch`, [s.campaignId]);
    // Nothing left to ask about in batch 0: it is not checked again; batch 1 is untouched.
    expect(batches[0]).toMatchObject({ check_at: null, checks: 1 });
    expect(batches[1].checks).toBe(0);
    expect(new Date(batches[1].check_at).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  }, 60_000);

  it('a batch whose messages stay unsettled is checked again later and later, and given up after the horizon', async () => {
    const lookupsOf = () => sandbox.stats().requests.byEndpoint.status;
    // Mitto does not know these two: each check finds them still `sent`.
    const a = await seed(['GONE-A1', 'GONE-A2']);
    await seedBatches(a.campaignId, 5, [`now() - interval '1 second'`]);
    const before = lookupsOf();
    await reconcileOnce();
    expect(lookupsOf() - before).toBe(2);
    const [afterFirst] = await app.db.query(`SELECT check_at, checks FROM campaign_batches WHERE campaign_id = $1`, [a.campaignId]);
    expect(afterFirst.checks).toBe(1);
    // The next check is RECONCILE_AFTER_MS (60 s here) · 2^0 away at least; two further runs do not ask again.
    expect(new Date(afterFirst.check_at).getTime()).toBeGreaterThan(Date.now() + 50_000);
    await reconcileOnce();
    await reconcileOnce();
    expect(lookupsOf() - before).toBe(2);

    // Sent longer ago than RECONCILE_HORIZON_MS (48 h by default): one last check, then never again.
    const old = await seed(['GONE-B1']);
    await seedBatches(old.campaignId, 5, [`now() - interval '1 second'`], `now() - interval '49 hours'`);
    const result = await reconcileOnce();
    expect(result.givenUp).toBe(1);
    const [given] = await app.db.query(`SELECT check_at FROM campaign_batches WHERE campaign_id = $1`, [old.campaignId]);
    expect(given.check_at).toBeNull();
    const [message] = await app.db.query(`SELECT status FROM campaign_messages WHERE campaign_id = $1`, [old.campaignId]);
    expect(message.status).toBe('sent');
  }, 60_000);
});

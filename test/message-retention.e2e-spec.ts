import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, startSandbox, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { Api, createTenant, phone, waitFor, type TenantFixture } from './support/api.js';
import { MessageRetentionService } from '../src/campaigns/message-retention.service.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * Message retention (MESSAGE_RETENTION_DAYS) against the real PostgreSQL: the message, provider-id and
 * batch rows of campaigns settled longer ago than the retention are deleted in bounded chunks and runs;
 * the campaign, its metrics, the tenant's credits and the ledger stay; campaigns still sending or ended
 * recently are untouched. Each app has a database of its own (the purge is deployment-wide).
 */
const SEND_SETTINGS = {
  USE_BULK_SMS: 'true',
  SMS_BATCH_SIZE: '10',
  RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000',
  RATE_LIMIT_TENANT_MAX: '100000',
  QUEUE_RATE_MAX: '100000',
};

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}

async function createCampaign(t: TenantFixture, from: number, n: number, body: Record<string, unknown> = {}): Promise<string> {
  const c = await t.api.post('/api/campaigns', { name: `retention ${from}`, text: 'Hi {{n}}', ...body });
  expect(c.status).toBe(201);
  const recipients = Array.from({ length: n }, (_, i) => ({ phone: phone(from + i), variables: { n: String(i) } }));
  expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(n);
  return c.body.id;
}

/** Sends a campaign and waits until it is completed, settled, and every report is in (metrics final). */
async function sendToTheEnd(app: TestApp, t: TenantFixture, from: number, n: number): Promise<string> {
  const id = await createCampaign(t, from, n);
  expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
  await waitFor(async () => {
    const s = (await t.api.get(`/api/campaigns/${id}/status`)).body;
    return s.campaign.status === 'completed' && s.metrics.sent === 0 && (await settled(app, id));
  }, 60_000, 100);
  return id;
}

async function settled(app: TestApp, id: string): Promise<boolean> {
  const [row] = await app.db.query(`SELECT settled_at IS NOT NULL AS settled FROM campaigns WHERE id = $1`, [id]);
  return row.settled;
}

async function ageSettledAt(app: TestApp, id: string, days: number): Promise<void> {
  await app.db.query(`UPDATE campaigns SET settled_at = now() - make_interval(days => $2) WHERE id = $1`, [id, days]);
}

/** Ids of each campaign's messages as first seen: the provider-id rows are counted by them, not through a join. */
const messageIds = new Map<string, string[]>();

/** Rows of a campaign in each table the purge deletes from. */
async function rowsOf(app: TestApp, id: string): Promise<{ messages: number; batches: number; providerIds: number }> {
  if (!messageIds.has(id)) {
    const rows: Array<{ id: string }> = await app.db.query(`SELECT id FROM campaign_messages WHERE campaign_id = $1`, [id]);
    messageIds.set(id, rows.map((r) => r.id));
  }
  const [row] = await app.db.query(
    `SELECT (SELECT count(*)::int FROM campaign_messages WHERE campaign_id = $1) AS messages,
            (SELECT count(*)::int FROM campaign_batches WHERE campaign_id = $1) AS batches,
            (SELECT count(*)::int FROM campaign_message_provider_ids WHERE message_id = ANY($2::uuid[])) AS "providerIds"`,
    [id, messageIds.get(id)],
  );
  return row;
}

/** What must never change: the campaign as the API shows it, the tenant's credits, the ledger, the counters. */
async function ledgerAndCounts(app: TestApp, t: TenantFixture) {
  const me = (await t.api.get('/api/me')).body.credits;
  const ledger = await app.db.query(
    `SELECT kind, amount::int, campaign_id FROM credit_ledger WHERE tenant_id = $1 ORDER BY id`, [t.tenantId]);
  const counts = await app.db.query(
    `SELECT k.campaign_id, k.status, k.messages::int, k.segments::int FROM campaign_message_counts k
       JOIN campaigns c ON c.id = k.campaign_id WHERE c.tenant_id = $1 ORDER BY 1, 2`, [t.tenantId]);
  return { me, ledger, counts };
}

describe('message retention: a purge run, called directly', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;

  beforeAll(async () => {
    const sbx = await startSandbox({ reportDelayMs: 50, webhookSecret: WEBHOOK_SECRET, deliveredRatio: 0.8 });
    sandbox = sbx.sandbox;
    // Retention off in the app itself: no scheduled run competes with the ones this test makes.
    app = await startApp({ MITTO_BASE_URL: sbx.url, MESSAGE_RETENTION_DAYS: '0', ...SEND_SETTINGS }, 'all', { ownDatabase: true });
    sandbox.configure({ webhookUrl: `${app.url}/api/webhooks/mitto/delivery-reports` });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  it('deletes ended campaigns past the retention in chunks and runs; counts, metrics and credits stay; the others are untouched', async () => {
    const t = await createTenant(app.url, { credits: 1_000 });
    const old = await sendToTheEnd(app, t, 8_100_000, 45);
    const recent = await sendToTheEnd(app, t, 8_200_000, 8);
    // Cancelled before it was sent: messages, no batches.
    const cancelled = await createCampaign(t, 8_300_000, 6);
    expect((await t.api.post(`/api/campaigns/${cancelled}/cancel`)).status).toBe(200);
    await waitFor(() => settled(app, cancelled), 30_000);
    // Still sending: its window is closed for now, so its messages wait, queued.
    const now = Date.now();
    const sendWindow = { start: hhmm(new Date(now - 3_600_000)), end: hhmm(new Date(now - 1_800_000)), timeZone: 'UTC' };
    const sending = await createCampaign(t, 8_400_000, 12, { sendWindow });
    expect((await t.api.post(`/api/campaigns/${sending}/enqueue`)).status).toBe(202);

    await ageSettledAt(app, cancelled, 200);
    await ageSettledAt(app, old, 91);
    await ageSettledAt(app, recent, 89);
    const before = {
      old: await rowsOf(app, old), recent: await rowsOf(app, recent), cancelled: await rowsOf(app, cancelled), sending: await rowsOf(app, sending),
    };
    expect(before.old).toEqual({ messages: 45, batches: 5, providerIds: 45 });
    expect(before.cancelled).toEqual({ messages: 6, batches: 0, providerIds: 0 });
    expect(before.sending.messages).toBe(12);
    const oldView = (await t.api.get(`/api/campaigns/${old}`)).body;
    expect(oldView.messagesPurgedAt).toBeNull();
    expect(oldView.metrics.total).toBe(45);
    const [{ provider_message_id: providerId }] = await app.db.query(
      `SELECT provider_message_id FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq DESC LIMIT 1`, [old]);
    const kept = await ledgerAndCounts(app, t);
    const retention = app.app.get(MessageRetentionService);
    const settings = { retentionDays: 90, chunkRows: 7, rowsPerRun: 30 };

    // Run 1: the oldest (cancelled: one chunk, nothing else) is done, then 24 of the 45 in chunks of 7, 7, 7, 3.
    const run1 = await retention.purge(settings);
    expect(run1).toEqual({ finished: [cancelled], messages: 30, batches: 0, statements: 6 });
    expect(await rowsOf(app, old)).toEqual({ messages: 21, batches: 5, providerIds: 21 });
    // Its purge began: the API lists none of its messages any more, and says why.
    const page = (await t.api.get(`/api/campaigns/${old}/messages`)).body;
    expect(page).toMatchObject({ items: [], total: 0, page: 1 });
    expect(Date.parse(page.messagesPurgedAt)).toBeGreaterThan(now);

    // Run 2: the remaining 21 messages and the 5 batches.
    const run2 = await retention.purge(settings);
    expect(run2).toEqual({ finished: [old], messages: 21, batches: 5, statements: 5 });
    expect(await rowsOf(app, old)).toEqual({ messages: 0, batches: 0, providerIds: 0 });
    expect(await rowsOf(app, cancelled)).toEqual({ messages: 0, batches: 0, providerIds: 0 });
    // Done campaigns are not looked at again; the recent and the sending one were never touched.
    expect(await retention.purge(settings)).toEqual({ finished: [], messages: 0, batches: 0, statements: 0 });
    expect(await rowsOf(app, recent)).toEqual(before.recent);
    expect(await rowsOf(app, sending)).toEqual(before.sending);
    expect((await t.api.get(`/api/campaigns/${recent}/messages`)).body).toMatchObject({ total: 8, messagesPurgedAt: null });
    expect((await t.api.get(`/api/campaigns/${sending}`)).body).toMatchObject({ status: 'sending', messagesPurgedAt: null });

    // The campaign, its metrics, the credits, the ledger and the counters are exactly as before.
    const after = (await t.api.get(`/api/campaigns/${old}`)).body;
    expect({ ...after, updatedAt: undefined, messagesPurgedAt: undefined }).toEqual({ ...oldView, updatedAt: undefined, messagesPurgedAt: undefined });
    expect(after.messagesPurgedAt).toBe(page.messagesPurgedAt);
    expect((await t.api.get(`/api/campaigns/${old}/status`)).body.metrics).toEqual(oldView.metrics);
    expect(await ledgerAndCounts(app, t)).toEqual(kept);

    // A late report for a purged message is counted as unknown; refresh-status has nothing to ask.
    const hook = new Api(app.url, { 'x-webhook-secret': WEBHOOK_SECRET });
    const late = await hook.post('/api/webhooks/mitto/delivery-reports', [{ messageId: providerId, deliveryStatus: 'Delivered' }]);
    expect(late.body).toMatchObject({ received: 1, updated: 0, unknown: 1 });
    const refreshed = await t.api.post(`/api/campaigns/${old}/refresh-status`);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ checked: 0, updated: 0, metrics: oldView.metrics });
    expect(await ledgerAndCounts(app, t)).toEqual(kept);
  }, 120_000);

  it('finds due campaigns through the partial index, not by scanning campaigns', async () => {
    const plan = await app.db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      const rows: Array<{ 'QUERY PLAN': string }> = await tx.query(
        `EXPLAIN SELECT id, messages_purged_at IS NOT NULL AS started FROM campaigns
          WHERE settled_at IS NOT NULL AND NOT messages_purge_done AND settled_at < now() - make_interval(days => 90)
          ORDER BY settled_at LIMIT 100`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('ix_campaigns_purge');
  });
});

describe('message retention: the scheduled purge', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;

  beforeAll(async () => {
    const sbx = await startSandbox({ reportDelayMs: 50, webhookSecret: WEBHOOK_SECRET });
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url, MESSAGE_RETENTION_DAYS: '1', MESSAGE_PURGE_CHUNK_ROWS: '4', MESSAGE_PURGE_ROWS_PER_RUN: '10', ...SEND_SETTINGS,
    }, 'all', { ownDatabase: true });
    sandbox.configure({ webhookUrl: `${app.url}/api/webhooks/mitto/delivery-reports` });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  it('runs every SWEEPER_INTERVAL_MS and works a campaign off over several runs', async () => {
    const t = await createTenant(app.url, { credits: 1_000 });
    const id = await sendToTheEnd(app, t, 8_500_000, 25);
    const metrics = (await t.api.get(`/api/campaigns/${id}`)).body.metrics;
    expect(await rowsOf(app, id)).toEqual({ messages: 25, batches: 3, providerIds: 25 });
    await ageSettledAt(app, id, 2);
    // 25 messages + 3 batches at 10 rows a run: at least three runs, a second apart.
    const started = Date.now();
    await waitFor(async () => {
      const [row] = await app.db.query(`SELECT messages_purge_done FROM campaigns WHERE id = $1`, [id]);
      return row.messages_purge_done;
    }, 30_000, 100);
    expect(Date.now() - started).toBeGreaterThan(1_500);
    expect(await rowsOf(app, id)).toEqual({ messages: 0, batches: 0, providerIds: 0 });
    expect((await t.api.get(`/api/campaigns/${id}`)).body.metrics).toEqual(metrics);
    const scrape = await (await fetch(`${app.url}/metrics`)).text();
    expect(scrape).toMatch(/^bulksms_messages_purged_total 25$/m);
  }, 90_000);
});

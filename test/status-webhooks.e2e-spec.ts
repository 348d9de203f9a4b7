import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { startApp, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { Api, createTenant, expectError, type TenantFixture } from './support/api.js';
import { CampaignBatchesRepository } from '../src/campaigns/campaign-batches.repository.js';

/**
 * Delivery-report webhook against the real database: messages are seeded with SQL (status `sent`
 * with provider ids, as the sending pipeline leaves them), then reports move them.
 */

interface Seeded {
  campaignId: string;
  ids: string[];
  providerIds: string[];
}

/** A sending campaign with `n` messages in `status`; provider ids `P-<campaign>-<i>` unless `withProviderIds` is false. */
async function seedCampaign(db: DataSource, tenantId: string, n: number, opts: { status?: string; withProviderIds?: boolean } = {}): Promise<Seeded> {
  const [c] = await db.query(
    `INSERT INTO campaigns (tenant_id, name, text, status, started_at) VALUES ($1, 'seeded', 'Hello', 'sending', now()) RETURNING id`,
    [tenantId],
  );
  const rows: Array<{ id: string; provider_message_id: string | null }> = await db.query(
    `INSERT INTO campaign_messages (id, campaign_id, seq, phone, segments, status, provider_message_id, sent_at)
     SELECT gen_random_uuid(), $1::uuid, g, '+4179' || lpad(g::text, 7, '0'), 1, $2,
            CASE WHEN $3 THEN 'P-' || $1::text || '-' || g END, now()
       FROM generate_series(0, $4 - 1) g
     RETURNING id, provider_message_id, seq`,
    [c.id, opts.status ?? 'sent', opts.withProviderIds ?? true, n],
  );
  // As the sending pipeline leaves them: provider ids also in their reverse-lookup table.
  await db.query(
    `INSERT INTO campaign_message_provider_ids (provider_message_id, message_id) SELECT provider_message_id, id FROM campaign_messages WHERE campaign_id = $1 AND provider_message_id IS NOT NULL`,
    [c.id],
  );
  return { campaignId: c.id, ids: rows.map((r) => r.id), providerIds: rows.map((r) => r.provider_message_id ?? '') };
}

async function messageRow(db: DataSource, id: string) {
  const [row] = await db.query(
    `SELECT status, provider_message_id, provider_status, error_code, error_message, delivered_at FROM campaign_messages WHERE id = $1`,
    [id],
  );
  return row as { status: string; provider_message_id: string | null; provider_status: string | null; error_code: string | null; error_message: string | null; delivered_at: Date | null };
}

/** Minimal check of the Prometheus text exposition format (0.0.4): every line is a comment or a sample. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const label = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const sample = new RegExp(`^(${name})(\\{(?:${label})(?:,${label})*,?\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
  const typed = new Set<string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    const type = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type) {
      if (typed.has(type[1])) throw new Error(`line ${i + 1}: second TYPE for ${type[1]}`);
      typed.add(type[1]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = sample.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not a valid sample: ${line}`);
    // Special values are case-insensitive, as in Prometheus' own parser (Go ParseFloat); prom-client
    // writes 'Nan' for the event-loop lag gauges before their first sample.
    const isNaNToken = /^nan$/i.test(m[3]);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : isNaNToken ? NaN : Number(m[3]);
    if (!isNaNToken && Number.isNaN(value)) throw new Error(`line ${i + 1}: bad value ${m[3]}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, value);
  }
  return samples;
}

describe('status: delivery-report webhook, /metrics, /admin/queues', () => {
  let app: TestApp;
  let t: TenantFixture;
  let hook: Api;

  beforeAll(async () => {
    app = await startApp();
    t = await createTenant(app.url);
    hook = new Api(app.url, { 'x-webhook-secret': WEBHOOK_SECRET });
  });
  afterAll(async () => {
    await app?.close();
  });

  const report = (messageId: string, deliveryStatus: string, extra: Record<string, unknown> = {}) => ({
    messageId,
    deliveryStatus,
    description: `${deliveryStatus} description`,
    updatedAt: '2025-06-01T10:00:00Z',
    ...extra,
  });

  it('wrong or missing secret → 401 UNAUTHORIZED and nothing changes', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 1);
    const body = [report(s.providerIds[0], 'Delivered')];
    expectError(await new Api(app.url, { 'x-webhook-secret': 'wrong-secret' }).post('/api/webhooks/mitto/delivery-reports', body), 401, 'UNAUTHORIZED');
    expectError(await new Api(app.url).post('/api/webhooks/mitto/delivery-reports', body), 401, 'UNAUTHORIZED');
    // A tenant key is not the webhook secret either.
    expectError(await t.api.post('/api/webhooks/mitto/delivery-reports', body), 401, 'UNAUTHORIZED');
    expect((await messageRow(app.db, s.ids[0])).status).toBe('sent');
  });

  it('moves sent → delivered / undelivered, and the campaign metrics follow', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 4);
    const res = await hook.post('/api/webhooks/mitto/delivery-reports', [
      report(s.providerIds[0], 'Delivered'),
      report(s.providerIds[1], 'Failure', { description: 'Absent subscriber' }),
      report(s.providerIds[2], 'Sent'),
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 3, updated: 2, unknown: 0, invalid: 0 });

    const delivered = await messageRow(app.db, s.ids[0]);
    expect(delivered).toMatchObject({ status: 'delivered', provider_status: 'Delivered', error_code: null });
    expect(new Date(delivered.delivered_at!).toISOString()).toBe('2025-06-01T10:00:00.000Z');
    expect(await messageRow(app.db, s.ids[1])).toMatchObject({
      status: 'undelivered', provider_status: 'Failure', error_code: 'DELIVERY_FAILURE', error_message: 'Absent subscriber', delivered_at: null,
    });
    expect((await messageRow(app.db, s.ids[2])).status).toBe('sent');

    const status = await t.api.get(`/api/campaigns/${s.campaignId}/status`);
    expect(status.body.metrics).toMatchObject({ total: 4, sent: 2, delivered: 1, undelivered: 1 });
    const failedList = await t.api.get(`/api/campaigns/${s.campaignId}/messages?status=undelivered`);
    expect(failedList.body.items).toEqual([expect.objectContaining({ id: s.ids[1], errorCode: 'DELIVERY_FAILURE', errorMessage: 'Absent subscriber' })]);
  });

  it('a single object body works too', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 1);
    const res = await hook.post('/api/webhooks/mitto/delivery-reports', report(s.providerIds[0], 'Delivered'));
    expect(res.body).toEqual({ received: 1, updated: 1, unknown: 0, invalid: 0 });
  });

  it('replays and out-of-order reports leave the right final state', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 4);
    const [a, b, c, d] = s.providerIds;
    // Delivered, then a late Sent: stays delivered.
    await hook.post('/api/webhooks/mitto/delivery-reports', [report(a, 'Delivered')]);
    const late = await hook.post('/api/webhooks/mitto/delivery-reports', [report(a, 'Sent')]);
    expect(late.body).toMatchObject({ updated: 0, unknown: 0 });
    // Failure first, Delivered later: the first final status wins.
    await hook.post('/api/webhooks/mitto/delivery-reports', [report(b, 'Failure')]);
    await hook.post('/api/webhooks/mitto/delivery-reports', [report(b, 'Delivered')]);
    // Sent and Delivered for one message in one body, in the "wrong" order: delivered.
    const mixed = await hook.post('/api/webhooks/mitto/delivery-reports', [report(c, 'Delivered'), report(c, 'Sent'), report(c, 'Delivered')]);
    expect(mixed.body).toEqual({ received: 3, updated: 1, unknown: 0, invalid: 0 });
    // Exact replay of a whole body changes nothing.
    const body = [report(d, 'Delivered'), report(a, 'Delivered')];
    expect((await hook.post('/api/webhooks/mitto/delivery-reports', body)).body).toMatchObject({ updated: 1 });
    expect((await hook.post('/api/webhooks/mitto/delivery-reports', body)).body).toMatchObject({ updated: 0 });

    expect((await messageRow(app.db, s.ids[0])).status).toBe('delivered');
    expect((await messageRow(app.db, s.ids[1])).status).toBe('undelivered');
    expect((await messageRow(app.db, s.ids[2])).status).toBe('delivered');
    expect((await messageRow(app.db, s.ids[3])).status).toBe('delivered');
    const status = await t.api.get(`/api/campaigns/${s.campaignId}/status`);
    expect(status.body.metrics).toMatchObject({ total: 4, sent: 0, delivered: 3, undelivered: 1 });
  });

  it('matches by reference when the provider id is not known yet, and records the provider id', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 2, { status: 'unknown', withProviderIds: false });
    const res = await hook.post('/api/webhooks/mitto/delivery-reports', [
      report('MITTO-REF-1', 'Sent', { reference: s.ids[0] }),
      report('MITTO-REF-2', 'Delivered', { reference: s.ids[1].toUpperCase() }),
    ]);
    expect(res.body).toEqual({ received: 2, updated: 2, unknown: 0, invalid: 0 });
    expect(await messageRow(app.db, s.ids[0])).toMatchObject({ status: 'sent', provider_message_id: 'MITTO-REF-1', provider_status: 'Sent' });
    expect(await messageRow(app.db, s.ids[1])).toMatchObject({ status: 'delivered', provider_message_id: 'MITTO-REF-2' });
    // From now on the provider id alone matches.
    await hook.post('/api/webhooks/mitto/delivery-reports', [report('MITTO-REF-1', 'Delivered')]);
    expect((await messageRow(app.db, s.ids[0])).status).toBe('delivered');
  });

  it('a report arriving while the message is still `queued` (its call in flight) is applied; the later result write leaves it alone', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 2, { status: 'queued', withProviderIds: false });
    const token = randomUUID();
    // The batch is leased, its call marked in flight, as a worker would have it.
    await app.db.query(`UPDATE campaigns SET batch_size = 200, batch_count = 1 WHERE id = $1`, [s.campaignId]);
    await app.db.query(
      `INSERT INTO campaign_batches (campaign_id, batch, lease_token, lease_expires_at, inflight_from, inflight_to) VALUES ($1, 0, $2, now() + interval '1 minute', 0, 2)`,
      [s.campaignId, token],
    );
    await app.db.query(`UPDATE campaign_messages SET sent_at = NULL WHERE campaign_id = $1`, [s.campaignId]);
    // Credits held for the campaign, as enqueue does: 2 messages × 1 segment reserved.
    await app.db.query(`UPDATE campaigns SET credits_held = true, credits_reserved = 2, credits_per_segment = 1 WHERE id = $1`, [s.campaignId]);
    await app.db.query(`UPDATE tenants SET credit_balance = credit_balance - 2, credit_reserved = credit_reserved + 2 WHERE id = $1`, [t.tenantId]);
    const before = (await t.api.get('/api/me')).body.credits;

    const res = await hook.post('/api/webhooks/mitto/delivery-reports', [report('EARLY-1', 'Delivered', { reference: s.ids[0] })]);
    expect(res.body).toMatchObject({ updated: 1, unknown: 0 });
    expect(await messageRow(app.db, s.ids[0])).toMatchObject({ status: 'delivered', provider_message_id: 'EARLY-1' });

    // The batch's own write comes later: it only touches its messages still queued (or unknown).
    const written = await app.app.get(CampaignBatchesRepository).writeOutcomes(
      { campaignId: s.campaignId, batch: 0, token },
      [
        { seq: 0, status: 'sent', providerMessageId: 'EARLY-1' },
        { seq: 1, status: 'sent', providerMessageId: 'LATER-2' },
      ],
      { bulkId: 'BULK-1', attempt: 0, reconcileAfterMs: 60_000 },
      { done: true },
    );
    expect(written.written).toBe(1);
    expect((await messageRow(app.db, s.ids[0])).status).toBe('delivered');
    expect((await messageRow(app.db, s.ids[1])).status).toBe('sent');
    const [batch] = await app.db.query(`SELECT state, lease_token, inflight_from, check_at FROM campaign_batches WHERE campaign_id = $1`, [s.campaignId]);
    expect(batch).toMatchObject({ state: 'done', lease_token: null, inflight_from: null });
    expect(batch.check_at).not.toBeNull();

    // Both messages were charged exactly once: reserved went down by 2, the balance did not come back.
    const after = (await t.api.get('/api/me')).body.credits;
    expect(after).toEqual({ balance: before.balance, reserved: before.reserved - 2 });
    const [campaign] = await app.db.query(`SELECT credits_reserved FROM campaigns WHERE id = $1`, [s.campaignId]);
    expect(Number(campaign.credits_reserved)).toBe(0);
  });

  it('failed, cancelled and skipped messages never change', async () => {
    for (const status of ['failed', 'cancelled', 'skipped']) {
      const s = await seedCampaign(app.db, t.tenantId, 1, { status });
      const res = await hook.post('/api/webhooks/mitto/delivery-reports', [report(s.providerIds[0], 'Delivered')]);
      expect(res.body).toMatchObject({ updated: 0, unknown: 0 });
      expect((await messageRow(app.db, s.ids[0])).status).toBe(status);
    }
  });

  it('unknown ids and invalid items are counted, not errors; the counter shows in /metrics', async () => {
    const before = parseExposition((await new Api(app.url).get('/metrics')).body);
    const res = await hook.post('/api/webhooks/mitto/delivery-reports', [
      report('NO-SUCH-ID', 'Delivered'),
      report('NO-SUCH-ID-2', 'Delivered', { reference: randomUUID() }),
      report('NO-SUCH-ID-3', 'Delivered', { reference: "'; DROP TABLE campaign_messages; --" }),
      { hello: 'world' },
      'not an object',
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 5, updated: 0, unknown: 3, invalid: 2 });
    const after = parseExposition((await new Api(app.url).get('/metrics')).body);
    const key = 'bulksms_webhook_reports_total{result="unknown"}';
    expect((after.get(key) ?? 0) - (before.get(key) ?? 0)).toBe(3);
    expect((after.get('bulksms_webhook_reports_total{result="invalid"}') ?? 0) - (before.get('bulksms_webhook_reports_total{result="invalid"}') ?? 0)).toBe(2);
  });

  it('NUL characters and odd timestamps never reach PostgreSQL as errors', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 1);
    const res = await hook.post('/api/webhooks/mitto/delivery-reports', [
      { messageId: '\u0000', deliveryStatus: 'Delivered' },
      { messageId: s.providerIds[0], deliveryStatus: 'Failure\u0000', description: 'a\u0000b', updatedAt: '0000-01-01T00:00:00Z' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 2, updated: 1, unknown: 0, invalid: 1 });
    expect(await messageRow(app.db, s.ids[0])).toMatchObject({ status: 'undelivered', provider_status: 'Failure', error_message: 'ab' });
  });

  it('an unknown deliveryStatus value is treated as pending (settles `unknown` as sent, never a final one)', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 2);
    await app.db.query(`UPDATE campaign_messages SET status = 'unknown' WHERE id = $1`, [s.ids[0]]);
    const res = await hook.post('/api/webhooks/mitto/delivery-reports', [report(s.providerIds[0], 'Enroute'), report(s.providerIds[1], 'Enroute')]);
    expect(res.body).toMatchObject({ updated: 1, unknown: 0 });
    expect(await messageRow(app.db, s.ids[0])).toMatchObject({ status: 'sent', provider_status: 'Enroute' });
    expect((await messageRow(app.db, s.ids[1])).status).toBe('sent');
  });

  it('malformed JSON → 400 VALIDATION_FAILED', async () => {
    expectError(await hook.post('/api/webhooks/mitto/delivery-reports', '{"messageId": ', { 'content-type': 'application/json' }), 400, 'VALIDATION_FAILED');
  });

  it('GET /metrics: valid Prometheus text with the message and queue gauges, no auth needed', async () => {
    const s = await seedCampaign(app.db, t.tenantId, 3);
    const res = await new Api(app.url).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(res.body);
    expect(samples.get('bulksms_messages{status="sent"}')).toBeGreaterThanOrEqual(3);
    expect(samples.has('bulksms_messages{status="delivered"}')).toBe(true);
    expect(samples.has('bulksms_queue_jobs{state="waiting"}')).toBe(true);
    expect(samples.has('bulksms_process_cpu_user_seconds_total')).toBe(true);
    await app.db.query(`UPDATE campaigns SET status = 'completed' WHERE id = $1`, [s.campaignId]);
  });

  it('GET /admin/queues: 401 with a basic-auth challenge without the admin key; the dashboard with it', async () => {
    const anonymous = await fetch(`${app.url}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    expect((await fetch(`${app.url}/admin/queues/api/queues`, { headers: { 'x-admin-api-key': 'wrong-key-0123456789' } })).status).toBe(401);

    const page = await fetch(`${app.url}/admin/queues`, { headers: { 'x-admin-api-key': app.env.ADMIN_API_KEY } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const basic = `Basic ${Buffer.from(`ops:${app.env.ADMIN_API_KEY}`).toString('base64')}`;
    const api = await fetch(`${app.url}/admin/queues/api/queues`, { headers: { authorization: basic } });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['campaign-control', 'sms-batches']);
  });
});

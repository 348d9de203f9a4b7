import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { startApp, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { Api, createTenant, expectError, waitFor, type TenantFixture } from './support/api.js';
import { CAMPAIGN_EVENTS_CHANNEL } from '../src/events/campaign-events.js';
import { CampaignEventsHub } from '../src/status/campaign-events.hub.js';
import { SseReader } from './support/sse-reader.js';

/**
 * Live campaign events (SSE). The campaign is seeded `paused` (the recovery sweep leaves paused
 * campaigns alone), its messages `sent`; changes come from the webhook and from a plain Redis
 * publish standing in for a worker in another process.
 */

async function seedPausedCampaign(db: DataSource, tenantId: string, n: number): Promise<{ campaignId: string; providerIds: string[] }> {
  const [c] = await db.query(
    `INSERT INTO campaigns (tenant_id, name, text, status, started_at) VALUES ($1, 'live', 'Hello', 'paused', now()) RETURNING id`,
    [tenantId],
  );
  const rows: Array<{ provider_message_id: string }> = await db.query(
    `INSERT INTO campaign_messages (id, campaign_id, seq, phone, segments, status, provider_message_id, sent_at)
     SELECT gen_random_uuid(), $1::uuid, g, '+4179' || lpad(g::text, 7, '0'), 1, 'sent', 'S-' || $1::text || '-' || g, now()
       FROM generate_series(0, $2 - 1) g
     RETURNING provider_message_id`,
    [c.id, n],
  );
  await db.query(
    `INSERT INTO campaign_message_provider_ids (provider_message_id, message_id) SELECT provider_message_id, id FROM campaign_messages WHERE campaign_id = $1 AND provider_message_id IS NOT NULL`,
    [c.id],
  );
  return { campaignId: c.id, providerIds: rows.map((r) => r.provider_message_id) };
}

describe('status: live campaign events (SSE)', () => {
  let app: TestApp;
  let t: TenantFixture;
  let publisher: Redis;

  beforeAll(async () => {
    app = await startApp();
    t = await createTenant(app.url);
    publisher = new Redis(app.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    await publisher?.quit();
    await app?.close();
  });

  const open = async (campaignId: string, apiKey = t.apiKey, signal?: AbortSignal) =>
    fetch(`${app.url}/api/campaigns/${campaignId}/events`, { headers: { authorization: `Bearer ${apiKey}` }, signal });

  it('sends the current status, every change, and `end` when the campaign finishes (changes from another process too)', async () => {
    const s = await seedPausedCampaign(app.db, t.tenantId, 3);
    const res = await open(s.campaignId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = new SseReader(res.body!);

    const first = await sse.next();
    expect(first).toMatchObject({ event: 'status', data: { campaign: { id: s.campaignId, status: 'paused' } } });
    expect(first!.data.metrics).toMatchObject({ total: 3, sent: 3, delivered: 0 });

    const hook = new Api(app.url, { 'x-webhook-secret': WEBHOOK_SECRET });
    await hook.post('/api/webhooks/mitto/delivery-reports', [{ messageId: s.providerIds[0], deliveryStatus: 'Delivered' }]);
    const changed = await sse.until((e) => e.data.metrics.delivered === 1);
    expect(changed.event).toBe('status');
    expect(changed.data.metrics).toMatchObject({ total: 3, sent: 2, delivered: 1 });

    // A worker in another process ends the campaign and announces it on the Redis channel.
    await app.db.query(`UPDATE campaigns SET status = 'completed', completed_at = now() WHERE id = $1`, [s.campaignId]);
    await publisher.publish(CAMPAIGN_EVENTS_CHANNEL, s.campaignId);
    const end = await sse.until((e) => e.event === 'end');
    expect(end.data.campaign.status).toBe('completed');
    expect(await sse.next()).toBeUndefined(); // the server closed the stream
  });

  it('emits nothing when an announcement changed nothing', async () => {
    const s = await seedPausedCampaign(app.db, t.tenantId, 1);
    const controller = new AbortController();
    const sse = new SseReader((await open(s.campaignId, t.apiKey, controller.signal)).body!);
    await sse.next();
    for (let i = 0; i < 50; i++) await publisher.publish(CAMPAIGN_EVENTS_CHANNEL, s.campaignId);
    await expect(sse.next(1_500)).rejects.toThrow('no SSE event in time');
    controller.abort();
  });

  it('a campaign that already ended gets its status and `end` at once', async () => {
    const s = await seedPausedCampaign(app.db, t.tenantId, 1);
    await app.db.query(`UPDATE campaigns SET status = 'cancelled', completed_at = now() WHERE id = $1`, [s.campaignId]);
    const sse = new SseReader((await open(s.campaignId)).body!);
    expect((await sse.next())?.event).toBe('status');
    expect((await sse.next())?.event).toBe('end');
    expect(await sse.next()).toBeUndefined();
  });

  it("another tenant's campaign → 404; no key → 401", async () => {
    const s = await seedPausedCampaign(app.db, t.tenantId, 1);
    const other = await createTenant(app.url);
    const res = await open(s.campaignId, other.apiKey);
    expect(res.status).toBe(404);
    expectError({ status: res.status, body: await res.json(), headers: res.headers }, 404, 'NOT_FOUND');
    expect((await fetch(`${app.url}/api/campaigns/${s.campaignId}/events`)).status).toBe(401);
  });

  it('a client that disconnects is cleaned up', async () => {
    const hub = app.app.get(CampaignEventsHub);
    const s = await seedPausedCampaign(app.db, t.tenantId, 1);
    const base = hub.listenerCount;
    const controller = new AbortController();
    const sse = new SseReader((await open(s.campaignId, t.apiKey, controller.signal)).body!);
    await sse.next();
    expect(hub.listenerCount).toBe(base + 1);
    controller.abort();
    await waitFor(async () => hub.listenerCount === base, 5_000, 50);
  });
});

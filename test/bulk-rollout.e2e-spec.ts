import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, startSandbox, type TestApp } from './support/test-app.js';
import { Api, createTenant, expectError, phone, waitFor, type TenantFixture } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * The gradual rollout of the bulk flow, tenant by tenant (PATCH /api/admin/tenants/:id { bulkSending }),
 * with USE_BULK_SMS=false as the brief's rollout starts. Which flow sent a message is visible in the
 * database: the bulk flow stores Mitto's bulkId, the single flow has none; each batch records its mode.
 */
describe('bulk flow rollout per tenant', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;
  let admin: Api;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 2 });
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: 'false',
      SMS_BATCH_SIZE: '50',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000',
      RATE_LIMIT_TENANT_MAX: '100000',
      QUEUE_RATE_MAX: '100000',
    });
    admin = Api.admin(app.url);
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  async function campaign(t: TenantFixture, size: number, offset: number): Promise<string> {
    const c = await t.api.post('/api/campaigns', { name: 'rollout', text: 'Hi {{n}}' });
    const recipients = Array.from({ length: size }, (_, i) => ({ phone: phone(offset + i), variables: { n: String(i) } }));
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(size);
    return c.body.id;
  }

  const done = (t: TenantFixture, id: string) =>
    waitFor(async () => {
      const s = await t.api.get(`/api/campaigns/${id}/status`);
      return s.body.campaign.status === 'completed' ? s.body : undefined;
    }, 120_000, 100);

  async function flows(campaignId: string): Promise<{ bulk: number; single: number; batchModes: string[] }> {
    const [m] = await app.db.query(
      `SELECT count(*) FILTER (WHERE bulk_id IS NOT NULL)::int AS bulk, count(*) FILTER (WHERE bulk_id IS NULL)::int AS single
         FROM campaign_messages WHERE campaign_id = $1 AND status = 'sent'`,
      [campaignId],
    );
    const modes: Array<{ mode: string }> = await app.db.query(`SELECT DISTINCT mode FROM campaign_batches WHERE campaign_id = $1 ORDER BY mode`, [campaignId]);
    return { bulk: m.bulk, single: m.single, batchModes: modes.map((r) => r.mode) };
  }

  it('shows the setting and the effective flow; refuses an unknown setting', async () => {
    const t = await createTenant(app.url);
    const created = await admin.get(`/api/admin/tenants/${t.tenantId}`);
    expect(created.body).toMatchObject({ bulkSending: 'default', bulkSendingEffective: false });
    const on = await admin.patch(`/api/admin/tenants/${t.tenantId}`, { bulkSending: 'on' });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ bulkSending: 'on', bulkSendingEffective: true });
    expectError(await admin.patch(`/api/admin/tenants/${t.tenantId}`, { bulkSending: 'sometimes' }), 400, 'VALIDATION_FAILED');
    expect((await admin.get(`/api/admin/tenants/${t.tenantId}`)).body.bulkSending).toBe('on');
  });

  it('two tenants send at the same time, one in each flow', async () => {
    const a = await createTenant(app.url);
    const b = await createTenant(app.url);
    await admin.patch(`/api/admin/tenants/${a.tenantId}`, { bulkSending: 'on' });
    const idA = await campaign(a, 600, 6_100_000);
    const idB = await campaign(b, 300, 6_200_000);
    const before = sandbox.stats().requests.byEndpoint;
    expect((await a.api.post(`/api/campaigns/${idA}/enqueue`)).status).toBe(202);
    expect((await b.api.post(`/api/campaigns/${idB}/enqueue`)).status).toBe(202);
    // While both send, the status and /metrics name each campaign's flow.
    const statusA = await a.api.get(`/api/campaigns/${idA}/status`);
    if (statusA.body.campaign.status === 'sending') expect(statusA.body.sendMode).toBe('bulk');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    const modeOf = (id: string) => new RegExp(`bulksms_campaign_send_mode\\{campaign_id="${id}",tenant_id="[^"]+",mode="(\\w+)"\\} 1`).exec(metrics)?.[1];
    if (modeOf(idB)) expect(modeOf(idB)).toBe('single');
    if (modeOf(idA)) expect(modeOf(idA)).toBe('bulk');

    await done(a, idA);
    await done(b, idB);
    expect(await flows(idA)).toEqual({ bulk: 600, single: 0, batchModes: ['bulk'] });
    expect(await flows(idB)).toEqual({ bulk: 0, single: 300, batchModes: ['single'] });
    const after = sandbox.stats().requests.byEndpoint;
    expect(after.bulk - before.bulk).toBe(12); // 600 / 50 per call
    expect(after.single - before.single).toBe(300);
    expect(sandbox.stats().duplicateReferences).toBe(0);
  }, 120_000);

  it('a switch off and on again while a campaign is sending: no restart, nothing twice, nothing skipped', async () => {
    const size = 3_000;
    const t = await createTenant(app.url, { accountRateLimit: 40 });
    await admin.patch(`/api/admin/tenants/${t.tenantId}`, { bulkSending: 'on' });
    const id = await campaign(t, size, 6_300_000);
    const dupBefore = sandbox.stats().duplicateReferences;
    const sentSoFar = async () => Number((await app.db.query(`SELECT count(*)::int AS n FROM campaign_messages WHERE campaign_id = $1 AND status <> 'queued'`, [id]))[0].n);

    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    await waitFor(async () => (await sentSoFar()) >= 500, 60_000, 20);
    expect((await admin.patch(`/api/admin/tenants/${t.tenantId}`, { bulkSending: 'off' })).body.bulkSendingEffective).toBe(false);
    // At 40 requests/s the single flow sends 40 messages a second: let it send a few hundred.
    const atOff = await sentSoFar();
    await waitFor(async () => (await sentSoFar()) >= atOff + 200, 60_000, 50);
    expect((await t.api.get(`/api/campaigns/${id}/status`)).body.sendMode).toBe('single');
    expect((await admin.patch(`/api/admin/tenants/${t.tenantId}`, { bulkSending: 'on' })).body.bulkSendingEffective).toBe(true);

    const final = await done(t, id);
    expect(final.metrics).toMatchObject({ total: size, sent: size, queued: 0, unknown: 0, failed: 0 });
    const f = await flows(id);
    expect(f.batchModes).toEqual(['bulk', 'single']);
    expect(f.single).toBeGreaterThanOrEqual(200);
    expect(f.bulk).toBeGreaterThanOrEqual(500);
    expect(f.bulk + f.single).toBe(size);
    expect(sandbox.stats().duplicateReferences - dupBefore).toBe(0);
    for (const i of [0, 1_500, size - 1]) expect(sandbox.messagesFor(phone(6_300_000 + i))).toHaveLength(1);
    expect((await t.api.get('/api/me')).body.credits.reserved).toBe(0);
  }, 180_000);
});

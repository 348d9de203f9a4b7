import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, startSandbox, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * Guard-rail races and edges found in review. The canary passing while the batch that holds its boundary is still being sent (single flow, 100 ms per
 * call, reports 20 ms later, a pass after 6 delivered): that batch's release must not hold its later
 * messages behind a canary that has already passed. Before the fix they stayed queued for good, the
 * campaign `sending` and their credits reserved (3 runs out of 3).
 */
describe('guard rails: races and edges', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;
  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 100, reportDelayMs: 20, webhookSecret: WEBHOOK_SECRET, deliveredRatio: 1 });
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url, USE_BULK_SMS: 'false', SMS_BATCH_SIZE: '20',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000', RATE_LIMIT_TENANT_MAX: '100000', QUEUE_RATE_MAX: '100000',
    });
    sandbox.configure({ webhookUrl: `${app.url}/api/webhooks/mitto/delivery-reports` });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  it('sends the boundary batch\'s held messages once the canary passes, each once, credits settled', async () => {
    const SIZE = 40;
    const t = await createTenant(app.url, { credits: SIZE });
    const c = await t.api.post('/api/campaigns', { name: 'boundary', text: 'Hi', canary: { size: 30, minDeliveredRate: 0.2, waitSeconds: 60 } });
    await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients: Array.from({ length: SIZE }, (_, i) => ({ phone: phone(9_800_000 + i) })) });
    expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);

    const done = await waitFor(async () => {
      const s = (await t.api.get(`/api/campaigns/${c.body.id}/status`)).body;
      return s.campaign.status === 'completed' ? s : undefined;
    }, 25_000, 200);
    expect(done.campaign.canaryState).toBe('passed');
    expect(sandbox.stats()).toMatchObject({ accepted: SIZE, duplicateReferences: 0 });
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 0, reserved: 0 });
  }, 40_000);

  it('a scheduled campaign whose expiresAt passes before its start ends completed, every message expired, nothing sent', async () => {
    const t = await createTenant(app.url, { credits: 10 });
    const now = Date.now();
    const c = await t.api.post('/api/campaigns', { name: 'late', text: 'Hi', expiresAt: new Date(now + 1_000).toISOString() });
    expect(c.status).toBe(201);
    await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients: Array.from({ length: 3 }, (_, i) => ({ phone: phone(9_810_000 + i) })) });
    expect((await t.api.post(`/api/campaigns/${c.body.id}/schedule`, { scheduledAt: new Date(now + 2_500).toISOString() })).status).toBe(200);

    const ended = await waitFor(async () => {
      const s = (await t.api.get(`/api/campaigns/${c.body.id}/status`)).body;
      return s.campaign.status === 'completed' ? s : undefined;
    }, 15_000, 200);
    expect(ended.metrics).toMatchObject({ expired: 3, queued: 0, sent: 0 });
    expect(sandbox.messagesFor(phone(9_810_000)).length).toBe(0);
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 10, reserved: 0 });
  }, 30_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, startSandbox, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/** The seed's functional checklist against the sandbox: every recipient sent exactly once. */
describe.each([
  ['bulk', 'true', [20, 700, 6_000, 50_000]],
  ['single', 'false', [20, 700, 6_000]],
] as const)('sending (%s flow)', (_mode, useBulk, sizes) => {
  let app: TestApp;
  let sandbox: MittoSandbox;

  beforeAll(async () => {
    const sbx = await startSandbox();
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: useBulk,
      SMS_BATCH_SIZE: '50',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '1000',
      RATE_LIMIT_TENANT_MAX: '1000',
      QUEUE_RATE_MAX: '1000',
    });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  async function runCampaign(size: number, offset: number) {
    const t = await createTenant(app.url, { credits: size * 2 });
    const c = await t.api.post('/api/campaigns', { name: `c${size}`, text: 'Hi {{name}}, 20% off today' });
    expect(c.status).toBe(201);
    // JSON takes up to 10,000 recipients per request; larger lists go as one streamed CSV body.
    const imported =
      size <= 10_000
        ? await t.api.post(`/api/campaigns/${c.body.id}/recipients`, {
            recipients: Array.from({ length: size }, (_, i) => ({ phone: phone(offset + i), variables: { name: `N${i}` } })),
          })
        : await t.api.post(
            `/api/campaigns/${c.body.id}/recipients`,
            ['phone,name', ...Array.from({ length: size }, (_, i) => `${phone(offset + i)},N${i}`)].join('\n'),
            { 'content-type': 'text/csv' },
          );
    expect(imported.body).toMatchObject({ accepted: size, duplicates: 0, invalid: 0 });
    const enq = await t.api.post(`/api/campaigns/${c.body.id}/enqueue`);
    expect(enq.status).toBe(202);
    expect(enq.body.campaign.status).toBe('sending');
    const done = await waitFor(async () => {
      const s = await t.api.get(`/api/campaigns/${c.body.id}/status`);
      return s.body.campaign.status === 'completed' ? s.body : undefined;
    }, 180_000, 250);
    return { t, campaignId: c.body.id as string, done };
  }

  it.each(sizes.map((n) => [n]))('a campaign of %i completes with each recipient sent exactly once', async (size) => {
    const offset = size * 10 + (useBulk === 'true' ? 0 : 5_000_000);
    const { t, done } = await runCampaign(size, offset);
    expect(done.metrics.total).toBe(size);
    expect(done.metrics.sent + done.metrics.delivered + done.metrics.undelivered).toBe(size);
    const stats = sandbox.stats();
    expect(stats.duplicateReferences).toBe(0);
    for (const i of [0, Math.floor(size / 2), size - 1]) expect(sandbox.messagesFor(phone(offset + i))).toHaveLength(1);
    const me = await t.api.get('/api/me');
    expect(me.body.credits).toEqual({ balance: size, reserved: 0 });
  }, 240_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startApp, startSandbox, type TestApp } from './support/test-app.js';
import { Api, allMessages, createTenant, expectError, phone, waitFor, waitForCampaign } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/** Credits: race-free reservations, admin top-ups, refunds on cancel; the ledger is checked in SQL. */
describe('credits API', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;
  let admin: Api;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 200 });
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: 'true',
      SMS_BATCH_SIZE: '5',
      WORKER_CONCURRENCY: '2',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '1000',
      RATE_LIMIT_TENANT_MAX: '1000',
      QUEUE_RATE_MAX: '1000',
    });
    admin = Api.admin(app.url);
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  async function ledger(tenantId: string): Promise<Record<string, number>> {
    const rows: Array<{ kind: string; sum: string }> = await app.db.query(
      'SELECT kind, sum(amount) AS sum FROM credit_ledger WHERE tenant_id = $1 GROUP BY kind',
      [tenantId],
    );
    return Object.fromEntries(rows.map((r) => [r.kind, Number(r.sum)]));
  }

  it('50 concurrent enqueues that each need the whole balance: exactly one 202, 49 × 402; nothing lost', async () => {
    const N = 10;
    const t = await createTenant(app.url, { credits: N });
    const ids = await Promise.all(
      Array.from({ length: 50 }, async (_, k) => {
        const c = await t.api.post('/api/campaigns', { name: `race ${k}`, text: 'Flash sale now' });
        expect(c.status).toBe(201);
        const recipients = Array.from({ length: N }, (_, i) => ({ phone: phone(2_000_000 + k * 100 + i) }));
        const imp = await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients });
        expect(imp.body).toMatchObject({ accepted: N, invalid: 0 });
        return c.body.id as string;
      }),
    );

    const results = await Promise.all(ids.map((id) => t.api.post(`/api/campaigns/${id}/enqueue`)));
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status !== 202);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(49);
    for (const r of refused) {
      expectError(r, 402, 'INSUFFICIENT_CREDITS');
      expect(r.body.error.details).toEqual({ required: N, available: 0 });
    }
    const winner = ids[results.findIndex((r) => r.status === 202)];

    const during = await t.api.get('/api/me');
    expect(during.body.credits.balance).toBe(0);
    expect(during.body.credits.balance + during.body.credits.reserved).toBeLessThanOrEqual(N);

    const done = await waitForCampaign(t.api, winner, (s) => s.campaign.status === 'completed', 20_000);
    expect(done.metrics.total).toBe(N);
    expect(done.metrics.sent + done.metrics.delivered + done.metrics.undelivered).toBe(N);
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 0, reserved: 0 });
    expect(await ledger(t.tenantId)).toEqual({ topup: N, reserve: N, debit: N });

    // The losers are untouched drafts.
    const drafts = await t.api.get('/api/campaigns?status=draft&limit=100');
    expect(drafts.body.total).toBe(49);
  }, 30_000);

  it('admin top-up → 201 { balance, reserved }; amount ≤ 0 or not an integer → 400; unknown tenant → 404', async () => {
    const t = await createTenant(app.url, { credits: 5 });
    const top = await admin.post(`/api/admin/tenants/${t.tenantId}/credits`, { amount: 20, reason: 'monthly package' });
    expect(top.status).toBe(201);
    expect(top.body).toEqual({ balance: 25, reserved: 0 });
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 25, reserved: 0 });

    for (const amount of [0, -5, 1.5, '10', null]) {
      const res = await admin.post(`/api/admin/tenants/${t.tenantId}/credits`, { amount });
      try {
        expectError(res, 400, 'VALIDATION_FAILED');
      } catch (e) {
        throw new Error(`amount ${JSON.stringify(amount)}: ${(e as Error).message}`, { cause: e });
      }
      expect(res.body.error.details.fields.some((f: any) => f.field === 'amount')).toBe(true);
    }
    expectError(await admin.post(`/api/admin/tenants/${t.tenantId}/credits`, {}), 400, 'VALIDATION_FAILED');
    expectError(await admin.post(`/api/admin/tenants/${randomUUID()}/credits`, { amount: 5 }), 404, 'NOT_FOUND');
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 25, reserved: 0 });
    expect(await ledger(t.tenantId)).toEqual({ topup: 25 });
  });

  it('cancel while sending → 200 cancelled; unsent messages cancelled and refunded; nothing sent afterwards', async () => {
    const SIZE = 200;
    const t = await createTenant(app.url, { credits: 1000 });
    const c = await t.api.post('/api/campaigns', { name: 'to cancel', text: 'Last chance' });
    const phones = Array.from({ length: SIZE }, (_, i) => phone(3_000_000 + i));
    const imp = await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients: phones.map((p) => ({ phone: p })) });
    expect(imp.body.accepted).toBe(SIZE);
    const acceptedFor = () => phones.reduce((n, p) => n + sandbox.messagesFor(p).length, 0);

    expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);
    await waitFor(async () => acceptedFor() >= 10, 10_000, 20);
    const cancel = await t.api.post(`/api/campaigns/${c.body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ id: c.body.id, status: 'cancelled' });
    expect(acceptedFor()).toBeLessThan(SIZE); // the test is meaningful only if sending was cut short

    // A call in flight at the cancel settles; then nothing more is sent.
    const settled = await waitForCampaign(t.api, c.body.id, (s) => s.metrics.queued === 0, 10_000);
    const stable = acceptedFor();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(acceptedFor()).toBe(stable);

    const final = (await t.api.get(`/api/campaigns/${c.body.id}/status`)).body;
    expect(final.campaign.status).toBe('cancelled');
    const m = final.metrics;
    const sent = m.sent + m.delivered + m.undelivered;
    expect(sent).toBe(stable);
    expect(m.cancelled).toBe(SIZE - stable);
    expect(m.cancelled).toBeGreaterThan(0);
    expect(m.total).toBe(SIZE);
    expect(settled.campaign.status).toBe('cancelled');

    const msgs = await allMessages(t.api, c.body.id);
    expect(msgs).toHaveLength(SIZE);
    for (const msg of msgs) {
      const times = sandbox.messagesFor(msg.phone).length;
      if (msg.status === 'cancelled') expect(times).toBe(0);
      else expect({ phone: msg.phone, status: msg.status, times }).toEqual({ phone: msg.phone, status: 'sent', times: 1 });
    }

    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 1000 - sent, reserved: 0 });
    expect(await ledger(t.tenantId)).toEqual({ topup: 1000, reserve: SIZE, debit: sent, refund: SIZE - sent });

    // A cancelled campaign cannot be resumed, paused, enqueued or cancelled again.
    for (const action of ['resume', 'pause', 'enqueue', 'cancel']) {
      const res = await t.api.post(`/api/campaigns/${c.body.id}/${action}`);
      expectError(res, 409, 'INVALID_CAMPAIGN_STATE');
      expect(res.body.error.details).toMatchObject({ status: 'cancelled' });
    }
  }, 30_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, startSandbox, type TestApp } from './support/test-app.js';
import { allMessages, createTenant, expectError, phone, waitForCampaign, type TenantFixture } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

const NO_FAULTS = { error500Ratio: 0, error429Ratio: 0, error503Ratio: 0, acceptThenDropRatio: 0, rejectDestinations: [] as string[] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function campaignWith(t: TenantFixture, phones: string[], text = 'Weekend offer') {
  const c = await t.api.post('/api/campaigns', { name: 'lifecycle', text });
  expect(c.status).toBe(201);
  for (let i = 0; i < phones.length; i += 10_000) {
    const imp = await t.api.post(`/api/campaigns/${c.body.id}/recipients`, {
      recipients: phones.slice(i, i + 10_000).map((p) => ({ phone: p })),
    });
    expect(imp.body).toMatchObject({ invalid: 0, duplicates: 0 });
  }
  return c.body.id as string;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => phone(from + i));

/** Pause/resume, scheduling and provider faults, against the sandbox: every recipient exactly once. */
describe('campaign lifecycle', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 20 });
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: 'true',
      SMS_BATCH_SIZE: '50',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '2000',
      RATE_LIMIT_TENANT_MAX: '2000',
      QUEUE_RATE_MAX: '1000',
      LOG_LEVEL: 'error', // injected faults log a warning per failed attempt
    });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  const sentCount = (phones: string[]) => phones.reduce((n, p) => n + sandbox.messagesFor(p).length, 0);

  it('pause → resume → complete sends every recipient exactly once', async () => {
    const t = await createTenant(app.url, { credits: 10_000 });
    const phones = range(100_000, 2_000);
    const id = await campaignWith(t, phones);
    const dupBefore = sandbox.stats().duplicateReferences;

    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    const paused = await t.api.post(`/api/campaigns/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id, status: 'paused' });

    // In-flight batches finish; then nothing more goes out while paused.
    await sleep(400);
    const atPause = sentCount(phones);
    await sleep(1_000);
    expect(sentCount(phones)).toBe(atPause);
    const whilePaused = (await t.api.get(`/api/campaigns/${id}/status`)).body;
    expect(whilePaused.campaign.status).toBe('paused');
    expect(atPause).toBeLessThan(phones.length);
    expectError(await t.api.post(`/api/campaigns/${id}/pause`), 409, 'INVALID_CAMPAIGN_STATE');

    const resumed = await t.api.post(`/api/campaigns/${id}/resume`);
    expect(resumed.status).toBe(202);
    expect(resumed.body).toMatchObject({ id, status: 'sending' });
    const done = await waitForCampaign(t.api, id, (s) => s.campaign.status === 'completed', 30_000);
    expect(done.metrics.total).toBe(phones.length);
    expect(done.metrics.sent + done.metrics.delivered + done.metrics.undelivered).toBe(phones.length);

    expect(sandbox.stats().duplicateReferences - dupBefore).toBe(0);
    const counts = phones.map((p) => sandbox.messagesFor(p).length);
    expect(counts.filter((n) => n !== 1)).toEqual([]);
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 10_000 - phones.length, reserved: 0 });
    expectError(await t.api.post(`/api/campaigns/${id}/resume`), 409, 'INVALID_CAMPAIGN_STATE');
  }, 40_000);

  it('schedule: 200 scheduled, then starts on its own; a reschedule replaces the earlier time; past → 400', async () => {
    const t = await createTenant(app.url, { credits: 100 });
    const phones = range(200_000, 5);
    const id = await campaignWith(t, phones);

    const past = await t.api.post(`/api/campaigns/${id}/schedule`, { scheduledAt: new Date(Date.now() - 60_000).toISOString() });
    expectError(past, 400, 'VALIDATION_FAILED');
    expectError(await t.api.post(`/api/campaigns/${id}/schedule`, { scheduledAt: 'tomorrow' }), 400, 'VALIDATION_FAILED');
    expectError(await t.api.post(`/api/campaigns/${id}/schedule`, {}), 400, 'VALIDATION_FAILED');

    const first = new Date(Date.now() + 1_500);
    const s1 = await t.api.post(`/api/campaigns/${id}/schedule`, { scheduledAt: first.toISOString() });
    expect(s1.status).toBe(200);
    expect(s1.body).toMatchObject({ id, status: 'scheduled', scheduledAt: first.toISOString() });

    const second = new Date(Date.now() + 3_500);
    const s2 = await t.api.post(`/api/campaigns/${id}/schedule`, { scheduledAt: second.toISOString() });
    expect(s2.status).toBe(200);
    expect(s2.body).toMatchObject({ status: 'scheduled', scheduledAt: second.toISOString() });

    // Past the first time: the replaced schedule does not start it.
    await sleep(Math.max(0, first.getTime() + 800 - Date.now()));
    const mid = (await t.api.get(`/api/campaigns/${id}`)).body;
    expect(mid.status).toBe('scheduled');
    expect(sentCount(phones)).toBe(0);

    const done = await waitForCampaign(t.api, id, (s) => s.campaign.status === 'completed', 15_000);
    expect(new Date(done.campaign.startedAt).getTime()).toBeGreaterThanOrEqual(second.getTime() - 50);
    expect(phones.map((p) => sandbox.messagesFor(p).length)).toEqual([1, 1, 1, 1, 1]);
  }, 30_000);

  it('rejected destinations: campaign completes, 2 failed with errorCode, the rest sent, 2 credits refunded', async () => {
    const t = await createTenant(app.url, { credits: 100 });
    const phones = range(300_000, 20);
    const rejected = [phones[3], phones[17]];
    sandbox.configure({ faults: { ...NO_FAULTS, rejectDestinations: rejected } });
    try {
      const id = await campaignWith(t, phones);
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      const done = await waitForCampaign(t.api, id, (s) => s.campaign.status === 'completed', 15_000);
      expect(done.metrics).toMatchObject({ total: 20, failed: 2, queued: 0 });
      expect(done.metrics.sent + done.metrics.delivered + done.metrics.undelivered).toBe(18);

      const failed = await allMessages(t.api, id, 'failed');
      expect(failed.map((m) => m.phone).sort()).toEqual([...rejected].sort());
      for (const m of failed) {
        expect(m.errorCode).toEqual(expect.any(String));
        expect(m.errorCode).toMatch(/REJECT/);
        expect(m.providerMessageId).toBeNull();
      }
      const sent = await allMessages(t.api, id, 'sent');
      expect(sent).toHaveLength(18);
      for (const m of sent) expect(m.providerMessageId).toEqual(expect.any(String));
      for (const p of phones) expect(sandbox.messagesFor(p)).toHaveLength(rejected.includes(p) ? 0 : 1);
      expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 82, reserved: 0 });
    } finally {
      sandbox.configure({ faults: NO_FAULTS });
    }
  }, 20_000);

  it('10% HTTP 500 + 5% HTTP 429 on 2,000 messages: completes, nothing lost, nothing duplicated', async () => {
    const t = await createTenant(app.url, { credits: 10_000 });
    const phones = range(400_000, 2_000);
    // Seeded draws: the first requests of the campaign meet a 500 (draws 2 and 4 of seed 3), so the fault surely happens.
    sandbox.configure({ seed: 3, faults: { ...NO_FAULTS, error500Ratio: 0.1, error429Ratio: 0.05, retryAfterSeconds: 1 } });
    try {
      const id = await campaignWith(t, phones);
      const before = sandbox.stats();
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      const done = await waitForCampaign(t.api, id, (s) => ['completed', 'failed'].includes(s.campaign.status), 30_000);
      const after = sandbox.stats();
      expect(done.campaign.status).toBe('completed');
      expect(done.metrics).toMatchObject({ total: 2_000, sent: 2_000, failed: 0, unknown: 0, queued: 0 });
      expect(after.duplicateReferences - before.duplicateReferences).toBe(0);
      expect(phones.map((p) => sandbox.messagesFor(p).length).filter((n) => n !== 1)).toEqual([]);
      // The faults really happened.
      expect((after.requests.byStatusCode['500'] ?? 0) - (before.requests.byStatusCode['500'] ?? 0)).toBeGreaterThan(0);
      expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 8_000, reserved: 0 });
    } finally {
      sandbox.configure({ seed: undefined, faults: NO_FAULTS });
    }
  }, 40_000);

  it('accept-then-drop on every request: messages end unknown (AMBIGUOUS), accepted once, never resent', async () => {
    const t = await createTenant(app.url, { credits: 100 });
    const phones = range(500_000, 50);
    sandbox.configure({ faults: { ...NO_FAULTS, acceptThenDropRatio: 1 } });
    try {
      const id = await campaignWith(t, phones);
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      const done = await waitForCampaign(t.api, id, (s) => s.metrics.queued === 0, 15_000);
      expect(done.metrics).toMatchObject({ total: 50, unknown: 50 });
      const msgs = await allMessages(t.api, id);
      expect(msgs.filter((m) => m.status !== 'unknown' || m.errorCode !== 'AMBIGUOUS')).toEqual([]);
      expect(phones.map((p) => sandbox.messagesFor(p).length).filter((n) => n !== 1)).toEqual([]);
      await sleep(1_500);
      expect(phones.map((p) => sandbox.messagesFor(p).length).filter((n) => n !== 1)).toEqual([]);
      // Unknown messages keep their credits reserved until settled.
      expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 50, reserved: 50 });
    } finally {
      sandbox.configure({ faults: NO_FAULTS });
    }
  }, 25_000);
});

describe('campaign lifecycle with retries exhausted (QUEUE_ATTEMPTS=1)', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;

  beforeAll(async () => {
    const sbx = await startSandbox({ faults: { error500Ratio: 1 } });
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: 'true',
      SMS_BATCH_SIZE: '10',
      QUEUE_ATTEMPTS: '1',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '1000',
      RATE_LIMIT_TENANT_MAX: '1000',
      QUEUE_RATE_MAX: '1000',
      LOG_LEVEL: 'error', // injected faults log a warning per failed attempt
    });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  it('100% HTTP 500: messages end failed, the campaign ends failed, credits come back', async () => {
    const t = await createTenant(app.url, { credits: 100 });
    const phones = range(600_000, 30);
    const id = await campaignWith(t, phones);
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    const done = await waitForCampaign(t.api, id, (s) => ['completed', 'failed'].includes(s.campaign.status), 20_000);
    expect(done.campaign.status).toBe('failed');
    expect(done.metrics).toMatchObject({ total: 30, failed: 30, sent: 0, queued: 0, unknown: 0 });
    const msgs = await allMessages(t.api, id);
    for (const m of msgs) {
      expect(m.status).toBe('failed');
      expect(m.errorCode).toEqual(expect.any(String));
    }
    expect(sandbox.stats().accepted).toBe(0);
    // One try plus QUEUE_ATTEMPTS=1 retry per batch of 10.
    expect(sandbox.stats().requests.byEndpoint.bulk).toBe(6);
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 100, reserved: 0 });
  }, 30_000);
});

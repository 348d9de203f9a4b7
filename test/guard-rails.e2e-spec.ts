import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { startApp, startSandbox, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { createTenant, expectError, phone, waitFor, type TenantFixture } from './support/api.js';
import { spawnApp, stopProcess } from './support/worker-process.js';
import { SseReader } from './support/sse-reader.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * The campaign guard rails (api-contract.md, "Campaign guard rails") through the API, against the Mitto
 * sandbox with delivery reports flowing: send windows in the recipient's zone, expiry, auto-pause and the
 * canary, and their combinations.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NO_FAULTS = { error500Ratio: 0, error429Ratio: 0, error503Ratio: 0, acceptThenDropRatio: 0, rejectDestinations: [] as string[] };

/** HH:MM of `date` in `zone`. */
function localHhMm(date: Date, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(date);
}
const plusMinutes = (date: Date, m: number) => new Date(date.getTime() + m * 60_000);

describe('campaign guard rails', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 2, reportDelayMs: 150, webhookSecret: WEBHOOK_SECRET, deliveredRatio: 1 });
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: 'true',
      SMS_BATCH_SIZE: '20',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000',
      RATE_LIMIT_TENANT_MAX: '100000',
      QUEUE_RATE_MAX: '100000',
      DEFAULT_TIME_ZONE: 'UTC',
    });
    sandbox.configure({ webhookUrl: `${app.url}/api/webhooks/mitto/delivery-reports` });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  async function campaign(t: TenantFixture, body: Record<string, unknown>, phones: string[]): Promise<string> {
    const c = await t.api.post('/api/campaigns', { name: 'guarded', text: 'Hi {{n}}', ...body });
    expect(c.status).toBe(201);
    const recipients = phones.map((p, i) => ({ phone: p, variables: { n: String(i) } }));
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(phones.length);
    return c.body.id;
  }
  const status = async (t: TenantFixture, id: string) => (await t.api.get(`/api/campaigns/${id}/status`)).body;
  const sentTo = (phones: string[]) => phones.reduce((n, p) => n + sandbox.messagesFor(p).length, 0);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => phone(from + i));

  it('validates every field with its path, shows the settings on the campaign, and PATCH null removes one', async () => {
    const t = await createTenant(app.url);
    const bad = await t.api.post('/api/campaigns', {
      name: 'x', text: 'y',
      sendWindow: { start: '25:00', end: '09:00', days: [0, 3], timeZone: 'Mars/Olympus_Mons' },
      autoPause: { maxFailureRate: 0 },
      canary: { size: 0, minDeliveredRate: 1.5, waitSeconds: 0 },
      expiresAt: 'tomorrow',
    });
    expectError(bad, 400, 'VALIDATION_FAILED');
    const fields = bad.body.error.details.fields.map((f: { field: string }) => f.field);
    for (const f of ['sendWindow.start', 'sendWindow.days', 'sendWindow.timeZone', 'autoPause.maxFailureRate', 'canary.size', 'canary.minDeliveredRate', 'canary.waitSeconds', 'expiresAt']) {
      expect(fields).toContain(f);
    }
    expectError(await t.api.post('/api/campaigns', { name: 'x', text: 'y', sendWindow: { start: '09:00', end: '09:00' } }), 400, 'VALIDATION_FAILED');
    expectError(await t.api.post('/api/campaigns', { name: 'x', text: 'y', canary: { size: 1, minDeliveredRate: 1, waitSeconds: 1, extra: 1 } }), 400, 'VALIDATION_FAILED');

    const c = await t.api.post('/api/campaigns', {
      name: 'x', text: 'y',
      sendWindow: { start: '22:00', end: '06:30', days: [5, 1], timeZone: 'america/new_york' },
      autoPause: { maxFailureRate: 0.25 },
      canary: { size: 50, minDeliveredRate: 0.8, waitSeconds: 120 },
      expiresAt: '2030-01-01T00:00:00Z',
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      sendWindow: { start: '22:00', end: '06:30', days: [1, 5], timeZone: 'America/New_York' },
      autoPause: { maxFailureRate: 0.25, minMessages: 100 },
      canary: { size: 50, minDeliveredRate: 0.8, waitSeconds: 120 },
      expiresAt: '2030-01-01T00:00:00.000Z',
      pauseReason: null,
      canaryState: null,
    });
    // An array is not a setting: `[[[]]]` has no element to fail validation, and `[{…a valid canary}]` has
    // only valid ones, so it must be refused as a whole (the bad-input fuzz found `{"canary":[[[]]]}`
    // accepted and stored as `{}`); the campaign, with all three settings set, must not change.
    const before = (await t.api.get(`/api/campaigns/${c.body.id}`)).body;
    for (const field of ['sendWindow', 'autoPause', 'canary']) {
      for (const value of [[], [[[]]], [{ size: 1, minDeliveredRate: 1, waitSeconds: 1 }], 'x', 3]) {
        const res = await t.api.patch(`/api/campaigns/${c.body.id}`, { [field]: value });
        expectError(res, 400, 'VALIDATION_FAILED');
        expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
        const created = await t.api.post('/api/campaigns', { name: 'x', text: 'y', [field]: value });
        expectError(created, 400, 'VALIDATION_FAILED');
        expect(created.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
      }
    }
    expect((await t.api.get(`/api/campaigns/${c.body.id}`)).body).toEqual(before);

    const patched = await t.api.patch(`/api/campaigns/${c.body.id}`, { sendWindow: null, canary: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ sendWindow: null, canary: null, autoPause: { maxFailureRate: 0.25 } });
    const unpaused = await t.api.patch(`/api/campaigns/${c.body.id}`, { autoPause: null });
    expect(unpaused.status).toBe(200);
    expect(unpaused.body).toMatchObject({ sendWindow: null, canary: null, autoPause: null });
  });

  it('send window in the recipient\'s zone: Tokyo goes out now, New York waits for its own window (no polling)', async () => {
    const t = await createTenant(app.url);
    const now = new Date();
    // One hour from now in Tokyo's clock: open there now, closed in New York (13–14 hours behind).
    const window = { start: localHhMm(now, 'Asia/Tokyo'), end: localHhMm(plusMinutes(now, 60), 'Asia/Tokyo') };
    const tokyo = Array.from({ length: 10 }, (_, i) => `+81901234${String(5000 + i)}`);
    const newYork = Array.from({ length: 10 }, (_, i) => `+1212555${String(1000 + i)}`);
    const id = await campaign(t, { sendWindow: window }, [...tokyo, ...newYork]);
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    await waitFor(async () => sentTo(tokyo) === 10, 20_000, 50);
    await sleep(1_500);
    expect(sentTo(newYork)).toBe(0);
    const s = await status(t, id);
    expect(s.campaign.status).toBe('sending');
    expect(s.metrics.queued).toBe(10);
    // The batches holding New York's messages wait until its window opens there, not polled meanwhile:
    // through three sweeps (SWEEPER_INTERVAL_MS is 1 s here) neither their rows nor the campaign's are
    // written (xmin is the id of the last transaction that wrote a row), and their jobs sleep in BullMQ.
    const rows = () =>
      app.db.query(
        `SELECT b.batch, b.not_before, b.xmin::text AS batch_xmin, c.xmin::text AS campaign_xmin
           FROM campaign_batches b JOIN campaigns c ON c.id = b.campaign_id
          WHERE b.campaign_id = $1 AND b.state = 'pending' ORDER BY b.batch`,
        [id],
      );
    const waiting = await rows();
    expect(waiting.length).toBeGreaterThan(0);
    for (const w of waiting) {
      expect(new Date(w.not_before).getTime()).toBeGreaterThan(Date.now() + 3_600_000);
      expect(localHhMm(new Date(w.not_before), 'America/New_York')).toBe(window.start);
    }
    await sleep(3_200);
    expect(await rows()).toEqual(waiting);
    // A campaign waiting for a window can still be cancelled; its waiting messages are refunded.
    expect((await t.api.post(`/api/campaigns/${id}/cancel`)).status).toBe(200);
    const done = await waitFor(async () => {
      const x = await status(t, id);
      return x.metrics.queued === 0 ? x : undefined;
    }, 10_000);
    expect(done.metrics).toMatchObject({ cancelled: 10 });
  }, 60_000);

  it('a window opening at the next minute: nothing before it, the canary right after it, then the rest once the canary is delivered', async () => {
    const t = await createTenant(app.url);
    const now = new Date();
    const opens = new Date(Math.ceil((now.getTime() + 1_000) / 60_000) * 60_000);
    const window = { start: localHhMm(opens, 'UTC'), end: localHhMm(plusMinutes(opens, 30), 'UTC'), timeZone: 'UTC' };
    const phones = range(9_100_000, 60);
    const id = await campaign(t, { sendWindow: window, canary: { size: 20, minDeliveredRate: 0.9, waitSeconds: 60 } }, phones);
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    expect((await status(t, id)).campaign.canaryState).toBe('pending');
    await waitFor(async () => Date.now() >= opens.getTime() - 300, 70_000, 100);
    expect(sentTo(phones)).toBe(0);
    // Resumes on time: within a few seconds of the opening, the canary (the first 20) and only it.
    await waitFor(async () => sentTo(phones.slice(0, 20)) === 20, 5_000, 20);
    const firstCanaryAt = Math.min(...phones.slice(0, 20).map((p) => Date.parse(sandbox.messagesFor(p)[0].acceptedAt)));
    expect(firstCanaryAt).toBeGreaterThanOrEqual(opens.getTime());
    expect(firstCanaryAt - opens.getTime()).toBeLessThan(4_000);
    // Reports come 150 ms after acceptance: the canary passes and the rest follows.
    const done = await waitFor(async () => {
      const s = await status(t, id);
      return s.campaign.status === 'completed' && s.metrics.sent === 0 ? s : undefined;
    }, 20_000, 100);
    expect(done.campaign.canaryState).toBe('passed');
    expect(done.metrics).toMatchObject({ total: 60, delivered: 60 });
    const rest = phones.slice(20).map((p) => Date.parse(sandbox.messagesFor(p)[0].acceptedAt));
    const canaryDelivered = await app.db.query(
      `SELECT max(delivered_at) AS at FROM campaign_messages WHERE campaign_id = $1 AND seq < (SELECT canary_until_seq FROM campaigns WHERE id = $1)`,
      [id],
    );
    // Nothing of the rest went out before enough of the canary was delivered (18 of 20).
    expect(Math.min(...rest)).toBeGreaterThan(firstCanaryAt + 100);
    expect(canaryDelivered[0].at).not.toBeNull();
    expect(phones.map((p) => sandbox.messagesFor(p).length).filter((n) => n !== 1)).toEqual([]);
  }, 100_000);

  it('expiry: waiting messages of a sending campaign, and all queued messages of a paused one, expire; credits return; both end', async () => {
    // One Mitto request a second for this tenant, and the limit counts requests (a bulk call of up to 20
    // messages costs one): the paused campaign's five batches need four seconds, so the pause lands while
    // most of it is still queued. (At 5 a second both batches of a 30-recipient campaign went out at once,
    // and a pause that came after them found the campaign completed: seen once in CI.)
    const t = await createTenant(app.url, { credits: 1_000, rateLimitPerSecond: 1 });
    const now = new Date();
    // Closed for everybody (a window that opened an hour ago in UTC and closed 30 minutes ago).
    const closed = { start: localHhMm(plusMinutes(now, -60), 'UTC'), end: localHhMm(plusMinutes(now, -30), 'UTC'), timeZone: 'UTC' };
    // Both expire 8 s from now: room for a slow machine to create, enqueue and pause them before that.
    const expiresAt = new Date(Date.now() + 8_000).toISOString();
    const waitingId = await campaign(t, { sendWindow: closed, expiresAt }, range(9_200_000, 30));
    const pausedId = await campaign(t, { expiresAt }, range(9_300_000, 100));
    expect((await t.api.post(`/api/campaigns/${waitingId}/enqueue`)).status).toBe(202);
    expect((await t.api.post(`/api/campaigns/${pausedId}/enqueue`)).status).toBe(202);
    expect((await t.api.post(`/api/campaigns/${pausedId}/pause`)).status).toBe(200);
    for (const [id, total] of [[waitingId, 30], [pausedId, 100]] as const) {
      const done = await waitFor(async () => {
        const s = await status(t, id);
        return s.campaign.status === 'completed' ? s : undefined;
      }, 20_000, 200);
      expect(done.metrics.queued).toBe(0);
      expect(done.metrics.expired).toBeGreaterThan(0);
      expect(done.metrics.expired + done.metrics.delivered + done.metrics.sent).toBe(total);
      const msgs = (await t.api.get(`/api/campaigns/${id}/messages?status=expired&limit=100`)).body.items;
      expect(msgs.every((m: { status: string; errorCode: string }) => m.status === 'expired' && m.errorCode === 'EXPIRED')).toBe(true);
    }
    const waiting = await status(t, waitingId);
    expect(waiting.metrics.expired).toBe(30);
    // Every expired message's credit came back: only the sent ones were spent.
    await waitFor(async () => (await t.api.get('/api/me')).body.credits.reserved === 0, 10_000, 100);
    const spent = (await status(t, pausedId)).metrics.delivered + (await status(t, pausedId)).metrics.sent;
    expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 1_000 - spent, reserved: 0 });
  }, 60_000);

  it('auto-pause on per-item rejections: pauses itself (FAILURE_RATE), announces it on the live stream, resume clears it', async () => {
    const t = await createTenant(app.url);
    const phones = range(9_400_000, 200);
    const id = await campaign(t, { autoPause: { maxFailureRate: 0.2, minMessages: 40 } }, phones);
    const events = await fetch(`${app.url}/api/campaigns/${id}/events`, { headers: { authorization: `Bearer ${t.apiKey}` } });
    const sse = new SseReader(events.body!);
    // Half of the numbers are refused by Mitto, one by one.
    sandbox.configure({ faults: { ...NO_FAULTS, rejectDestinations: phones.filter((_, i) => i % 2 === 0) } });
    try {
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      let paused;
      for (;;) {
        const e = await sse.next(15_000);
        if (!e) throw new Error('stream ended');
        if (e.data.campaign?.status === 'paused') {
          paused = e.data;
          break;
        }
      }
      expect(paused.campaign.pauseReason).toBe('FAILURE_RATE');
      expect(paused.metrics.failed).toBeGreaterThan(0);
      expect(paused.metrics.queued).toBeGreaterThan(0);
    } finally {
      sandbox.configure({ faults: NO_FAULTS });
    }
    const resumed = await t.api.post(`/api/campaigns/${id}/resume`);
    expect(resumed.status).toBe(202);
    expect(resumed.body.pauseReason).toBeNull();
    const done = await waitFor(async () => {
      const s = await status(t, id);
      return s.campaign.status === 'completed' && s.metrics.sent === 0 ? s : undefined;
    }, 30_000, 100);
    expect(done.metrics.queued).toBe(0);
    expect(phones.map((p) => sandbox.messagesFor(p).length).filter((n) => n > 1)).toEqual([]);
  }, 60_000);

  it('auto-pause during the canary: failed delivery reports pause it (FAILURE_RATE) before the canary times out', async () => {
    const t = await createTenant(app.url);
    const phones = range(9_500_000, 100);
    const id = await campaign(t, { autoPause: { maxFailureRate: 0.5, minMessages: 20 }, canary: { size: 40, minDeliveredRate: 0.9, waitSeconds: 60 } }, phones);
    sandbox.configure({ deliveredRatio: 0 });
    try {
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      const paused = await waitFor(async () => {
        const s = await status(t, id);
        return s.campaign.status === 'paused' ? s : undefined;
      }, 20_000, 100);
      expect(paused.campaign.pauseReason).toBe('FAILURE_RATE');
      expect(paused.campaign.canaryState).toBe('pending');
      expect(sentTo(phones.slice(40))).toBe(0);
    } finally {
      sandbox.configure({ deliveredRatio: 1 });
    }
  }, 40_000);

  it('a canary not delivered in time pauses the campaign (CANARY_FAILED); resume sends the rest, each once', async () => {
    const t = await createTenant(app.url);
    const phones = range(9_600_000, 80);
    const id = await campaign(t, { canary: { size: 20, minDeliveredRate: 0.9, waitSeconds: 2 } }, phones);
    sandbox.configure({ deliveredRatio: 0.5, seed: 7 });
    try {
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      const paused = await waitFor(async () => {
        const s = await status(t, id);
        return s.campaign.status === 'paused' ? s : undefined;
      }, 20_000, 100);
      expect(paused.campaign).toMatchObject({ pauseReason: 'CANARY_FAILED', canaryState: 'failed' });
      expect(sentTo(phones.slice(0, 20))).toBe(20);
      expect(sentTo(phones.slice(20))).toBe(0);
    } finally {
      sandbox.configure({ deliveredRatio: 1, seed: undefined });
    }
    const resumed = await t.api.post(`/api/campaigns/${id}/resume`);
    expect(resumed.body).toMatchObject({ status: 'sending', pauseReason: null, canaryState: 'passed' });
    await waitFor(async () => (await status(t, id)).campaign.status === 'completed', 20_000, 100);
    expect(phones.map((p) => sandbox.messagesFor(p).length).filter((n) => n !== 1)).toEqual([]);
  }, 40_000);
});

describe('campaign guard rails: a worker SIGKILLed during the canary', () => {
  let api: TestApp;
  let sandbox: MittoSandbox;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 30, reportDelayMs: 200, webhookSecret: WEBHOOK_SECRET, deliveredRatio: 1 });
    sandbox = sbx.sandbox;
    api = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: 'false',
      SMS_BATCH_SIZE: '20',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100',
      RATE_LIMIT_TENANT_MAX: '100',
      QUEUE_RATE_MAX: '100000',
      BATCH_LEASE_MS: '1500',
      SWEEPER_INTERVAL_MS: '1000',
      UNKNOWN_SETTLE_AFTER_MS: '5000',
    }, 'api');
    sandbox.configure({ webhookUrl: `${api.url}/api/webhooks/mitto/delivery-reports` });
  }, 60_000);
  afterAll(async () => {
    if (worker) await stopProcess(worker, 'SIGKILL');
    await api?.close();
    await sandbox?.stop();
  });

  it('the canary completes after the restart, passes, and every recipient gets one message', async () => {
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
    const t = await createTenant(api.url);
    const phones = Array.from({ length: 300 }, (_, i) => phone(9_700_000 + i));
    const c = await t.api.post('/api/campaigns', { name: 'canary kill', text: 'Hi', canary: { size: 100, minDeliveredRate: 0.9, waitSeconds: 60 } });
    await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients: phones.map((p) => ({ phone: p })) });
    expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);
    await waitFor(async () => sandbox.stats().accepted >= 40, 30_000, 10);
    await stopProcess(worker, 'SIGKILL');
    expect(sandbox.stats().accepted).toBeLessThan(100);
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
    const done = await waitFor(async () => {
      const s = (await t.api.get(`/api/campaigns/${c.body.id}/status`)).body;
      return s.campaign.status === 'completed' && s.metrics.sent + s.metrics.unknown === 0 ? s : undefined;
    }, 90_000, 200);
    expect(done.campaign.canaryState).toBe('passed');
    expect(done.metrics).toMatchObject({ total: 300, delivered: 300 });
    expect(sandbox.stats().duplicateReferences).toBe(0);
    expect(phones.map((p) => sandbox.messagesFor(p).length).filter((n) => n !== 1)).toEqual([]);
  }, 120_000);
});

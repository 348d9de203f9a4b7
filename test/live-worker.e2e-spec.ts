import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import { startApp, startSandbox, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor } from './support/api.js';
import { spawnApp, stopProcess } from './support/worker-process.js';
import { SseReader, type SseEvent } from './support/sse-reader.js';
import { REDIS } from '../src/redis/redis.module.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

async function campaignOf(url: string, size: number, offset: number) {
  const t = await createTenant(url, { credits: size, accountRateLimit: 20 });
  const c = await t.api.post('/api/campaigns', { name: 'live', text: 'Hi {{n}}' });
  const recipients = Array.from({ length: size }, (_, i) => ({ phone: phone(offset + i), variables: { n: String(i) } }));
  expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(size);
  return { t, id: c.body.id as string };
}

describe('live events from a separate worker process', () => {
  let api: TestApp;
  let sandbox: MittoSandbox;
  let worker: ChildProcess;

  beforeAll(async () => {
    const sbx = await startSandbox();
    sandbox = sbx.sandbox;
    api = await startApp({ MITTO_BASE_URL: sbx.url, USE_BULK_SMS: 'true', SMS_BATCH_SIZE: '50', QUEUE_RATE_MAX: '10000' }, 'api');
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
  }, 60_000);

  afterAll(async () => {
    if (worker) await stopProcess(worker);
    await api?.close();
    await sandbox?.stop();
  });

  it('an SSE client of the API process sees sending → completed while the worker process sends', async () => {
    const { t, id } = await campaignOf(api.url, 2_000, 9_100_000);
    const res = await fetch(`${api.url}/api/campaigns/${id}/events`, { headers: { authorization: `Bearer ${t.apiKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const sse = new SseReader(res.body!);
    const first = await sse.next();
    expect(first?.data.campaign.status).toBe('draft');

    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    const events: SseEvent[] = [];
    for (;;) {
      const e = await sse.next(30_000);
      if (!e) break;
      events.push(e);
      if (e.event === 'end') break;
    }
    const statuses = events.map((e) => e.data.campaign?.status);
    expect(statuses).toContain('sending');
    const progress = events.filter((e) => e.data.campaign?.status === 'sending').map((e) => e.data.metrics.total - e.data.metrics.queued);
    expect(progress.length).toBeGreaterThan(1);
    const last = events[events.length - 1];
    expect(last.event).toBe('end');
    expect(last.data.campaign.status).toBe('completed');
    expect(sandbox.stats().duplicateReferences).toBe(0);
  }, 60_000);
});

describe('rate limiter fails open when its Redis commands fail', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;

  beforeAll(async () => {
    const sbx = await startSandbox();
    sandbox = sbx.sandbox;
    app = await startApp({ MITTO_BASE_URL: sbx.url, USE_BULK_SMS: 'true', SMS_BATCH_SIZE: '50', QUEUE_RATE_MAX: '10000' });
  });

  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  it('sends continue and the fail-open counter rises', async () => {
    // The app's own Redis client (limiter, events) goes away; BullMQ keeps its own connections.
    app.app.get<Redis>(REDIS).disconnect();
    const { t, id } = await campaignOf(app.url, 500, 9_200_000);
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    await waitFor(async () => (await t.api.get(`/api/campaigns/${id}/status`)).body.campaign.status === 'completed', 30_000);
    expect(sandbox.stats().accepted).toBe(500);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    const failOpen = Number(/^bulksms_rate_limit_fail_open_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    expect(failOpen).toBeGreaterThan(0);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { startApp, startSandbox, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor } from './support/api.js';
import { spawnApp, stopProcess } from './support/worker-process.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * A worker process killed with SIGKILL in the middle of a campaign, then restarted: no message lost,
 * none sent twice (sandbox counts by reference). Messages the dead worker had in flight become
 * `unknown`; the sandbox's delivery reports (matched by reference) settle those that reached it, and
 * UNKNOWN_POLICY=resend re-sends the ones that never did (after 15 s without a report: long enough that
 * a loaded test machine's late reports are not mistaken for silence).
 */
describe('crash recovery', () => {
  let api: TestApp;
  let sandbox: MittoSandbox;
  let worker: ChildProcess | undefined;
  const SIZE = 3_000;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 15, reportDelayMs: 100, webhookSecret: WEBHOOK_SECRET });
    sandbox = sbx.sandbox;
    api = await startApp(
      {
        MITTO_BASE_URL: sbx.url,
        USE_BULK_SMS: 'true',
        SMS_BATCH_SIZE: '25',
        WORKER_CONCURRENCY: '4',
        RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '60',
        RATE_LIMIT_TENANT_MAX: '60',
        QUEUE_RATE_MAX: '1000',
        BATCH_LEASE_MS: '3000',
        UNKNOWN_POLICY: 'resend',
        UNKNOWN_SETTLE_AFTER_MS: '15000',
      },
      'api',
    );
    sandbox.configure({ webhookUrl: `${api.url}/api/webhooks/mitto/delivery-reports` });
  });

  afterAll(async () => {
    if (worker) await stopProcess(worker, 'SIGKILL');
    await api?.close();
    await sandbox?.stop();
  });

  it('loses nothing and sends nothing twice when the worker is SIGKILLed mid-campaign', async () => {
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
    const t = await createTenant(api.url, { credits: SIZE });
    const c = await t.api.post('/api/campaigns', { name: 'crash', text: 'Hello {{n}}' });
    const recipients = Array.from({ length: SIZE }, (_, i) => ({ phone: phone(8_000_000 + i), variables: { n: String(i) } }));
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(SIZE);
    expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);

    await waitFor(() => Promise.resolve(sandbox.stats().accepted >= SIZE / 3), 30_000, 20);
    await stopProcess(worker, 'SIGKILL');
    const acceptedAtKill = sandbox.stats().accepted;
    expect(acceptedAtKill).toBeLessThan(SIZE);

    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
    const final = await waitFor(async () => {
      const s = await t.api.get(`/api/campaigns/${c.body.id}/status`);
      const m = s.body.metrics;
      return s.body.campaign.status === 'completed' && m.unknown === 0 && m.sent === 0 ? s.body : undefined;
    }, 90_000, 250);

    const stats = sandbox.stats();
    expect(stats.duplicateReferences).toBe(0);
    expect(stats.accepted).toBe(SIZE);
    expect(final.metrics.delivered + final.metrics.undelivered).toBe(SIZE);
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { startApp, SANDBOX_KEY, type TestApp } from './support/test-app.js';
import { Api, createTenant, phone, waitFor } from './support/api.js';
import { freePort, spawnApp, stopProcess } from './support/worker-process.js';
import { answers, startProcess } from '../scripts/lib/harness.mjs';
import { SandboxControl } from '../src/mitto-sandbox/sandbox-client.js';
import { DEFAULT_ARRIVAL_MARGIN_MS } from '../src/rate-limiting/rate-limiter.service.js';
import { GrantLog, busiestWindow } from './support/grant-log.js';

/**
 * Rate limiting across processes (issue 5), measured on the grants in the shared Redis log and the sandbox's requests:
 * 3 worker processes share one traffic account limited to 20 req/s; and two tenants on one account
 * where a small campaign must not wait behind a large one.
 */
describe('rate limiting across worker processes', () => {
  let api: TestApp;
  // The sandbox is its own process: it stamps each request's arrival on an event loop that nothing else
  // uses (in this test process, the API's own work at the start of a campaign delayed the stamps and
  // bunched a second's arrivals into the next).
  let sandboxProcess: ChildProcess | undefined;
  let sandbox: SandboxControl;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    sandboxProcess = await startProcess({
      name: 'sandbox',
      script: 'dist/src/mitto-sandbox/main.js',
      env: { SANDBOX_PORT: String(port), SANDBOX_API_KEYS: SANDBOX_KEY, SANDBOX_REPORT_DELAY_MS: '60000', SANDBOX_WEBHOOK_URL: '' },
      ready: answers(`${url}/__sandbox/stats`),
    });
    sandbox = new SandboxControl(url);
    api = await startApp(
      { MITTO_BASE_URL: url, USE_BULK_SMS: 'true', SMS_BATCH_SIZE: '10', QUEUE_RATE_MAX: '100000', WORKER_CONCURRENCY: '5' },
      'api',
    );
    for (let i = 0; i < 3; i++) workers.push(await spawnApp({ ...api.env, APP_ROLE: 'worker' }));
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await stopProcess(w);
    await api?.close();
    if (sandboxProcess) await stopProcess(sandboxProcess);
  });

  async function seed(t: Awaited<ReturnType<typeof createTenant>>, size: number, offset: number, name: string): Promise<string> {
    const c = await t.api.post('/api/campaigns', { name, text: 'Limited' });
    const csv = ['phone', ...Array.from({ length: size }, (_, i) => phone(offset + i))].join('\n');
    const imported = await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' });
    expect(imported.body.accepted).toBe(size);
    return c.body.id;
  }

  it('never grants more than 20 req/s on one account and uses >= 95 % of it (3 processes, batches of 10)', async () => {
    await sandbox.reset();
    const t = await createTenant(api.url, { credits: 10_000, accountRateLimit: 20, rateLimitPerSecond: 1000 });
    const id = await seed(t, 5_000, 0, 'utilisation');
    const window = 1000 + DEFAULT_ARRIVAL_MARGIN_MS;
    const grants = new GrantLog(api.env.REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', t.trafficAccountId, t.tenantId, window);
    grants.start();
    // Stop watching whatever happens, without hiding the campaign's own failure behind the watcher's.
    const failure = await (async () => {
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      await waitFor(async () => (await t.api.get(`/api/campaigns/${id}/status`)).body.campaign.status === 'completed', 60_000, 500);
    })().then(() => undefined, (e: unknown) => e);
    const stamps = await grants.stop().catch((e: unknown) => {
      throw failure ?? e;
    });
    if (failure) throw failure;

    const perSecond = Object.entries((await sandbox.stats()).perSecondByApiKey[SANDBOX_KEY] ?? {})
      .map(([second, n]) => [Number(second), n] as const)
      .sort((a, b) => a[0] - b[0]);
    const requests = perSecond.reduce((sum, [, n]) => sum + n, 0);
    // Full seconds only: drop the first and last (partial) seconds of the campaign.
    const full = perSecond.slice(1, -1).map(([, n]) => n);
    const avg = full.reduce((a, b) => a + b, 0) / full.length;
    // The limit is asserted on the grants, which the three processes took from one Redis log: at most 20
    // in any window the limiter counts (the second plus its arrival margin). Arrivals at the sandbox are
    // logged, not asserted: on a saturated 2-core machine the sandbox's own event loop reads requests
    // late and bunches them into the next calendar second (docs/RATE_LIMITING.md, "Grant time and
    // arrival time"). One logged grant per request: no read missed one, and every request went out on a
    // grant the log counted (none on a fail-open grant that Redis never recorded).
    const busiest = busiestWindow(stamps, window * 1000);
    console.log(
      `grants: ${stamps.length} for ${requests} requests (${grants.givenBack} late ones given back), most in any ${window} ms ${busiest}; ` +
        `arrivals per calendar second: ${perSecond.map(([, n]) => n).join(' ')}, average of full seconds ${avg.toFixed(2)}`,
    );
    expect(requests).toBe(500);
    expect(stamps).toHaveLength(requests);
    expect(busiest).toBeLessThanOrEqual(20);
    expect(full.length).toBeGreaterThanOrEqual(20);
    expect(avg).toBeGreaterThanOrEqual(19);
  }, 120_000);

  it('a small campaign of another tenant on the same account is not stuck behind a large one', async () => {
    const admin = Api.admin(api.url);
    const acct = await admin.post('/api/admin/traffic-accounts', {
      name: 'shared', mittoTrafficAccountId: '4ae53d46-66d8-4aff-9f13-621f53b90000', defaultSender: 'ACME', rateLimitPerSecond: 100,
    });
    const a = await createTenant(api.url, { credits: 200_000, trafficAccountId: acct.body.id, rateLimitPerSecond: 50 });
    const b = await createTenant(api.url, { credits: 10_000, trafficAccountId: acct.body.id, rateLimitPerSecond: 50 });
    const big = await seed(a, 100_000, 1_000_000, 'big');
    const small = await seed(b, 1_000, 3_000_000, 'small');

    const started = Date.now();
    expect((await a.api.post(`/api/campaigns/${big}/enqueue`)).status).toBe(202);
    await waitFor(async () => (await a.api.get(`/api/campaigns/${big}/status`)).body.metrics.sent > 5_000, 60_000, 200);
    const smallStart = Date.now();
    expect((await b.api.post(`/api/campaigns/${small}/enqueue`)).status).toBe(202);
    await waitFor(async () => (await b.api.get(`/api/campaigns/${small}/status`)).body.campaign.status === 'completed', 60_000, 100);
    const smallSeconds = (Date.now() - smallStart) / 1000;
    const bigStatus = (await a.api.get(`/api/campaigns/${big}/status`)).body;
    console.log(`small campaign (100 batches) completed in ${smallSeconds.toFixed(1)} s while the big one was ${(bigStatus.progress * 100).toFixed(0)} % done (${((Date.now() - started) / 1000).toFixed(1)} s in)`);
    // 100 batches of 10 at tenant B's 50 req/s is 2 s of sending; behind A it would be ~200 s.
    expect(smallSeconds).toBeLessThan(10);
    expect(bigStatus.campaign.status).toBe('sending');
    await a.api.post(`/api/campaigns/${big}/cancel`);
  }, 180_000);
});

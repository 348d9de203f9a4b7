import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SANDBOX_KEY, startApp, startSandbox, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor } from './support/api.js';
import { SseReader } from './support/sse-reader.js';
import { startRedisCluster, type LocalRedisCluster } from './support/redis-cluster.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';
import { QUEUES } from '../src/queues/queue-names.js';
import { queueKeyPrefix } from '../src/queues/queues.module.js';
import { RateLimiterService } from '../src/rate-limiting/rate-limiter.service.js';
import { ReconciliationService } from '../src/status/reconciliation.service.js';
import { CampaignEventsHub } from '../src/status/campaign-events.hub.js';
import { CAMPAIGN_EVENTS_CHANNEL } from '../src/events/campaign-events.js';
import { RequestLimiter } from '../src/request-limits/request-limiter.service.js';
import { settledWithin } from '../src/common/settled-within.js';

/**
 * The app on a 3-master Redis Cluster of its own (REDIS_CLUSTER_NODES): every Redis user — queues and
 * their job scheduler, rate limiter, live events, refresh cursor, reconciliation lock, health, queue
 * dashboard — works, and keys with different hash tags land in different slots. The multi-process,
 * SIGKILL version is test/redis-cluster.chaos-spec.ts.
 */
const SIZE = 400;
const ACCOUNT_RPS = 10;

describe('Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let cluster: LocalRedisCluster;
  let sandbox: MittoSandbox;
  let app: TestApp;
  // startApp copies its settings into process.env; later test files must get the shared Redis back.
  const saved = { REDIS_URL: process.env.REDIS_URL, REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES };

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    const sbx = await startSandbox({ reportDelayMs: 600_000 });
    sandbox = sbx.sandbox;
    app = await startApp(
      { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_URL: 'redis://127.0.0.1:1', MITTO_BASE_URL: sbx.url, USE_BULK_SMS: 'true', SMS_BATCH_SIZE: '20' },
      'all',
      { ownDatabase: true },
    );
  }, 60_000);

  afterAll(async () => {
    // After the master-restart test the cluster may still be re-forming; the app's close then probably waits on
    // clients that queue their QUIT until the cluster is ready again (seen twice in about ten runs: > 120 s).
    // What this file tests is the app on a cluster, not its shutdown after losing a master's data: the
    // close gets 45 s, then the cluster goes away under it (--forceExit ends what is left).
    if (app && (await settledWithin(app.close(), 45_000)) === 'timeout') console.warn('app.close() did not finish in 45 s; stopping the cluster under it');
    await sandbox?.stop();
    await cluster?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }, 120_000);

  it('is ready with every master answering (REDIS_URL points nowhere and is not used)', async () => {
    const res = await fetch(`${app.url}/health/ready`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { info: Record<string, { status: string }> }).info.redis.status).toBe('up');
  });

  it('sends a campaign at the account limit, with live events, then refreshes it with a cursor', async () => {
    const t = await createTenant(app.url, { credits: SIZE, accountRateLimit: ACCOUNT_RPS });
    const c = await t.api.post('/api/campaigns', { name: 'on a cluster', text: 'Hello from a cluster' });
    const csv = ['phone', ...Array.from({ length: SIZE }, (_, i) => phone(i))].join('\n');
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' })).body.accepted).toBe(SIZE);

    const stream = await fetch(`${app.url}/api/campaigns/${c.body.id}/events`, { headers: { authorization: `Bearer ${t.apiKey}` } });
    const sse = new SseReader(stream.body!);
    expect((await sse.next())?.event).toBe('status');
    expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);
    // 20 bulk calls at 10/s: ~2 s. Only pub/sub through the cluster can produce several updates in
    // that time (without it the stream re-reads on its 15 s heartbeat).
    const started = Date.now();
    let updates = 0;
    let last;
    for (;;) {
      last = await sse.next(20_000);
      if (!last || last.event === 'end') break;
      updates++;
    }
    expect(last?.data.campaign.status).toBe('completed');
    expect(Date.now() - started).toBeLessThan(14_000);
    expect(updates).toBeGreaterThanOrEqual(3);

    const stats = sandbox.stats();
    expect(stats.accepted).toBe(SIZE);
    expect(stats.duplicateReferences).toBe(0);
    // The limiter ran on the cluster: it made batches wait for the account and never failed open.
    // (Per-second counts at the sandbox are the chaos spec's job: here the sandbox shares this
    // process's event loop with the app, which blurs arrival times.)
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^bulksms_rate_limit_fail_open_total 0$/m);
    expect(Number(/^bulksms_rate_limit_waits_total\{scope="account"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
    expect(Object.values(stats.perSecondByApiKey[SANDBOX_KEY] ?? {}).length).toBeGreaterThanOrEqual(SIZE / 20 / ACCOUNT_RPS);

    // The cursor of a partial refresh lives in the cluster; the next call continues after it.
    const cursor = () => cluster.client.get(`${app.env.QUEUE_PREFIX}:refresh-cursor:${c.body.id}`);
    const first = await t.api.post(`/api/campaigns/${c.body.id}/refresh-status?limit=10`);
    expect(first.body).toMatchObject({ checked: 10, errors: 0, remaining: SIZE - 10 });
    expect(await cursor()).toBe('9');
    await t.api.post(`/api/campaigns/${c.body.id}/refresh-status?limit=10`);
    expect(await cursor()).toBe('19');
  }, 60_000);

  it('puts each queue in its own slot, keeps each queue and each limiter account within one slot', async () => {
    const prefix = app.env.QUEUE_PREFIX;
    const slot = async (key: string) => Number(await cluster.client.cluster('KEYSLOT', key));
    const batches = queueKeyPrefix(prefix, QUEUES.batches);
    const control = queueKeyPrefix(prefix, QUEUES.campaigns);
    expect(await slot(batches)).not.toBe(await slot(control));
    // Every key of a queue is on the master of its tag (the sending above created them).
    for (const queuePrefix of [batches, control]) {
      const owner = await cluster.nodeOf(queuePrefix);
      for (const node of cluster.client.nodes('master')) {
        const [, keys] = await node.scan('0', 'MATCH', `${queuePrefix}:*`, 'COUNT', 10_000);
        const address = `${node.options.host}:${node.options.port}`;
        if (address === owner) expect(keys.length).toBeGreaterThan(0);
        else expect(keys).toEqual([]);
      }
    }
    const limiter = app.app.get(RateLimiterService);
    const one = limiter.keysFor('account-1', 'tenant-a');
    const slots = new Set(await Promise.all([one.account, one.tenant, one.pushback, limiter.keysFor('account-1', 'tenant-b').tenant].map(slot)));
    expect(slots.size).toBe(1);
    expect(await slot(limiter.keysFor('account-2', 'tenant-a').account)).not.toBe([...slots][0]);
  });

  it('counts the API request limit on the cluster, one key per budget spread over the masters', async () => {
    const t = await createTenant(app.url);
    const remaining = [];
    for (let i = 0; i < 3; i++) remaining.push(Number((await t.api.get('/api/me')).headers.get('ratelimit-remaining')));
    expect(remaining).toEqual([remaining[0], remaining[0] - 1, remaining[0] - 2]);
    // Counted in the cluster, not in the per-process fallback: the budgets are keys there, on several masters.
    const limiter = app.app.get(RequestLimiter);
    const keys = Array.from({ length: 24 }, (_, i) => `tenant:cluster-${i}`);
    for (const key of keys) await limiter.consume(key);
    const prefix = `${app.env.QUEUE_PREFIX}:api-limit:`;
    expect(await Promise.all(keys.map((k) => cluster.client.exists(prefix + k)))).toEqual(keys.map(() => 1));
    expect(new Set(await Promise.all(keys.map((k) => cluster.nodeOf(prefix + k)))).size).toBeGreaterThan(1);
  });

  it('runs the sweep scheduler, reconciliation lock and queue dashboard on the cluster', async () => {
    const control = app.app.get<Queue>(getQueueToken(QUEUES.campaigns));
    await waitFor(async () => (await control.getJobSchedulers()).some((s) => s.key === 'recovery-sweep'), 10_000);
    const reconciled = await app.app.get(ReconciliationService).reconcile();
    expect(reconciled.skipped).not.toBe('error');

    const board = await fetch(`${app.url}/admin/queues/api/queues`, { headers: { 'x-admin-api-key': app.env.ADMIN_API_KEY } });
    expect(board.status).toBe(200);
    const queues = ((await board.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name).sort();
    expect(queues).toEqual(['campaign-control', 'sms-batches']);
  });

  it('delivers an announcement published on any master to the subscriber', async () => {
    const hub = app.app.get(CampaignEventsHub);
    let heard = 0;
    const stop = await hub.listen('cluster-campaign', () => heard++);
    try {
      for (const port of cluster.ports) {
        const node = new Redis({ host: '127.0.0.1', port });
        await node.publish(CAMPAIGN_EVENTS_CHANNEL, 'cluster-campaign');
        await node.quit();
      }
      await waitFor(async () => heard === cluster.ports.length, 5_000, 20);
    } finally {
      stop();
    }
  });

  it('is not ready while a master is lost, and ready again once it is back', async () => {
    const ready = async (status: number) => {
      const res = await fetch(`${app.url}/health/ready`);
      return res.status === status ? ((await res.json()) as Record<string, any>) : undefined;
    };
    // The master that serves the batch queue: its loss is the one that matters most.
    const port = Number((await cluster.nodeOf(queueKeyPrefix(app.env.QUEUE_PREFIX, QUEUES.batches))).split(':')[1]);
    await cluster.killNode(port);
    expect((await waitFor(() => ready(503), 15_000, 100)).error.code).toBe('SERVICE_UNAVAILABLE');
    // Back on its port and cluster config (data lost): readiness and the workers recover, so the
    // app can shut down gracefully afterwards.
    await cluster.restartNode(port);
    expect((await waitFor(() => ready(200), 30_000, 200)).info.redis.status).toBe('up');
  }, 60_000);
});

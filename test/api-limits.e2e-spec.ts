import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { ADMIN_KEY, WEBHOOK_SECRET } from './support/test-app.js';
import { Api, createTenant, expectError, type ApiResponse, type TenantFixture } from './support/api.js';
import { migrateTestDatabase } from './support/test-database.js';
import { freePort, spawnApp, stopProcess } from './support/worker-process.js';

const LIMIT = 10;
const WINDOW_MS = 60_000;

/**
 * The API's own request limit across replicas: two API processes (the built app, as deployed) share one
 * deployment (QUEUE_PREFIX) and so one budget per key in Redis. A small limit and a long window make the
 * counts exact.
 */
describe('API request limits across two API processes', () => {
  const replicas: ChildProcess[] = [];
  const urls: string[] = [];
  let a: TenantFixture;
  let b: TenantFixture;

  beforeAll(async () => {
    await migrateTestDatabase(process.env.DATABASE_URL!);
    const env = {
      APP_ROLE: 'api',
      QUEUE_PREFIX: `t-${randomUUID().slice(0, 8)}`,
      ADMIN_API_KEY: ADMIN_KEY,
      MITTO_WEBHOOK_SECRET: WEBHOOK_SECRET,
      API_RATE_LIMIT: String(LIMIT),
      API_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
    };
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      replicas.push(await spawnApp({ ...env, PORT: String(port) }));
      urls.push(`http://127.0.0.1:${port}`);
    }
    // Three admin calls of the admin key's ten: one traffic account, two tenants.
    a = await createTenant(urls[0]);
    b = await createTenant(urls[1], { trafficAccountId: a.trafficAccountId });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => stopProcess(r)));
  });

  /** A tenant client on replica i % 2: requests alternate between the replicas, as behind a load balancer. */
  const on = (i: number, apiKey: string) => Api.tenant(urls[i % 2], apiKey);

  it('one budget per tenant key, shared by both replicas: the eleventh request gets 429 RATE_LIMITED with Retry-After', async () => {
    const answers: ApiResponse[] = [];
    for (let i = 0; i < LIMIT + 2; i++) answers.push(await on(i, a.apiKey).get('/api/me'));
    expect(answers.map((r) => r.status)).toEqual([...Array(LIMIT).fill(200), 429, 429]);
    expect(answers.slice(0, LIMIT).map((r) => Number(r.headers.get('ratelimit-remaining')))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);

    const refused = answers[LIMIT];
    expectError(refused, 429, 'RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(refused.body.error.details).toEqual({ retryAfterSeconds: retryAfter, limit: LIMIT, windowSeconds: WINDOW_MS / 1000 });
    expect(refused.headers.get('ratelimit-limit')).toBe(String(LIMIT));
  });

  it('a limited tenant never uses another tenant\'s budget', async () => {
    // A is over its limit on both replicas; B has its own ten.
    const flood = await Promise.all(Array.from({ length: 30 }, (_, i) => on(i, a.apiKey).get('/api/campaigns')));
    expect(new Set(flood.map((r) => r.status))).toEqual(new Set([429]));
    const bAnswers: number[] = [];
    for (let i = 0; i < LIMIT; i++) bAnswers.push((await on(i, b.apiKey).get('/api/me')).status);
    expect(bAnswers).toEqual(Array(LIMIT).fill(200));
  });

  it('a refused request is answered before authentication: an unknown key exhausts its own budget and then gets 429, not 401', async () => {
    const stranger = `sk_${randomUUID().replace(/-/g, '')}`;
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await on(i, stranger).get('/api/me')).status);
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
  });

  it('calls without a key are counted per client address (X-Forwarded-For from a trusted proxy)', async () => {
    const from = (address: string) => new Api(urls[0], { 'x-forwarded-for': address });
    const first: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) first.push((await from('198.51.100.7').get('/api/me')).status);
    expect(first).toEqual([...Array(LIMIT).fill(401), 429]);
    expect((await from('198.51.100.8').get('/api/me')).status).toBe(401);
  });

  it('the admin key has a budget of its own', async () => {
    const admin = Api.admin(urls[1]);
    const statuses: number[] = [];
    // Three of its ten went into creating the tenants.
    for (let i = 0; i < LIMIT - 3 + 1; i++) statuses.push((await admin.get('/api/admin/tenants')).status);
    expect(statuses).toEqual([...Array(LIMIT - 3).fill(200), 429]);
  });

  it('the delivery-report webhook, health, metrics and the docs are never limited', async () => {
    const hook = new Api(urls[0], { 'x-webhook-secret': WEBHOOK_SECRET });
    const report = [{ messageId: randomUUID(), deliveryStatus: 'Delivered' }];
    const statuses = new Set<number>();
    for (let i = 0; i < 3 * LIMIT; i++) {
      statuses.add((await hook.post('/api/webhooks/mitto/delivery-reports', report)).status);
      for (const path of ['/health/live', '/health/ready', '/metrics', '/api/docs-json']) statuses.add((await fetch(`${urls[i % 2]}${path}`)).status);
    }
    expect([...statuses]).toEqual([200]);
  });
});

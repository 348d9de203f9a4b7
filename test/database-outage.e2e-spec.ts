import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { ADMIN_KEY, WEBHOOK_SECRET } from './support/test-app.js';
import { Api, createTenant, expectError, phone, waitFor, type ApiResponse, type TenantFixture } from './support/api.js';
import { migrateTestDatabase } from './support/test-database.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { appOutput, freePort, spawnApp, stopProcess } from './support/worker-process.js';

/**
 * PostgreSQL going away under the API, and what the logs keep of it. The app runs as its own process (so
 * its whole log can be read) and reaches PostgreSQL through a private TCP proxy: stopping the proxy is
 * "PostgreSQL stopped" for the app without touching the shared server. Connections are also killed with
 * pg_terminate_backend while requests run. Every answer must be a normal one or 503 SERVICE_UNAVAILABLE,
 * and the log, written at trace level, must hold no phone number, text, variable, key or hash.
 */
describe('database outage and log hygiene', () => {
  const marker = randomUUID().slice(0, 8);
  const TEXT = `Hello {{name}}, secret offer TEXTMARK${marker}`;
  const VARIABLE = `VARMARK${marker}`;
  const PHONE_BASE = 5_550_000; // numbers +4179555xxxx; '79555' must never appear in the log
  const url = new URL(process.env.DATABASE_URL!);
  const proxy = new TcpProxy(Number(url.port || 5432), url.hostname);
  let admin: pg.Client;
  let app: ChildProcess;
  let base: string;
  let tenant: TenantFixture;
  let campaignId: string;

  beforeAll(async () => {
    await migrateTestDatabase(url.toString());
    const proxied = new URL(url);
    proxied.port = String(await proxy.start());
    const port = await freePort();
    app = await spawnApp(
      {
        APP_ROLE: 'api',
        PORT: String(port),
        DATABASE_URL: proxied.toString(),
        DATABASE_POOL_SIZE: '6',
        QUEUE_PREFIX: `t-${randomUUID().slice(0, 8)}`,
        ADMIN_API_KEY: ADMIN_KEY,
        MITTO_WEBHOOK_SECRET: WEBHOOK_SECRET,
        // This test hammers one tenant key on purpose; the request limit has its own test (api-limits).
        API_RATE_LIMIT: '1000000',
      },
      { logLevel: 'trace' },
    );
    base = `http://127.0.0.1:${port}`;
    tenant = await createTenant(base);
    const c = await tenant.api.post('/api/campaigns', { name: 'outage', text: TEXT });
    campaignId = c.body.id;
    admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    if (app) await stopProcess(app);
    await proxy.stop();
  });

  /** A mix of reads and writes that carry personal data (texts, numbers, variables). */
  function traffic(i: number): Promise<ApiResponse> {
    const t = tenant.api;
    const n = PHONE_BASE + (i % 9000);
    switch (i % 7) {
      case 0:
        return t.post('/api/campaigns', { name: `c${i}`, text: TEXT });
      case 1:
        return t.post(`/api/campaigns/${campaignId}/recipients`, {
          recipients: [0, 1, 2].map((k) => ({ phone: phone(n + k * 9000), variables: { name: VARIABLE } })),
        });
      case 2:
        return t.post('/api/suppressions', { phone: phone(n), reason: `reason ${VARIABLE}` });
      case 3:
        return t.delete(`/api/suppressions/${encodeURIComponent(phone(n))}`);
      case 4:
        return t.get(`/api/campaigns/${campaignId}/messages?limit=5`);
      case 5:
        return t.get(`/api/campaigns/${campaignId}/status`);
      default:
        return t.get('/api/me');
    }
  }

  it('pg_terminate_backend during requests: every answer is a normal one or 503 SERVICE_UNAVAILABLE, never 500', async () => {
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    const until = Date.now() + 4_000;
    let terminated = 0;
    const terminator = (async () => {
      while (Date.now() < until) {
        const r = await admin.query(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE datname = $1 AND application_name = 'bulk-sms' AND pid <> pg_backend_pid()`,
          [url.pathname.slice(1)],
        );
        terminated += r.rows[0].n;
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    let next = 0;
    const loops = Array.from({ length: 8 }, async () => {
      while (Date.now() < until) {
        const res = await traffic(next++);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) {
          try {
            expectError(res, 503, 'SERVICE_UNAVAILABLE');
          } catch (e) {
            unexpected.push((e as Error).message);
          }
        }
      }
    });
    await Promise.all([terminator, ...loops]);
    const summary = Object.fromEntries(statuses);
    // On failure, the app's own error lines say what it did not recognise.
    const errorLines = appOutput(app).split('\n').filter((l) => l.includes('"level":50')).slice(0, 5);
    expect({ unexpected: unexpected.slice(0, 5), summary, errorLines }).toEqual({ unexpected: [], summary, errorLines: [] });
    // The test really cut connections under running requests, and requests still got through.
    console.log(`pg_terminate_backend: ${terminated} connections killed; answers by status: ${JSON.stringify(summary)}`);
    expect(terminated).toBeGreaterThan(10);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect([...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(5);
  });

  it('PostgreSQL unreachable: every endpoint that needs it answers 503 SERVICE_UNAVAILABLE; all is well once it is back', async () => {
    const t = tenant.api;
    const a = Api.admin(base);
    const hook = new Api(base, { 'x-webhook-secret': WEBHOOK_SECRET });
    const id = campaignId;
    const someId = randomUUID();
    const calls: Array<[string, () => Promise<ApiResponse>]> = [
      ['GET /api/me', () => t.get('/api/me')],
      ['POST /api/campaigns', () => t.post('/api/campaigns', { name: 'x', text: TEXT })],
      ['GET /api/campaigns', () => t.get('/api/campaigns')],
      ['GET /api/campaigns/{id}', () => t.get(`/api/campaigns/${id}`)],
      ['PATCH /api/campaigns/{id}', () => t.patch(`/api/campaigns/${id}`, { name: 'y' })],
      ['DELETE /api/campaigns/{id}', () => t.delete(`/api/campaigns/${id}`)],
      ['POST /api/campaigns/{id}/recipients', () => t.post(`/api/campaigns/${id}/recipients`, { recipients: [{ phone: phone(PHONE_BASE) }] })],
      ['POST /api/campaigns/{id}/recipients (csv)', () => t.post(`/api/campaigns/${id}/recipients`, `phone\n${phone(PHONE_BASE)}\n`, { 'content-type': 'text/csv' })],
      ['GET /api/campaigns/{id}/estimate', () => t.get(`/api/campaigns/${id}/estimate`)],
      ['POST /api/campaigns/{id}/schedule', () => t.post(`/api/campaigns/${id}/schedule`, { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() })],
      ['POST /api/campaigns/{id}/enqueue', () => t.post(`/api/campaigns/${id}/enqueue`)],
      ['POST /api/campaigns/{id}/pause', () => t.post(`/api/campaigns/${id}/pause`)],
      ['POST /api/campaigns/{id}/resume', () => t.post(`/api/campaigns/${id}/resume`)],
      ['POST /api/campaigns/{id}/cancel', () => t.post(`/api/campaigns/${id}/cancel`)],
      ['GET /api/campaigns/{id}/status', () => t.get(`/api/campaigns/${id}/status`)],
      ['GET /api/campaigns/{id}/messages', () => t.get(`/api/campaigns/${id}/messages`)],
      ['POST /api/campaigns/{id}/refresh-status', () => t.post(`/api/campaigns/${id}/refresh-status`)],
      ['GET /api/campaigns/{id}/events', () => t.get(`/api/campaigns/${id}/events`)],
      ['GET /api/suppressions', () => t.get('/api/suppressions')],
      ['POST /api/suppressions', () => t.post('/api/suppressions', { phone: phone(PHONE_BASE) })],
      ['DELETE /api/suppressions/{phone}', () => t.delete(`/api/suppressions/${encodeURIComponent(phone(PHONE_BASE))}`)],
      ['POST /api/admin/traffic-accounts', () => a.post('/api/admin/traffic-accounts', { name: 'x', mittoTrafficAccountId: someId, defaultSender: 'ACME' })],
      ['GET /api/admin/traffic-accounts', () => a.get('/api/admin/traffic-accounts')],
      ['PATCH /api/admin/traffic-accounts/{id}', () => a.patch(`/api/admin/traffic-accounts/${tenant.trafficAccountId}`, { name: 'y' })],
      ['POST /api/admin/tenants', () => a.post('/api/admin/tenants', { name: 'x' })],
      ['GET /api/admin/tenants', () => a.get('/api/admin/tenants')],
      ['GET /api/admin/tenants/{id}', () => a.get(`/api/admin/tenants/${tenant.tenantId}`)],
      ['PATCH /api/admin/tenants/{id}', () => a.patch(`/api/admin/tenants/${tenant.tenantId}`, { name: 'y' })],
      ['POST /api/admin/tenants/{id}/credits', () => a.post(`/api/admin/tenants/${tenant.tenantId}/credits`, { amount: 5 })],
      ['POST /api/webhooks/mitto/delivery-reports', () => hook.post('/api/webhooks/mitto/delivery-reports', [{ messageId: someId, deliveryStatus: 'Delivered' }])],
    ];

    // "Every endpoint": the list above covers every operation of the document that reaches PostgreSQL.
    const doc = (await (await fetch(`${base}/api/docs-json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    const needDatabase = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })))
      .filter(({ key, op }) => (op.security ?? []).length > 0 && key !== 'GET /admin/queues')
      .map(({ key }) => key);
    const covered = new Set(calls.map(([name]) => name.replace(/ \(.*\)$/, '')));
    expect(needDatabase.filter((k) => !covered.has(k))).toEqual([]);

    await proxy.stop();
    try {
      const wrong: string[] = [];
      for (const [name, call] of calls) {
        const res = await call();
        try {
          expectError(res, 503, 'SERVICE_UNAVAILABLE');
        } catch (e) {
          wrong.push(`${name}: ${(e as Error).message}`);
        }
      }
      expect(wrong).toEqual([]);
      const ready = await new Api(base).get('/health/ready');
      expectError(ready, 503, 'SERVICE_UNAVAILABLE');
      expect(ready.body.error.details).toEqual({ unavailable: ['database'] });
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
    } finally {
      await proxy.start();
    }
    const back = await waitFor(async () => {
      const res = await t.get('/api/me');
      return res.status === 200 ? res : undefined;
    }, 20_000, 200);
    expect(back.body.id).toBe(tenant.tenantId);
  });

  it('the log of all this holds no phone number, text, variable, key, hash or SQL, yet tells what failed', () => {
    const log = appOutput(app);
    const keyHash = createHash('sha256').update(tenant.apiKey).digest('hex');
    const leaks = {
      apiKey: log.includes(tenant.apiKey),
      apiKeyHash: log.includes(keyHash),
      adminKey: log.includes(ADMIN_KEY),
      webhookSecret: log.includes(WEBHOOK_SECRET),
      text: log.includes(`TEXTMARK${marker}`),
      variable: log.includes(VARIABLE),
      phoneNumber: /79555\d{4}/.test(log),
      sql: /\b(INSERT INTO|SELECT .* FROM|UPDATE \w+ SET)\b/i.test(log),
      parameters: /"parameters"|"driverError"|"detail"/.test(log),
    };
    expect(leaks).toEqual(Object.fromEntries(Object.keys(leaks).map((k) => [k, false])));
    // It is not quiet because nothing was logged: the failures are there, by type and code.
    expect(log).toMatch(/dependency unavailable/);
    expect(log).toMatch(/"code":"57P01"|"code":"ECONNREFUSED"/);
    expect(log.length).toBeGreaterThan(10_000);
  });
});

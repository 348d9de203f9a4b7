import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ADMIN_KEY, startApp, startSandbox, type TestApp } from './support/test-app.js';
import { Api, createTenant, expectError, type TenantFixture } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/** Operations endpoints, OpenAPI document, authentication and the uniform error body. */
describe('API foundation', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;
  let tenant: TenantFixture;

  beforeAll(async () => {
    const sbx = await startSandbox();
    sandbox = sbx.sandbox;
    app = await startApp({ MITTO_BASE_URL: sbx.url });
    tenant = await createTenant(app.url, { credits: 100 });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  const raw = (path: string, init: RequestInit = {}) => fetch(`${app.url}${path}`, init);

  describe('health', () => {
    it('GET /health/live → 200', async () => {
      const res = await raw('/health/live');
      expect(res.status).toBe(200);
    });

    it('GET /health/ready → 200 with database and redis up', async () => {
      const res = await raw('/health/ready');
      expect(res.status).toBe(200);
      const body = (await res.json()) as any;
      expect(body.status).toBe('ok');
      expect(body.info?.database?.status).toBe('up');
      expect(body.info?.redis?.status).toBe('up');
    });
  });

  describe('OpenAPI', () => {
    it('GET /api/docs serves Swagger UI (HTML)', async () => {
      const res = await raw('/api/docs');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type') ?? '').toMatch(/text\/html/);
      expect(await res.text()).toMatch(/swagger/i);
    });

    it('GET /api/docs-json lists the contract paths', async () => {
      const res = await raw('/api/docs-json');
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { paths: Record<string, Record<string, any>> };
      const paths = Object.keys(doc.paths);
      const expected: Array<[string, string]> = [
        ['/api/admin/traffic-accounts', 'post'],
        ['/api/admin/tenants', 'post'],
        ['/api/admin/tenants/{id}', 'patch'],
        ['/api/admin/tenants/{id}/credits', 'post'],
        ['/api/me', 'get'],
        ['/api/campaigns', 'post'],
        ['/api/campaigns', 'get'],
        ['/api/campaigns/{id}', 'get'],
        ['/api/campaigns/{id}', 'patch'],
        ['/api/campaigns/{id}', 'delete'],
        ['/api/campaigns/{id}/recipients', 'post'],
        ['/api/campaigns/{id}/estimate', 'get'],
        ['/api/campaigns/{id}/schedule', 'post'],
        ['/api/campaigns/{id}/enqueue', 'post'],
        ['/api/campaigns/{id}/pause', 'post'],
        ['/api/campaigns/{id}/resume', 'post'],
        ['/api/campaigns/{id}/cancel', 'post'],
        ['/api/campaigns/{id}/status', 'get'],
        ['/api/campaigns/{id}/refresh-status', 'post'],
        ['/api/campaigns/{id}/messages', 'get'],
        ['/api/campaigns/{id}/events', 'get'],
        ['/api/suppressions', 'get'],
        ['/api/suppressions', 'post'],
        ['/api/webhooks/mitto/delivery-reports', 'post'],
      ];
      const missing = expected.filter(([p, m]) => !doc.paths[p]?.[m]).map(([p, m]) => `${m.toUpperCase()} ${p}`);
      expect({ missing, paths }).toEqual({ missing: [], paths });
      // The enqueue operation documents its error responses.
      const enqueue = doc.paths['/api/campaigns/{id}/enqueue'].post.responses;
      for (const status of ['202', '401', '402', '403', '404', '409', '422']) expect(Object.keys(enqueue)).toContain(status);
    });
  });

  describe('tenant authentication', () => {
    it('POST /api/campaigns without a key → 401 UNAUTHORIZED', async () => {
      const res = await new Api(app.url).post('/api/campaigns', { name: 'x', text: 'y' });
      expectError(res, 401, 'UNAUTHORIZED');
    });

    it('POST /api/campaigns with a wrong key → 401 UNAUTHORIZED', async () => {
      const res = await Api.tenant(app.url, 'sk_not-a-real-key').post('/api/campaigns', { name: 'x', text: 'y' });
      expectError(res, 401, 'UNAUTHORIZED');
    });

    it('a malformed Authorization header → 401', async () => {
      const res = await new Api(app.url, { authorization: `Basic ${tenant.apiKey}` }).get('/api/me');
      expectError(res, 401, 'UNAUTHORIZED');
    });
  });

  describe('validation and errors', () => {
    it('malformed JSON → 400 VALIDATION_FAILED', async () => {
      const res = await tenant.api.request('POST', '/api/campaigns', '{"name": "x", "text": ', { 'content-type': 'application/json' });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js:\d+|SyntaxError: Unexpected/);
    });

    it('an unknown field → 400 with details.fields naming it', async () => {
      const res = await tenant.api.post('/api/campaigns', { name: 'x', text: 'y', bogus: 1 });
      expectError(res, 400, 'VALIDATION_FAILED');
      const fields = res.body.error.details?.fields as Array<{ field: string; message: string }>;
      expect(Array.isArray(fields)).toBe(true);
      expect(fields.some((f) => f.field === 'bogus')).toBe(true);
    });

    it('wrong types → 400 listing every problem', async () => {
      const res = await tenant.api.post('/api/campaigns', { name: 5, text: '' });
      expectError(res, 400, 'VALIDATION_FAILED');
      const fields = (res.body.error.details?.fields ?? []) as Array<{ field: string }>;
      expect(fields.map((f) => f.field)).toEqual(expect.arrayContaining(['name', 'text']));
    });

    it('an unknown route → 404 NOT_FOUND body', async () => {
      const res = await tenant.api.get('/api/does-not-exist');
      expectError(res, 404, 'NOT_FOUND');
      const res2 = await new Api(app.url).get('/nothing/here');
      expectError(res2, 404, 'NOT_FOUND');
    });

    it('a body over 2 MB → 413 PAYLOAD_TOO_LARGE', async () => {
      const big = JSON.stringify({ name: 'big', text: 'x'.repeat(2 * 1024 * 1024 + 100) });
      const res = await tenant.api.request('POST', '/api/campaigns', big, { 'content-type': 'application/json' });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a body just under 2 MB is parsed (then validated)', async () => {
      const body = JSON.stringify({ name: 'big', text: 'x'.repeat(2 * 1024 * 1024 - 100) });
      const res = await tenant.api.request('POST', '/api/campaigns', body, { 'content-type': 'application/json' });
      expectError(res, 400, 'VALIDATION_FAILED'); // text is over 1600 characters
    });
  });

  describe('admin authentication', () => {
    // Every row has 3 entries: with fewer, jest.each would pass a `done` callback as `body`.
    const adminCalls: Array<[string, string, unknown]> = [
      ['POST', '/api/admin/traffic-accounts', { name: 'a', mittoTrafficAccountId: randomUUID(), defaultSender: 'ACME' }],
      ['GET', '/api/admin/traffic-accounts', undefined],
      ['POST', '/api/admin/tenants', { name: 't' }],
      ['GET', '/api/admin/tenants', undefined],
      ['GET', `/api/admin/tenants/${randomUUID()}`, undefined],
      ['PATCH', `/api/admin/tenants/${randomUUID()}`, { name: 'n' }],
      ['POST', `/api/admin/tenants/${randomUUID()}/credits`, { amount: 5 }],
    ];

    it.each(adminCalls)('%s %s without X-Admin-Api-Key → 401', async (method, path, body) => {
      const res = await new Api(app.url).request(method, path, body);
      expectError(res, 401, 'UNAUTHORIZED');
    });

    it.each(adminCalls)('%s %s with a wrong X-Admin-Api-Key → 401', async (method, path, body) => {
      const res = await new Api(app.url, { 'x-admin-api-key': `${ADMIN_KEY}-wrong` }).request(method, path, body);
      expectError(res, 401, 'UNAUTHORIZED');
    });

    it('a tenant key is not an admin key', async () => {
      const res = await tenant.api.get('/api/admin/tenants');
      expectError(res, 401, 'UNAUTHORIZED');
    });
  });

  describe('secrets', () => {
    it('the tenant API key is returned once, at creation only', async () => {
      const admin = Api.admin(app.url);
      const created = await admin.post('/api/admin/tenants', { name: 'once', credits: 7 });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'once', subscriptionStatus: 'active', credits: { balance: 7, reserved: 0 } });
      const key = created.body.apiKey as string;
      expect(typeof key).toBe('string');
      expect(key.length).toBeGreaterThanOrEqual(20);

      const one = await admin.get(`/api/admin/tenants/${created.body.id}`);
      expect(one.status).toBe(200);
      expect(one.body.apiKey).toBeUndefined();
      expect(JSON.stringify(one.body)).not.toContain(key);

      const list = await admin.get('/api/admin/tenants');
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.body)).not.toContain(key);
      expect(JSON.stringify(list.body)).not.toMatch(/apiKeyHash|api_key_hash/);

      const me = await Api.tenant(app.url, key).get('/api/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: created.body.id, name: 'once', subscriptionStatus: 'active', credits: { balance: 7, reserved: 0 } });
      expect(me.body.apiKey).toBeUndefined();
      expect(JSON.stringify(me.body)).not.toContain(key);

      const patched = await admin.patch(`/api/admin/tenants/${created.body.id}`, { name: 'renamed' });
      expect(patched.status).toBe(200);
      expect(patched.body.name).toBe('renamed');
      expect(JSON.stringify(patched.body)).not.toContain(key);
    });

    it('the traffic account API key is never returned', async () => {
      const admin = Api.admin(app.url);
      const secret = `mitto-secret-${randomUUID()}`;
      const created = await admin.post('/api/admin/traffic-accounts', {
        name: 'secret account',
        mittoTrafficAccountId: randomUUID(),
        apiKey: secret,
        defaultSender: 'ACME',
      });
      expect(created.status).toBe(201);
      expect(typeof created.body.id).toBe('string');
      expect(JSON.stringify(created.body)).not.toContain(secret);
      expect(created.body.apiKey).toBeUndefined();

      const list = await admin.get('/api/admin/traffic-accounts');
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.body)).not.toContain(secret);

      // Nor through a tenant on that account.
      const t = await createTenant(app.url, { trafficAccountId: created.body.id, credits: 1 });
      const me = await t.api.get('/api/me');
      expect(JSON.stringify(me.body)).not.toContain(secret);

      // Nor when the account is changed (rate-limit override, key rotation).
      const rotated = `mitto-secret-${randomUUID()}`;
      const patched = await admin.patch(`/api/admin/traffic-accounts/${created.body.id}`, { rateLimitPerSecond: 25, apiKey: rotated });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id: created.body.id, rateLimitPerSecond: 25, hasOwnApiKey: true });
      expect(JSON.stringify(patched.body)).not.toContain(rotated);
      expect((await admin.patch(`/api/admin/traffic-accounts/${randomUUID()}`, { rateLimitPerSecond: 5 })).status).toBe(404);
      expect((await admin.patch(`/api/admin/traffic-accounts/${created.body.id}`, { rateLimitPerSecond: 0 })).status).toBe(400);
    });
  });
});

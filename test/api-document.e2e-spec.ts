import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { createBulkSmsClient } from '../client/index.js';
import { ADMIN_KEY, startApp, type TestApp } from './support/test-app.js';

type Operation = {
  operationId: string;
  summary?: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType>; headers?: Record<string, unknown> }>;
};
type MediaType = { example?: unknown; examples?: Record<string, unknown> };
type Document = { servers?: Array<{ url: string }>; info: { license?: { name: string } }; paths: Record<string, Record<string, Operation>> };

/**
 * The OpenAPI document the running app serves: complete (what the contract requires of it), identical to
 * the committed client/openapi.json and client/schema.d.ts, and usable through the typed client.
 */
describe('OpenAPI document and typed client', () => {
  let app: TestApp;
  let doc: Document;
  let ops: Array<{ key: string; op: Operation }>;

  beforeAll(async () => {
    app = await startApp({}, 'api');
    doc = (await (await fetch(`${app.url}/api/docs-json`)).json()) as Document;
    ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('client/openapi.json and client/schema.d.ts are what the running app generates (regenerated and compared)', async () => {
    // Asynchronously: the app under test runs in this process and must answer the script's request.
    const check = await promisify(execFile)(process.execPath, ['scripts/api-client.mjs', '--check', app.url]).then(
      ({ stdout }) => ({ ok: true, output: stdout.trim() }),
      (e: { stderr?: string; stdout?: string }) => ({ ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}`.replace(/^.*[║╔╚].*$\n?/gm, '').trim() }),
    );
    expect(check).toEqual({ ok: true, output: expect.stringMatching(/match the document served/) });
  });

  it('every operation has a summary and a description; every body and answer an example', () => {
    const missing: string[] = [];
    for (const { key, op } of ops) {
      if (!op.summary) missing.push(`${key}: summary`);
      if (!op.description) missing.push(`${key}: description`);
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (media.example === undefined && !media.examples) missing.push(`${key}: ${type} body example`);
      }
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          if (media.example === undefined && !media.examples) missing.push(`${key}: ${status} ${type} example`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(ops.length).toBeGreaterThanOrEqual(35);
  });

  it('has servers and a licence; public operations say security: []; the rest name their scheme', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.license?.name).toBeTruthy();
    const publicOps = ops.filter(({ op }) => Array.isArray(op.security) && op.security.length === 0).map(({ key }) => key);
    expect(publicOps.sort()).toEqual(['GET /api/docs', 'GET /api/docs-json', 'GET /health/live', 'GET /health/ready', 'GET /metrics']);
    expect(ops.filter(({ op }) => op.security === undefined).map(({ key }) => key)).toEqual([]);
  });

  it('lists the errors the contract gives each operation', () => {
    const common = { tenant: ['401', '429', '503'], admin: ['401', '429', '503'] };
    const expected: Record<string, string[]> = {
      'GET /api/me': common.tenant,
      'POST /api/campaigns': [...common.tenant, '400', '413'],
      'GET /api/campaigns': [...common.tenant, '400'],
      'GET /api/campaigns/{id}': [...common.tenant, '404'],
      'PATCH /api/campaigns/{id}': [...common.tenant, '400', '404', '409', '413'],
      'DELETE /api/campaigns/{id}': [...common.tenant, '404', '409'],
      'POST /api/campaigns/{id}/recipients': [...common.tenant, '400', '404', '409', '413', '415'],
      'GET /api/campaigns/{id}/estimate': [...common.tenant, '404'],
      'POST /api/campaigns/{id}/schedule': [...common.tenant, '400', '404', '409', '413'],
      'POST /api/campaigns/{id}/enqueue': [...common.tenant, '402', '403', '404', '409', '422'],
      'POST /api/campaigns/{id}/pause': [...common.tenant, '404', '409'],
      'POST /api/campaigns/{id}/resume': [...common.tenant, '404', '409'],
      'POST /api/campaigns/{id}/cancel': [...common.tenant, '404', '409'],
      'GET /api/campaigns/{id}/status': [...common.tenant, '404'],
      'POST /api/campaigns/{id}/refresh-status': [...common.tenant, '400', '404'],
      'GET /api/campaigns/{id}/messages': [...common.tenant, '400', '404'],
      'GET /api/campaigns/{id}/events': [...common.tenant, '404'],
      'GET /api/suppressions': [...common.tenant, '400'],
      'POST /api/suppressions': [...common.tenant, '400', '413'],
      'DELETE /api/suppressions/{phone}': [...common.tenant, '400', '404'],
      'POST /api/admin/traffic-accounts': [...common.admin, '400', '413'],
      'POST /api/admin/tenants': [...common.admin, '400', '413'],
      'PATCH /api/admin/tenants/{id}': [...common.admin, '400', '404', '413'],
      'POST /api/admin/tenants/{id}/credits': [...common.admin, '400', '404', '413'],
      'POST /api/webhooks/mitto/delivery-reports': ['400', '401', '413', '503'],
    };
    const byKey = new Map(ops.map(({ key, op }) => [key, op]));
    const gaps = Object.entries(expected).flatMap(([key, statuses]) => {
      const op = byKey.get(key);
      if (!op) return [`${key}: missing`];
      return statuses.filter((s) => !op.responses[s]).map((s) => `${key}: no ${s}`);
    });
    expect(gaps).toEqual([]);
  });

  it('documents 429 (with Retry-After) on every limited operation and on no other', () => {
    const limited = ops.filter(({ op }) => op.responses['429']).map(({ key }) => key);
    const shouldBe = ops
      .filter(({ key }) => key.includes(' /api/') && !key.includes('/webhooks/') && !key.includes('/api/docs'))
      .map(({ key }) => key);
    expect(limited.sort()).toEqual(shouldBe.sort());
    for (const { op } of ops.filter(({ op }) => op.responses['429'])) expect(op.responses['429'].headers?.['Retry-After']).toBeTruthy();
  });

  it('the typed client drives the API: admin creates a tenant, the tenant a campaign; errors come typed', async () => {
    const admin = createBulkSmsClient({ baseUrl: app.url, adminKey: ADMIN_KEY });
    const account = await admin.POST('/api/admin/traffic-accounts', {
      body: { name: 'typed', mittoTrafficAccountId: randomUUID(), defaultSender: 'ACME' },
    });
    expect(account.response.status).toBe(201);
    const created = await admin.POST('/api/admin/tenants', { body: { name: 'typed tenant', trafficAccountId: account.data!.id, credits: 100 } });
    expect(created.data?.credits.balance).toBe(100);

    const api = createBulkSmsClient({ baseUrl: app.url, apiKey: created.data!.apiKey });
    const campaign = await api.POST('/api/campaigns', { body: { name: 'typed', text: 'Hi {{name}}' } });
    expect(campaign.data?.status).toBe('draft');
    const added = await api.POST('/api/campaigns/{id}/recipients', {
      params: { path: { id: campaign.data!.id } },
      body: { recipients: [{ phone: '+41791234567', variables: { name: 'Anna' } }] },
    });
    expect(added.data?.accepted).toBe(1);
    const status = await api.GET('/api/campaigns/{id}/status', { params: { path: { id: campaign.data!.id } } });
    expect(status.data?.metrics.total).toBe(1);

    const missing = await api.GET('/api/campaigns/{id}', { params: { path: { id: randomUUID() } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('NOT_FOUND');
  });
});

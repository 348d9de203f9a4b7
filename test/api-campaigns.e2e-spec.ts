import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startApp, startSandbox, type TestApp } from './support/test-app.js';
import { Api, allMessages, createTenant, expectError, phone, waitForCampaign, type TenantFixture } from './support/api.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/** Campaign CRUD, tenant isolation, estimates, recipient imports (JSON and a 100k-row CSV) and enqueue checks. */
describe('campaigns API', () => {
  let app: TestApp;
  let sandbox: MittoSandbox;
  let admin: Api;

  beforeAll(async () => {
    const sbx = await startSandbox();
    sandbox = sbx.sandbox;
    app = await startApp({
      MITTO_BASE_URL: sbx.url,
      USE_BULK_SMS: 'true',
      SMS_BATCH_SIZE: '100',
      RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '1000',
      RATE_LIMIT_TENANT_MAX: '1000',
      QUEUE_RATE_MAX: '1000',
    });
    admin = Api.admin(app.url);
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
  });

  async function newCampaign(t: TenantFixture, body: Record<string, unknown> = {}) {
    const res = await t.api.post('/api/campaigns', { name: 'c', text: 'Hello there', ...body });
    expect(res.status).toBe(201);
    return res.body as { id: string; [k: string]: any };
  }

  async function addRecipients(t: TenantFixture, id: string, recipients: unknown[]) {
    const res = await t.api.post(`/api/campaigns/${id}/recipients`, { recipients });
    expect(res.status).toBe(200);
    return res.body;
  }

  describe('CRUD', () => {
    let t: TenantFixture;
    beforeAll(async () => {
      t = await createTenant(app.url, { credits: 1000 });
    });

    it('POST creates a draft; GET returns it; PATCH edits it; DELETE removes it (204, then 404)', async () => {
      const created = await t.api.post('/api/campaigns', { name: 'Spring sale', text: 'Hi {{name}}, 20% off', sender: 'SHOP' });
      expect(created.status).toBe(201);
      const c = created.body;
      expect(c).toMatchObject({
        name: 'Spring sale',
        text: 'Hi {{name}}, 20% off',
        sender: 'SHOP',
        status: 'draft',
        scheduledAt: null,
        startedAt: null,
        completedAt: null,
      });
      expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(c.createdAt).toISOString()).toBe(c.createdAt);
      expect(new Date(c.updatedAt).toISOString()).toBe(c.updatedAt);
      expect(c.metrics).toMatchObject({ total: 0, queued: 0, sent: 0, delivered: 0, failed: 0 });

      const got = await t.api.get(`/api/campaigns/${c.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: c.id, name: 'Spring sale', status: 'draft' });

      const patched = await t.api.patch(`/api/campaigns/${c.id}`, { name: 'Summer sale', text: 'Hello {{name}}' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id: c.id, name: 'Summer sale', text: 'Hello {{name}}', sender: 'SHOP', status: 'draft' });
      expect((await t.api.get(`/api/campaigns/${c.id}`)).body.name).toBe('Summer sale');

      const badPatch = await t.api.patch(`/api/campaigns/${c.id}`, { status: 'sending' });
      expectError(badPatch, 400, 'VALIDATION_FAILED');

      const del = await t.api.delete(`/api/campaigns/${c.id}`);
      expect(del.status).toBe(204);
      expectError(await t.api.get(`/api/campaigns/${c.id}`), 404, 'NOT_FOUND');
      expectError(await t.api.delete(`/api/campaigns/${c.id}`), 404, 'NOT_FOUND');
    });

    it('POST validates the body (missing text, bad sender) → 400 with details.fields', async () => {
      const res = await t.api.post('/api/campaigns', { name: 'x', sender: 'this sender is far too long' });
      expectError(res, 400, 'VALIDATION_FAILED');
      const fields = (res.body.error.details.fields as Array<{ field: string }>).map((f) => f.field);
      expect(fields).toEqual(expect.arrayContaining(['text', 'sender']));
    });

    it('lists with pagination and a status filter', async () => {
      const t2 = await createTenant(app.url, { credits: 10 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await newCampaign(t2, { name: `p${i}` })).id);
      const cancelled = await t2.api.post(`/api/campaigns/${ids[0]}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');

      const seen: string[] = [];
      for (const [page, size] of [[1, 2], [2, 2], [3, 1], [4, 0]]) {
        const res = await t2.api.get(`/api/campaigns?page=${page}&limit=2`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ total: 5, page, limit: 2 });
        expect(res.body.items).toHaveLength(size);
        seen.push(...res.body.items.map((c: any) => c.id));
      }
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen).toHaveLength(5);

      const drafts = await t2.api.get('/api/campaigns?status=draft');
      expect(drafts.status).toBe(200);
      expect(drafts.body.total).toBe(4);
      expect(drafts.body.items.every((c: any) => c.status === 'draft')).toBe(true);
      const cancelledList = await t2.api.get('/api/campaigns?status=cancelled');
      expect(cancelledList.body.total).toBe(1);
      expect(cancelledList.body.items.map((c: any) => c.id)).toEqual([ids[0]]);

      expectError(await t2.api.get('/api/campaigns?status=bogus'), 400, 'VALIDATION_FAILED');
      expectError(await t2.api.get('/api/campaigns?limit=0'), 400, 'VALIDATION_FAILED');
      expectError(await t2.api.get('/api/campaigns?page=abc'), 400, 'VALIDATION_FAILED');
    });

    it('PATCH and DELETE are refused outside their states → 409 INVALID_CAMPAIGN_STATE with details.status', async () => {
      const c = await newCampaign(t);
      expect((await t.api.post(`/api/campaigns/${c.id}/cancel`)).status).toBe(200);
      const patch = await t.api.patch(`/api/campaigns/${c.id}`, { name: 'nope' });
      expectError(patch, 409, 'INVALID_CAMPAIGN_STATE');
      expect(patch.body.error.details).toMatchObject({ status: 'cancelled' });
      const del = await t.api.delete(`/api/campaigns/${c.id}`);
      expectError(del, 409, 'INVALID_CAMPAIGN_STATE');
      expect(del.body.error.details).toMatchObject({ status: 'cancelled' });

      // A scheduled campaign can be edited but not deleted.
      const s = await newCampaign(t);
      const scheduled = await t.api.post(`/api/campaigns/${s.id}/schedule`, { scheduledAt: new Date(Date.now() + 3_600_000).toISOString() });
      expect(scheduled.status).toBe(200);
      const edit = await t.api.patch(`/api/campaigns/${s.id}`, { name: 'edited while scheduled' });
      expect(edit.status).toBe(200);
      expect(edit.body).toMatchObject({ name: 'edited while scheduled', status: 'scheduled' });
      const delScheduled = await t.api.delete(`/api/campaigns/${s.id}`);
      expectError(delScheduled, 409, 'INVALID_CAMPAIGN_STATE');
      expect(delScheduled.body.error.details).toMatchObject({ status: 'scheduled' });
      expect((await t.api.post(`/api/campaigns/${s.id}/cancel`)).status).toBe(200);

      // A sending / completed campaign cannot be edited.
      const e = await newCampaign(t);
      await addRecipients(t, e.id, [{ phone: phone(9_000_001) }]);
      expect((await t.api.post(`/api/campaigns/${e.id}/enqueue`)).status).toBe(202);
      const patchSending = await t.api.patch(`/api/campaigns/${e.id}`, { text: 'changed' });
      expectError(patchSending, 409, 'INVALID_CAMPAIGN_STATE');
      expect(['sending', 'completed']).toContain(patchSending.body.error.details.status);
      const recipientsLate = await t.api.post(`/api/campaigns/${e.id}/recipients`, { recipients: [{ phone: phone(9_000_002) }] });
      expectError(recipientsLate, 409, 'INVALID_CAMPAIGN_STATE');
    });

    it('a malformed uuid in the path → 404 NOT_FOUND', async () => {
      for (const path of ['/api/campaigns/not-a-uuid', '/api/campaigns/123/status', '/api/campaigns/x/messages', '/api/campaigns/%27%20OR%201=1/estimate']) {
        expectError(await t.api.get(path), 404, 'NOT_FOUND');
      }
      expectError(await t.api.post('/api/campaigns/not-a-uuid/enqueue'), 404, 'NOT_FOUND');
      expectError(await t.api.patch('/api/campaigns/not-a-uuid', { name: 'x' }), 404, 'NOT_FOUND');
      expectError(await t.api.delete('/api/campaigns/not-a-uuid'), 404, 'NOT_FOUND');
      expectError(await t.api.get(`/api/campaigns/${randomUUID()}`), 404, 'NOT_FOUND');
    });
  });

  describe('tenant isolation', () => {
    it("tenant B sees A's campaign exactly like a missing one, and never in its list", async () => {
      const a = await createTenant(app.url, { credits: 100 });
      const b = await createTenant(app.url, { credits: 100 });
      const c = await newCampaign(a, { name: 'A only' });
      await addRecipients(a, c.id, [{ phone: phone(8_000_001) }]);

      const calls: Array<[string, string, unknown]> = [
        ['GET', `/api/campaigns/${c.id}`, undefined],
        ['PATCH', `/api/campaigns/${c.id}`, { name: 'hijacked' }],
        ['DELETE', `/api/campaigns/${c.id}`, undefined],
        ['POST', `/api/campaigns/${c.id}/enqueue`, undefined],
        ['GET', `/api/campaigns/${c.id}/status`, undefined],
        ['GET', `/api/campaigns/${c.id}/messages`, undefined],
        ['GET', `/api/campaigns/${c.id}/estimate`, undefined],
        ['POST', `/api/campaigns/${c.id}/recipients`, { recipients: [{ phone: phone(8_000_002) }] }],
        ['POST', `/api/campaigns/${c.id}/schedule`, { scheduledAt: new Date(Date.now() + 3_600_000).toISOString() }],
        ['POST', `/api/campaigns/${c.id}/pause`, undefined],
        ['POST', `/api/campaigns/${c.id}/resume`, undefined],
        ['POST', `/api/campaigns/${c.id}/cancel`, undefined],
      ];
      for (const [method, path, body] of calls) {
        const res = await b.api.request(method, path, body);
        try {
          expectError(res, 404, 'NOT_FOUND');
        } catch (e) {
          throw new Error(`${method} ${path}: ${(e as Error).message}`, { cause: e });
        }
      }
      const csv = await b.api.request('POST', `/api/campaigns/${c.id}/recipients`, `phone\n${phone(8_000_003)}\n`, { 'content-type': 'text/csv' });
      expectError(csv, 404, 'NOT_FOUND');

      const list = await b.api.get('/api/campaigns');
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(0);
      expect(list.body.items).toEqual([]);

      // A's campaign is untouched.
      const mine = await a.api.get(`/api/campaigns/${c.id}`);
      expect(mine.body).toMatchObject({ name: 'A only', status: 'draft' });
      expect(mine.body.metrics.total).toBe(1);
      expect((await a.api.get('/api/campaigns')).body.total).toBe(1);
    });
  });

  describe('estimate', () => {
    let t: TenantFixture;
    let n = 0;
    beforeAll(async () => {
      t = await createTenant(app.url, { credits: 1000 });
    });

    async function estimateFor(text: string, recipients: Array<{ phone: string; variables?: Record<string, string> }> = [{ phone: phone(7_000_000 + n++) }]) {
      const c = await newCampaign(t, { text });
      const imported = await addRecipients(t, c.id, recipients);
      expect(imported).toMatchObject({ accepted: recipients.length, invalid: 0 });
      const res = await t.api.get(`/api/campaigns/${c.id}/estimate`);
      expect(res.status).toBe(200);
      return res.body;
    }

    it("a text with 'ü' is GSM-7", async () => {
      const e = await estimateFor('Grüezi Müller, schöne Grüße');
      expect(e).toMatchObject({ recipients: 1, segments: 1, credits: 1, encoding: 'GSM-7', nonGsmCharacters: [] });
    });

    it("'€' is GSM-7 but counts two septets", async () => {
      expect(await estimateFor('€'.repeat(80))).toMatchObject({ segments: 1, encoding: 'GSM-7', nonGsmCharacters: [] });
      expect(await estimateFor('€'.repeat(81))).toMatchObject({ segments: 2, encoding: 'GSM-7', nonGsmCharacters: [] });
      expect(await estimateFor(`${'a'.repeat(159)}€`)).toMatchObject({ segments: 2, encoding: 'GSM-7' });
    });

    it('160 GSM characters are one segment, 161 are two', async () => {
      expect(await estimateFor('a'.repeat(160))).toMatchObject({ segments: 1, credits: 1, encoding: 'GSM-7' });
      expect(await estimateFor('a'.repeat(161))).toMatchObject({ segments: 2, credits: 2, encoding: 'GSM-7' });
      expect(await estimateFor('a'.repeat(306))).toMatchObject({ segments: 2 });
      expect(await estimateFor('a'.repeat(307))).toMatchObject({ segments: 3 });
    });

    it("'ć' forces UCS-2 and is listed", async () => {
      const e = await estimateFor('Dobar dan, ćao');
      expect(e).toMatchObject({ segments: 1, encoding: 'UCS-2', nonGsmCharacters: ['ć'] });
      expect(await estimateFor(`ć${'a'.repeat(69)}`)).toMatchObject({ segments: 1, encoding: 'UCS-2' });
      expect(await estimateFor(`ć${'a'.repeat(70)}`)).toMatchObject({ segments: 2, encoding: 'UCS-2' });
    });

    it('an emoji forces UCS-2 and is listed', async () => {
      const e = await estimateFor('Party time 🎉');
      expect(e.encoding).toBe('UCS-2');
      expect(e.nonGsmCharacters).toEqual(['🎉']);
      expect(e.segments).toBe(1);
    });

    it('a personalised text is counted per recipient (segments, encoding mixed)', async () => {
      const base = 'Hi {{name}}! ' + 'x'.repeat(140); // 145 + name length characters
      const e = await estimateFor(base, [
        { phone: phone(7_100_001), variables: { name: 'Al' } }, // 147 GSM → 1 segment
        { phone: phone(7_100_002), variables: { name: 'Maximilian-Alexander' } }, // 165 GSM → 2 segments
        { phone: phone(7_100_003), variables: { name: 'Ćiril' } }, // 150 UCS-2 → 3 segments
      ]);
      expect(e).toMatchObject({ recipients: 3, segments: 6, credits: 6, encoding: 'mixed', nonGsmCharacters: ['Ć'] });
    });
  });

  describe('recipients import', () => {
    it('JSON: normalises, drops and counts duplicates, reports invalid rows, counts suppressed numbers', async () => {
      const t = await createTenant(app.url, { credits: 1000 });
      const suppressedPhone = phone(6_000_009);
      const sup = await t.api.post('/api/suppressions', { phone: suppressedPhone, reason: 'STOP' });
      expect(sup.status).toBe(201);

      const c = await newCampaign(t, { text: 'Hi {{name}}' });
      const res = await t.api.post(`/api/campaigns/${c.id}/recipients`, {
        recipients: [
          { phone: phone(6_000_001), variables: { name: 'A' } }, // row 1 ok
          { phone: phone(6_000_002), variables: { name: 'B' } }, // row 2 ok
          { phone: phone(6_000_001), variables: { name: 'A again' } }, // row 3 duplicate
          { phone: 'not a phone', variables: { name: 'C' } }, // row 4 invalid
          { phone: '+41 79 600 00 03', variables: { name: 'D' } }, // row 5 ok (formatted)
          { phone: '123', variables: { name: 'E' } }, // row 6 invalid
          { phone: suppressedPhone, variables: { name: 'F' } }, // row 7 suppressed
          { phone: phone(6_000_004) }, // row 8 missing variable
          { phone: '079 600 00 02', variables: { name: 'B national' } }, // row 9 duplicate of row 2 (national format)
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 3, duplicates: 2, invalid: 3, suppressed: 1 });
      const samples = res.body.invalidSamples as Array<{ row: number; phone: string; reason: string }>;
      expect(samples.map((s) => s.row)).toEqual([4, 6, 8]);
      expect(samples[0]).toMatchObject({ row: 4, phone: 'not a phone' });
      expect(samples[0].reason).toMatch(/^[A-Z_]+/);
      expect(samples[1]).toMatchObject({ row: 6, phone: '123' });
      expect(samples[2].row).toBe(8);
      expect(samples[2].reason).toMatch(/^MISSING_VARIABLE/);
      expect(samples[2].reason).toContain('name');

      // A second upload of a number already in the campaign counts as a duplicate.
      const again = await t.api.post(`/api/campaigns/${c.id}/recipients`, { recipients: [{ phone: phone(6_000_002), variables: { name: 'x' } }] });
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 1, invalid: 0 });

      // Wrong body shapes → 400.
      expectError(await t.api.post(`/api/campaigns/${c.id}/recipients`, { recipients: 'nope' }), 400, 'VALIDATION_FAILED');
      expectError(await t.api.post(`/api/campaigns/${c.id}/recipients`, { recipients: [{ phone: 41791234567 }] }), 400, 'VALIDATION_FAILED');
      expectError(await t.api.post(`/api/campaigns/${c.id}/recipients`, { recipients: [], extra: 1 }), 400, 'VALIDATION_FAILED');

      const est = await t.api.get(`/api/campaigns/${c.id}/estimate`);
      expect(est.body).toMatchObject({ recipients: 3, segments: 3, credits: 3 });

      // A number suppressed after the import is not sent either.
      const lateSuppressed = phone(6_000_003);
      expect((await t.api.post('/api/suppressions', { phone: lateSuppressed })).status).toBe(201);

      const enq = await t.api.post(`/api/campaigns/${c.id}/enqueue`);
      expect(enq.status).toBe(202);
      const done = await waitForCampaign(t.api, c.id, (s) => s.campaign.status === 'completed', 20_000);
      expect(done.metrics.sent + done.metrics.delivered).toBe(2);
      expect(sandbox.messagesFor(suppressedPhone)).toHaveLength(0);
      expect(sandbox.messagesFor(lateSuppressed)).toHaveLength(0);
      expect(sandbox.messagesFor(phone(6_000_001))).toHaveLength(1);
      expect(sandbox.messagesFor(phone(6_000_001))[0].text).toBe('Hi A');
      expect(sandbox.messagesFor(phone(6_000_002))).toHaveLength(1);
      const msgs = await allMessages(t.api, c.id);
      expect(msgs.find((m) => m.phone === lateSuppressed)?.status).toBe('skipped');
      const me = await t.api.get('/api/me');
      expect(me.body.credits).toEqual({ balance: 998, reserved: 0 });
    });

    it('CSV: 100,000 rows in one request with duplicates and invalid rows', async () => {
      const t = await createTenant(app.url, { credits: 1000 });
      const c = await newCampaign(t, { text: 'Hi {{name}}, code {{code}}' });
      const ROWS = 100_000;
      const lines: string[] = ['phone,name,code'];
      const expectedInvalidRows: number[] = [];
      let unique = 0;
      let dups = 0;
      let invalid = 0;
      for (let i = 0; i < ROWS; i++) {
        const line = i + 2; // header is line 1
        if (i % 200 === 7) {
          lines.push(`not-a-number-${i},N${i},C${i}`);
          invalid++;
          expectedInvalidRows.push(line);
        } else if (i % 200 === 11) {
          lines.push(`${phone(1_000_000 + i - 5)},Dup${i},C${i}`); // an earlier row's number
          dups++;
        } else if (i % 1000 === 13) {
          lines.push(`${phone(1_000_000 + i)},,C${i}`); // blank name: MISSING_VARIABLE
          invalid++;
          expectedInvalidRows.push(line);
        } else if (i % 1000 === 17) {
          lines.push(`${phone(1_000_000 + i)},N${i}`); // a column short
          invalid++;
          expectedInvalidRows.push(line);
        } else {
          lines.push(`${phone(1_000_000 + i)},N${i},C${i}`);
          unique++;
        }
      }
      const body = lines.join('\n') + '\n';
      const started = performance.now();
      const res = await t.api.request('POST', `/api/campaigns/${c.id}/recipients`, body, { 'content-type': 'text/csv' });
      const ms = performance.now() - started;
      console.log(
        `CSV import: ${ROWS} rows (${(body.length / 1e6).toFixed(1)} MB) in ${ms.toFixed(0)} ms = ${Math.round(ROWS / (ms / 1000))} rows/s`,
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: unique, duplicates: dups, invalid, suppressed: 0 });
      expect(unique).toBe(98_800);
      expect(dups).toBe(500);
      expect(invalid).toBe(700);
      expect(res.body.invalidSamples).toHaveLength(100);
      expect(res.body.invalidSamples.map((s: any) => s.row)).toEqual(expectedInvalidRows.slice(0, 100));
      expect(res.body.invalidSamples[0]).toMatchObject({ row: 9, phone: 'not-a-number-7' });
      expect(res.body.invalidSamples[1].row).toBe(15);
      expect(res.body.invalidSamples[1].reason).toMatch(/^MISSING_VARIABLE/);
      expect(res.body.invalidSamples[2].row).toBe(19);

      const est = await t.api.get(`/api/campaigns/${c.id}/estimate`);
      expect(est.body).toMatchObject({ recipients: 98_800, encoding: 'GSM-7' });
      const status = await t.api.get(`/api/campaigns/${c.id}/status`);
      expect(status.body.metrics).toMatchObject({ total: 98_800, queued: 98_800 });
    }, 60_000);

    it('CSV without a phone column → 400; an unsupported content type → 415', async () => {
      const t = await createTenant(app.url, { credits: 10 });
      const c = await newCampaign(t);
      const res = await t.api.request('POST', `/api/campaigns/${c.id}/recipients`, 'mobile,name\n+41790000001,A\n', { 'content-type': 'text/csv' });
      expectError(res, 400, 'VALIDATION_FAILED');
      const xml = await t.api.request('POST', `/api/campaigns/${c.id}/recipients`, '<r/>', { 'content-type': 'application/xml' });
      expect(xml.status).toBe(415);
      expect(xml.body.error.code).toMatch(/^[A-Z_]+$/);
    });
  });

  describe('enqueue checks', () => {
    it('order: 403 INACTIVE_SUBSCRIPTION, then 422 NO_RECIPIENTS, then 402 INSUFFICIENT_CREDITS; a second enqueue → 409', async () => {
      const t = await createTenant(app.url, { credits: 2, subscriptionStatus: 'inactive' });
      const c = await newCampaign(t);

      // Inactive, no recipients, too few credits: the subscription is reported first.
      expectError(await t.api.post(`/api/campaigns/${c.id}/enqueue`), 403, 'INACTIVE_SUBSCRIPTION');

      expect((await admin.patch(`/api/admin/tenants/${t.tenantId}`, { subscriptionStatus: 'active' })).status).toBe(200);
      expectError(await t.api.post(`/api/campaigns/${c.id}/enqueue`), 422, 'NO_RECIPIENTS');

      // Only invalid/suppressed recipients still means no sendable recipient.
      await t.api.post('/api/suppressions', { phone: phone(5_000_009) });
      await addRecipients(t, c.id, [{ phone: 'nope' }, { phone: phone(5_000_009) }]);
      expectError(await t.api.post(`/api/campaigns/${c.id}/enqueue`), 422, 'NO_RECIPIENTS');

      await addRecipients(t, c.id, [{ phone: phone(5_000_001) }, { phone: phone(5_000_002) }, { phone: phone(5_000_003) }]);
      const poor = await t.api.post(`/api/campaigns/${c.id}/enqueue`);
      expectError(poor, 402, 'INSUFFICIENT_CREDITS');
      expect(poor.body.error.details).toMatchObject({ required: 3, available: 2 });
      expect((await t.api.get(`/api/campaigns/${c.id}`)).body.status).toBe('draft');
      expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 2, reserved: 0 });

      expect((await admin.post(`/api/admin/tenants/${t.tenantId}/credits`, { amount: 1 })).status).toBe(201);
      const ok = await t.api.post(`/api/campaigns/${c.id}/enqueue`);
      expect(ok.status).toBe(202);
      expect(ok.body.campaign).toMatchObject({ id: c.id, status: 'sending' });
      expect(ok.body.metrics.total).toBe(3);

      const twice = await t.api.post(`/api/campaigns/${c.id}/enqueue`);
      expectError(twice, 409, 'INVALID_CAMPAIGN_STATE');
      expect(['sending', 'completed']).toContain(twice.body.error.details.status);

      await waitForCampaign(t.api, c.id, (s) => s.campaign.status === 'completed', 20_000);
      expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 0, reserved: 0 });
      for (const i of [1, 2, 3]) expect(sandbox.messagesFor(phone(5_000_000 + i))).toHaveLength(1);
    });
  });
});

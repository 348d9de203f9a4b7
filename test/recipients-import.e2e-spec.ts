import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, type TestApp } from './support/test-app.js';
import { createTenant, phone, type TenantFixture } from './support/api.js';

/**
 * The COPY-based recipient import: exact counts (repeated, invalid, suppressed rows) for CSV and
 * JSON, repeats across chunks, imports into a campaign that already has recipients (its own or a
 * concurrent import's), what lands in campaign_messages, and deletion without the foreign key.
 */
describe('recipients import', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function newCampaign(t: TenantFixture, text = 'Hi {{name}}'): Promise<string> {
    const res = await t.api.post('/api/campaigns', { name: 'import', text });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const csv = (t: TenantFixture, id: string, body: string) =>
    t.api.request('POST', `/api/campaigns/${id}/recipients`, body, { 'content-type': 'text/csv' });

  async function stored(id: string): Promise<Array<{ seq: number; phone: string; variables: Record<string, string> | null; segments: number; status: string }>> {
    return app.db.query(`SELECT seq, phone, variables, segments, status FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq`, [id]);
  }

  it('CSV: repeated, invalid and suppressed rows are counted exactly; columns may vary per row', async () => {
    const t = await createTenant(app.url);
    const blocked = phone(3_000_009);
    expect((await t.api.post('/api/suppressions', { phone: blocked })).status).toBe(201);
    const id = await newCampaign(t, 'Hi {{name}} from {{city}}');
    const body = [
      'Phone;name;city;extra', // ';' detected, a column the text does not use
      `${phone(3_000_001)};Ann;Bern;x`, // row 2 ok
      `${phone(3_000_002)};Ben;Basel;`, // row 3 ok (empty extra)
      `${phone(3_000_001)};Ann again;Bern;x`, // row 4 repeat of row 2
      `${blocked};Blocked;Zug;x`, // row 5 suppressed
      `${blocked};Blocked again;Zug;x`, // row 6 suppressed again (each occurrence counts)
      `${phone(3_000_003)};Cy`, // row 7 too few cells
      `${phone(3_000_004)};Di;Chur;x;y`, // row 8 too many cells
      `not a phone;Ed;Sion;x`, // row 9 invalid number
      `${phone(3_000_005)};;Sion;x`, // row 10 blank name: missing variable
      `079 300 00 02;Ben national;Basel;x`, // row 11 repeat of row 3 (national format)
      `+41 79 300 00 06;"Fay; Jr.";"Lu""gano";x`, // row 12 ok, quoted cells
      '',
    ].join('\n');
    const res = await csv(t, id, body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accepted: 3,
      duplicates: 2,
      suppressed: 2,
      invalid: 4,
      invalidSamples: [
        { row: 7, phone: '', reason: 'COLUMN_COUNT: expected 4 columns, found 2' },
        { row: 8, phone: '', reason: 'COLUMN_COUNT: expected 4 columns, found 5' },
        { row: 9, phone: 'not a phone', reason: 'NOT_A_NUMBER' },
        { row: 10, phone: phone(3_000_005), reason: 'MISSING_VARIABLE: name' },
      ],
    });
    const rows = await stored(id);
    expect(rows.map((r) => [r.phone, r.variables, r.status])).toEqual([
      [phone(3_000_001), { name: 'Ann', city: 'Bern', extra: 'x' }, 'queued'],
      [phone(3_000_002), { name: 'Ben', city: 'Basel', extra: '' }, 'queued'],
      [phone(3_000_006), { name: 'Fay; Jr.', city: 'Lu"gano', extra: 'x' }, 'queued'],
    ]);
    // seq follows the file's order, from 0 (gaps where rows were left out are allowed).
    expect(rows[0].seq).toBe(0);
    expect(rows.every((r, i) => i === 0 || r.seq > rows[i - 1].seq)).toBe(true);
    const status = await t.api.get(`/api/campaigns/${id}/status`);
    expect(status.body.metrics).toMatchObject({ total: 3, queued: 3 });
  });

  it('JSON takes the same path; a second upload into the campaign counts numbers already there as duplicates', async () => {
    const t = await createTenant(app.url);
    const id = await newCampaign(t, 'Hi {{name}}');
    const first = await t.api.post(`/api/campaigns/${id}/recipients`, {
      recipients: [
        { phone: phone(4_000_001), variables: { name: 'A' } },
        { phone: phone(4_000_002), variables: { name: 'Bő' } }, // UCS-2 text
        { phone: phone(4_000_001), variables: { name: 'A2' } },
        { phone: phone(4_000_003), variables: { name: 'tab\there, back\\slash\nnewline' } },
        { phone: phone(4_000_004), variables: { name: 'nul\u0000' } }, // jsonb cannot store NUL
      ],
    });
    expect(first.body).toEqual({
      accepted: 3, duplicates: 1, suppressed: 0, invalid: 1,
      invalidSamples: [{ row: 5, phone: phone(4_000_004), reason: 'INVALID_VARIABLES' }],
    });
    // Now the campaign holds rows this import did not write: they are probed in the database.
    const second = await t.api.post(`/api/campaigns/${id}/recipients`, {
      recipients: [
        { phone: phone(4_000_002), variables: { name: 'B again' } },
        { phone: phone(4_000_005), variables: { name: 'Eő' } },
        { phone: phone(4_000_005), variables: { name: 'E again' } },
        { phone: phone(4_000_006), variables: { name: 'F' } },
      ],
    });
    expect(second.body).toEqual({ accepted: 2, duplicates: 2, suppressed: 0, invalid: 0, invalidSamples: [] });
    const rows = await stored(id);
    expect(rows.map((r) => r.phone)).toEqual([phone(4_000_001), phone(4_000_002), phone(4_000_003), phone(4_000_005), phone(4_000_006)]);
    expect(rows[2].variables).toEqual({ name: 'tab\there, back\\slash\nnewline' });
    // seq follows the upload order; gaps where rows were left out are allowed, repeats are not.
    expect(new Set(rows.map((r) => r.seq)).size).toBe(5);
    const estimate = await t.api.get(`/api/campaigns/${id}/estimate`);
    expect(estimate.body).toMatchObject({ recipients: 5, encoding: 'mixed' });
    // A tab is not GSM-7 either: 'Bő', the tab row and 'Eő' are UCS-2.
    expect(estimate.body.nonGsmCharacters).toEqual(['\t', 'ő']);
    const campaign = await app.db.query(`SELECT ucs2_messages FROM campaigns WHERE id = $1`, [id]);
    expect(campaign[0].ucs2_messages).toBe(3);
  });

  it('recognises repeats across chunks of a large CSV and across concurrent uploads', async () => {
    const t = await createTenant(app.url);
    const id = await newCampaign(t);
    const N = 50_000; // more than two chunks of 20,000
    const lines = ['phone,name'];
    let repeats = 0;
    for (let i = 0; i < N; i++) {
      if (i >= 25_000 && i < 49_990 && i % 10 === 0) {
        lines.push(`${phone(5_000_000 + i - 24_990)},R${i}`); // a number from the first chunk
        repeats++;
      } else lines.push(`${phone(5_000_000 + i)},N${i}`);
    }
    const res = await csv(t, id, lines.join('\n'));
    expect(res.body).toMatchObject({ accepted: N - repeats, duplicates: repeats, invalid: 0, suppressed: 0 });

    // Two uploads at once into another campaign, overlapping by half: every number lands once.
    const other = await newCampaign(t);
    const file = (from: number) => ['phone,name', ...Array.from({ length: 30_000 }, (_, i) => `${phone(6_000_000 + from + i)},N`)].join('\n');
    const [a, b] = await Promise.all([csv(t, other, file(0)), csv(t, other, file(15_000))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.accepted + b.body.accepted).toBe(45_000);
    expect(a.body.duplicates + b.body.duplicates).toBe(15_000);
    const count = await app.db.query(`SELECT count(*)::int AS n, count(DISTINCT seq)::int AS seqs FROM campaign_messages WHERE campaign_id = $1`, [other]);
    expect(count[0]).toEqual({ n: 45_000, seqs: 45_000 });
    const status = await t.api.get(`/api/campaigns/${other}/status`);
    expect(status.body.metrics).toMatchObject({ total: 45_000, queued: 45_000 });
  }, 120_000);

  it('numbers longer than 15 digits (valid for libphonenumber-js) are told apart exactly', async () => {
    const t = await createTenant(app.url);
    // 19 digits: equal as doubles, different numbers.
    const a = '+8100371234567890123';
    const b = '+8100371234567890124';
    expect((await t.api.post('/api/suppressions', { phone: '+8100371234567890125' })).status).toBe(201);
    const id = await newCampaign(t);
    const res = await t.api.post(`/api/campaigns/${id}/recipients`, {
      recipients: [a, b, a, '+8100371234567890125'].map((phone) => ({ phone, variables: { name: 'X' } })),
    });
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 1, suppressed: 1, invalid: 0 });
    expect((await stored(id)).map((r) => r.phone)).toEqual([a, b]);
  });

  it('deleting a draft deletes its messages (a trigger, not a foreign key)', async () => {
    const t = await createTenant(app.url);
    const id = await newCampaign(t);
    await t.api.post(`/api/campaigns/${id}/recipients`, { recipients: [{ phone: phone(7_000_001), variables: { name: 'A' } }] });
    expect(await stored(id)).toHaveLength(1);
    expect((await t.api.delete(`/api/campaigns/${id}`)).status).toBe(204);
    expect(await stored(id)).toHaveLength(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startApp, type TestApp } from './support/test-app.js';
import { createTenant, phone } from './support/api.js';
import { CampaignBatchesRepository, type MessageOutcome } from '../src/campaigns/campaign-batches.repository.js';

const RECIPIENTS = 5_000;
const BATCH = 200;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

/** `count` summed over a plan node and everything under it. */
function sumOverPlan(node: PlanNode, count: (n: PlanNode) => number): number {
  return count(node) + (node.Plans ?? []).reduce((sum, child) => sum + sumOverPlan(child, count), 0);
}

/** Rows the plan's scans read from campaign_messages (kept or filtered out), over all loops. */
const messageRowsRead = (plan: PlanNode) => sumOverPlan(plan, (n) =>
  n['Relation Name'] === 'campaign_messages' && n['Node Type'].endsWith('Scan')
    ? ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * (n['Actual Loops'] ?? 1)
    : 0);

/** Rows the plan's joins compared and threw away, over all loops. */
const joinRowsRemoved = (plan: PlanNode) => sumOverPlan(plan, (n) => (n['Rows Removed by Join Filter'] ?? 0) * (n['Actual Loops'] ?? 1));

/** Messages the UPDATE wrote (its ModifyTable node). */
const messagesWritten = (plan: PlanNode) => sumOverPlan(plan, (n) =>
  n['Node Type'] === 'ModifyTable' && n['Relation Name'] === 'campaign_messages' ? (n['Actual Rows'] ?? 0) : 0);

/** A bound value as an SQL literal for EXECUTE (the write's parameters are scalars and JSON text). */
function sqlLiteral(v: unknown): string {
  return v === null || v === undefined ? 'NULL' : pg.escapeLiteral(String(v));
}

/** Records the names of the result-write statements the app's pool runs, until restore(). */
function recordWriteStatements(app: TestApp): { names: string[]; restore: () => void } {
  const pool = (app.db.driver as unknown as { master: { query: (config: unknown) => Promise<unknown> } }).master;
  const query = pool.query;
  const names: string[] = [];
  pool.query = (config: unknown) => {
    const name = (config as { name?: string })?.name;
    if (name?.startsWith('batch_write_outcomes')) names.push(name);
    return query.call(pool, config);
  };
  return { names, restore: () => { pool.query = query; } };
}

/**
 * The result write finds a batch's messages by an index range scan on a table PostgreSQL has not analysed.
 * A campaign imported into a table that has not been analysed since (a new installation's first
 * campaign, a large import) once got a plan that read the whole campaign for every write: in the chaos
 * suite a 20k campaign sent at a quarter of its rate limit for its first seconds, each write of 100
 * taking ~1 s, until autovacuum analysed the table.
 */
describe('result write: its plan does not depend on statistics; provider ids', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ USE_BULK_SMS: 'true' }, 'all', { ownDatabase: true });
    // A table never analysed, as a new installation's first campaign finds it (the chaos cell that found
    // this), and no autovacuum to analyse it during the test. (Statistics taken while the table was empty
    // are another matter: there both indexes that start with campaign_id look alike to the planner, and a
    // custom plan was once seen reading the whole campaign; see docs/PERFORMANCE.md.)
    await app.db.query(`ALTER TABLE campaign_messages SET (autovacuum_enabled = off)`);
  });

  afterAll(async () => {
    await app?.close();
  });

  // The app sends the statement prepared and named (src/database/sql.ts): after five executions PostgreSQL
  // may keep a generic plan, made without the values. Both kinds are checked, through PREPARE/EXECUTE
  // (an EXPLAIN of the statement with its values bound would always plan it with them).
  it.each(['force_generic_plan', 'force_custom_plan'])('reads only the batch it writes (plan_cache_mode %s)', async (mode) => {
    const t = await createTenant(app.url);
    const c = await t.api.post('/api/campaigns', { name: `plan ${mode}`, text: 'Hello' });
    const offset = 8_000_000 + ['force_generic_plan', 'force_custom_plan'].indexOf(mode) * RECIPIENTS;
    const csv = ['phone', ...Array.from({ length: RECIPIENTS }, (_, i) => phone(offset + i))].join('\n');
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' })).body.accepted).toBe(RECIPIENTS);

    // The statement and parameters the repository sends for batch 7, captured before they reach the server.
    const pool = (app.db.driver as unknown as { master: { query: (config: unknown) => Promise<unknown> } }).master;
    const query = pool.query;
    let captured: { text: string; values: unknown[] } | undefined;
    pool.query = async (config: unknown) => {
      const named = config as { name?: string; text: string; values: unknown[] };
      if (named?.name !== 'batch_write_outcomes') return query.call(pool, config);
      captured = named;
      throw new Error('captured');
    };
    const outcomes: MessageOutcome[] = Array.from({ length: BATCH }, (_, i) => ({ seq: 7 * BATCH + i, status: 'sent', providerMessageId: `plan-${randomUUID()}` }));
    try {
      await expect(app.app.get(CampaignBatchesRepository).writeOutcomes(
        { campaignId: c.body.id, batch: 7, token: randomUUID() }, outcomes, { bulkId: 'B', attempt: 0, reconcileAfterMs: 60_000 }, { done: true },
      )).rejects.toThrow('captured');
    } finally {
      pool.query = query;
    }

    // Prepare it, run it under EXPLAIN ANALYZE with its values, and roll it back.
    const literals = captured!.values.map(sqlLiteral);
    const runner = app.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query(`SET LOCAL plan_cache_mode = ${mode}`);
      await runner.query(`PREPARE result_write_plan AS ${captured!.text}`);
      const [{ 'QUERY PLAN': [plan] }] = await runner.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE result_write_plan(${literals.join(', ')})`);
      const read = messageRowsRead(plan.Plan);
      const compared = joinRowsRemoved(plan.Plan);
      const written = messagesWritten(plan.Plan);
      console.log(`plan_cache_mode ${mode}: ${written} messages written, ${read} message rows read, ${compared} rows compared and dropped by joins`);
      expect(written).toBe(BATCH);
      expect(read).toBeLessThanOrEqual(BATCH);
      expect(compared).toBeLessThanOrEqual(BATCH);
    } finally {
      await runner.rollbackTransaction();
      // PREPARE outlives the rollback; the connection goes back to the app's pool.
      await runner.query('DEALLOCATE result_write_plan').catch(() => undefined);
      await runner.release();
    }
  });

  it('writes the strings it is given: quotes, backslashes, an emoji; a lone surrogate and NUL as U+FFFD', async () => {
    const t = await createTenant(app.url);
    const c = await t.api.post('/api/campaigns', { name: 'strings', text: 'Hello' });
    const csv = ['phone', ...Array.from({ length: 3 }, (_, i) => phone(8_900_000 + i))].join('\n');
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' })).body.accepted).toBe(3);
    const provider = `p-"q"\\'${randomUUID()}`;
    const written = await app.app.get(CampaignBatchesRepository).writeOutcomes(
      { campaignId: c.body.id, batch: 0, token: randomUUID() },
      [
        { seq: 2, status: 'failed', errorCode: 'MITTO_X', errorMessage: 'half \ud83d pair, nul \u0000 end' },
        { seq: 0, status: 'sent', providerMessageId: provider },
        { seq: 1, status: 'failed', errorCode: 'MITTO_"E"', errorMessage: 'smile \u{1F600} "quoted" \\ back' },
      ],
      { bulkId: 'B', attempt: 0, reconcileAfterMs: 60_000 },
    );
    expect(written.written).toBe(3);
    const rows = await app.db.query(
      `SELECT seq, status, provider_message_id, error_code, error_message FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq`, [c.body.id]);
    expect(rows).toEqual([
      { seq: 0, status: 'sent', provider_message_id: provider, error_code: null, error_message: null },
      { seq: 1, status: 'failed', provider_message_id: null, error_code: 'MITTO_"E"', error_message: 'smile \u{1F600} "quoted" \\ back' },
      { seq: 2, status: 'failed', provider_message_id: null, error_code: 'MITTO_X', error_message: 'half \ufffd pair, nul \ufffd end' },
    ]);
    const [{ id: messageId }] = await app.db.query(`SELECT message_id AS id FROM campaign_message_provider_ids WHERE provider_message_id = $1`, [provider]);
    expect(messageId).toBeDefined();
  });

  // The write inserts provider ids without ON CONFLICT (the speculative insertion costs every row); a
  // provider id we hold already makes it fail whole, and it is made again in the form that skips it.
  it('lands whole when Mitto gives a provider id we hold already: made again in the form that skips it', async () => {
    const t = await createTenant(app.url);
    const c = await t.api.post('/api/campaigns', { name: 'repeated provider id', text: 'Hello' });
    const csv = ['phone', ...Array.from({ length: 3 }, (_, i) => phone(8_950_000 + i))].join('\n');
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' })).body.accepted).toBe(3);
    const ids: Array<{ seq: number; id: string }> = await app.db.query(`SELECT seq, id FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq`, [c.body.id]);
    const repeated = `repeated-${randomUUID()}`;
    const fresh = `fresh-${randomUUID()}`;
    // The id is taken by message 2 already (as if Mitto had answered it for that one before).
    await app.db.query(`INSERT INTO campaign_message_provider_ids (provider_message_id, message_id) VALUES ($1, $2)`, [repeated, ids[2].id]);

    const { names, restore } = recordWriteStatements(app);
    let written: { written: number; providerIdRepeated: boolean };
    try {
      written = await app.app.get(CampaignBatchesRepository).writeOutcomes(
        { campaignId: c.body.id, batch: 0, token: randomUUID() },
        [{ seq: 0, status: 'sent', providerMessageId: repeated }, { seq: 1, status: 'sent', providerMessageId: fresh }],
        { bulkId: 'B', attempt: 0, reconcileAfterMs: 60_000 },
      );
    } finally {
      restore();
    }

    expect(names).toEqual(['batch_write_outcomes', 'batch_write_outcomes_dedup']);
    expect(written.written).toBe(2);
    expect(written.providerIdRepeated).toBe(true);
    const rows = await app.db.query(`SELECT seq, status, provider_message_id FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq`, [c.body.id]);
    expect(rows).toEqual([
      { seq: 0, status: 'sent', provider_message_id: repeated },
      { seq: 1, status: 'sent', provider_message_id: fresh },
      { seq: 2, status: 'queued', provider_message_id: null },
    ]);
    // The first mapping is kept; the new id is recorded; the counters moved once (the failed try changed nothing).
    const mapped = await app.db.query(
      `SELECT provider_message_id, message_id FROM campaign_message_provider_ids WHERE provider_message_id = ANY($1) ORDER BY provider_message_id`, [[repeated, fresh]]);
    expect(mapped).toEqual([
      { provider_message_id: fresh, message_id: ids[1].id },
      { provider_message_id: repeated, message_id: ids[2].id },
    ]);
    const counts = await app.db.query(`SELECT status, messages::int AS n FROM campaign_message_counts WHERE campaign_id = $1 AND messages <> 0 ORDER BY status`, [c.body.id]);
    expect(counts).toEqual([{ status: 'queued', n: 1 }, { status: 'sent', n: 2 }]);
  });

  it('uses the plain insert alone when every provider id is new', async () => {
    const t = await createTenant(app.url);
    const c = await t.api.post('/api/campaigns', { name: 'new provider ids', text: 'Hello' });
    const csv = ['phone', ...Array.from({ length: 2 }, (_, i) => phone(8_960_000 + i))].join('\n');
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' })).body.accepted).toBe(2);
    const { names, restore } = recordWriteStatements(app);
    try {
      const written = await app.app.get(CampaignBatchesRepository).writeOutcomes(
        { campaignId: c.body.id, batch: 0, token: randomUUID() },
        [{ seq: 0, status: 'sent', providerMessageId: `new-${randomUUID()}` }, { seq: 1, status: 'sent', providerMessageId: `new-${randomUUID()}` }],
        { bulkId: 'B', attempt: 0, reconcileAfterMs: 60_000 },
      );
      expect(written.written).toBe(2);
      expect(written.providerIdRepeated).toBe(false);
    } finally {
      restore();
    }
    expect(names).toEqual(['batch_write_outcomes']);
  });

  it('lands whole when one answer gives two messages the same provider id', async () => {
    const t = await createTenant(app.url);
    const c = await t.api.post('/api/campaigns', { name: 'one id for two', text: 'Hello' });
    const csv = ['phone', ...Array.from({ length: 2 }, (_, i) => phone(8_970_000 + i))].join('\n');
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' })).body.accepted).toBe(2);
    const twice = `twice-${randomUUID()}`;
    const written = await app.app.get(CampaignBatchesRepository).writeOutcomes(
      { campaignId: c.body.id, batch: 0, token: randomUUID() },
      [{ seq: 0, status: 'sent', providerMessageId: twice }, { seq: 1, status: 'sent', providerMessageId: twice }],
      { bulkId: 'B', attempt: 0, reconcileAfterMs: 60_000 },
    );
    expect(written).toMatchObject({ written: 2, providerIdRepeated: true });
    const rows = await app.db.query(`SELECT seq, status, provider_message_id FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq`, [c.body.id]);
    expect(rows).toEqual([
      { seq: 0, status: 'sent', provider_message_id: twice },
      { seq: 1, status: 'sent', provider_message_id: twice },
    ]);
    const [{ n }] = await app.db.query(`SELECT count(*)::int AS n FROM campaign_message_provider_ids WHERE provider_message_id = $1`, [twice]);
    expect(n).toBe(1);
  });
});


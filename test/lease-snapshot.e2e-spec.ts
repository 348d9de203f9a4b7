import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startApp, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor } from './support/api.js';
import { BatchLeasesRepository } from '../src/campaigns/batch-leases.repository.js';

/**
 * The lease statement reads the batch's queued messages as of its snapshot, but FOR UPDATE waits for a
 * transaction holding the batch row and then works on the row as that transaction left it. Found by the
 * chaos suite (single flow, UNKNOWN_POLICY=fail, 10 SIGKILLs; 1 run in 2 whole matrices): the sweep queued
 * an `unknown` message again and reopened its batch (a new job round) while a takeover's lease statement
 * waited for the row; the takeover leased the reopened batch in its new round with the message list of
 * before, sent the rest, ended the batch, and the message stayed queued in a campaign that never ended.
 */
describe('batch lease: a row changed after the statement began is not leased on a stale message list', () => {
  let app: TestApp;
  let side: pg.Client;

  beforeAll(async () => {
    // No workers: the test takes the leases itself.
    app = await startApp({ USE_BULK_SMS: 'true' }, 'api');
    side = new pg.Client({ connectionString: app.env.DATABASE_URL });
    await side.connect();
  });

  afterAll(async () => {
    await side?.end();
    await app?.close();
  });

  it('waits out a concurrent reopening, then leases with the message queued again', async () => {
    const t = await createTenant(app.url);
    const c = await t.api.post('/api/campaigns', { name: 'snapshot', text: 'Hello' });
    const recipients = Array.from({ length: 3 }, (_, i) => ({ phone: phone(9_100_000 + i) }));
    expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(3);
    expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);
    const campaignId: string = c.body.id;
    const [{ generation }] = await app.db.query(`SELECT dispatch_generation AS generation FROM campaigns WHERE id = $1`, [campaignId]);

    // Batch 0 as a dead worker left it: its lease ran out, message 0 went `unknown`.
    await app.db.query(`UPDATE campaign_messages SET status = 'unknown', error_code = 'INTERRUPTED' WHERE campaign_id = $1 AND seq = 0`, [campaignId]);
    await app.db.query(
      `UPDATE campaign_batches SET lease_token = gen_random_uuid(), lease_expires_at = now() - interval '1 minute' WHERE campaign_id = $1 AND batch = 0`, [campaignId]);

    // The sweep's settleUnknown, held open: message 0 queued again, the batch reopened in a new round.
    await side.query('BEGIN');
    await side.query(`UPDATE campaign_messages SET status = 'queued', error_code = 'RESENT_NOT_AT_MITTO' WHERE campaign_id = $1 AND seq = 0`, [campaignId]);
    await side.query(`UPDATE campaign_batches SET job_round = job_round + 1 WHERE campaign_id = $1 AND batch = 0`, [campaignId]);

    // A takeover's lease starts now (its snapshot: message 0 still unknown) and waits for the batch row.
    const leases = app.app.get(BatchLeasesRepository);
    const opts = { leaseMs: 30_000, reconcileAfterMs: 60_000 };
    const first = leases.lease({ campaignId, batch: 0, token: randomUUID() }, generation, opts);
    await waitFor(async () => {
      // Asked outside the open transaction: inside it, pg_stat_activity would stay as first read.
      const waiting = await app.db.query(
        `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH target AS%' AND datname = current_database()`);
      return waiting.length > 0;
    }, 10_000, 20);
    await side.query('COMMIT');

    const stale = await first;
    // Without the check the takeover leased here, with messages 1 and 2 only, and would have ended the batch.
    expect(stale).toMatchObject({ leased: false, reason: 'busy' });

    const fresh = await leases.lease({ campaignId, batch: 0, token: randomUUID() }, generation, opts);
    expect(fresh.leased).toBe(true);
    if (fresh.leased) expect(fresh.messages.map((m) => m.seq)).toEqual([0, 1, 2]);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { startApp, startSandbox, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor, type TenantFixture } from './support/api.js';
import { spawnApp, stopProcess } from './support/worker-process.js';
import { queueKeyPrefix } from '../src/queues/queues.module.js';
import { QUEUES } from '../src/queues/queue-names.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * The rules of the sending core, each provoked on purpose (docs/ARCHITECTURE.md, "Batch leases" and
 * "Recovery rules"): a worker that lost its lease makes no further Mitto call; a batch whose job failed
 * for good, or vanished, is found in PostgreSQL and sent under a fresh job id; pause → resume while a
 * batch is in flight neither interrupts it nor ends the campaign early.
 */
const FAST = { BATCH_LEASE_MS: '1000', SWEEPER_INTERVAL_MS: '1000', QUEUE_BACKOFF_MS: '100', RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000', RATE_LIMIT_TENANT_MAX: '100000', QUEUE_RATE_MAX: '100000' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function campaignOf(t: TenantFixture, size: number, offset: number): Promise<string> {
  const c = await t.api.post('/api/campaigns', { name: 'leases', text: 'Hi {{n}}' });
  const recipients = Array.from({ length: size }, (_, i) => ({ phone: phone(offset + i), variables: { n: String(i) } }));
  expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, { recipients })).body.accepted).toBe(size);
  return c.body.id;
}

const completed = (t: TenantFixture, id: string, timeoutMs = 60_000) =>
  waitFor(async () => {
    const s = await t.api.get(`/api/campaigns/${id}/status`);
    return s.body.campaign.status === 'completed' && s.body.metrics.queued === 0 ? s.body : undefined;
  }, timeoutMs, 100);

/**
 * A Mitto sandbox and an app (FAST settings, the sandbox as Mitto, plus `env`) for the enclosing describe:
 * started before its tests, stopped after them (`beforeClose` first). Tests read `.app` and `.sandbox`.
 */
function appWithSandbox(sandboxOptions: Record<string, unknown>, env: Record<string, string>, beforeClose?: () => Promise<void>) {
  const ctx = {} as { app: TestApp; sandbox: MittoSandbox };
  beforeAll(async () => {
    const sbx = await startSandbox(sandboxOptions);
    ctx.sandbox = sbx.sandbox;
    ctx.app = await startApp({ ...FAST, MITTO_BASE_URL: sbx.url, ...env });
  });
  afterAll(async () => {
    if (ctx.app && beforeClose) await beforeClose();
    await ctx.app?.close();
    await ctx.sandbox?.stop();
  });
  return ctx;
}

/** The single flow, one worker, 150 ms per Mitto call: a batch of 10 takes 1.5 s, time to act on it. */
function slowSingleFlow() {
  return appWithSandbox({ latencyMs: 150 }, { USE_BULK_SMS: 'false', SMS_BATCH_SIZE: '10', WORKER_CONCURRENCY: '1' });
}

/** A 10-recipient campaign enqueued, once its first two messages reached the sandbox. */
async function sendingTen(ctx: ReturnType<typeof slowSingleFlow>, offset: number) {
  const t = await createTenant(ctx.app.url);
  const id = await campaignOf(t, 10, offset);
  expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
  await waitFor(async () => ctx.sandbox.stats().accepted >= 2, 20_000, 5);
  return { t, id };
}

describe('batch leases: a lost lease makes no call', () => {
  const ctx = slowSingleFlow();

  it('the holder stops at its next marker once another token holds the batch, and the batch still completes once', async () => {
    const { t, id } = await sendingTen(ctx, 7_100_000);
    // Someone else holds the batch now (as after a takeover).
    await ctx.app.db.query(`UPDATE campaign_batches SET lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 hour' WHERE campaign_id = $1`, [id]);
    const atSteal = ctx.sandbox.stats().accepted;
    await sleep(1_500);
    // At most the call that was already on the wire completes; no new call starts.
    expect(ctx.sandbox.stats().accepted).toBeLessThanOrEqual(atSteal + 1);
    const [stuck] = await ctx.app.db.query(`SELECT count(*)::int AS n FROM campaign_messages WHERE campaign_id = $1 AND status = 'queued'`, [id]);
    expect(stuck.n).toBeGreaterThanOrEqual(10 - atSteal - 1);

    // The thief dies (its lease runs out): the sweep hands the batch to a fresh job, which takes over.
    await ctx.app.db.query(`UPDATE campaign_batches SET lease_expires_at = now() - interval '1 minute' WHERE campaign_id = $1`, [id]);
    const done = await completed(t, id);
    expect(done.metrics).toMatchObject({ total: 10, sent: 10, unknown: 0, failed: 0 });
    expect(ctx.sandbox.stats().duplicateReferences).toBe(0);
    expect(ctx.sandbox.stats().accepted).toBe(10);
  }, 60_000);
});

describe('batch leases: a batch reopened under its holder is not ended by the holder', () => {
  const ctx = slowSingleFlow();

  it('a message the sweep queued again while the holder still sent goes out, and the campaign completes', async () => {
    const { t, id } = await sendingTen(ctx, 7_200_000);
    // What settleUnknown does to a batch whose lease ran out while its holder still sends: one of its
    // messages (here the first, already accepted: Mitto will see it twice, on purpose) is queued again
    // and the batch gets a new job round; the holder does not have it in its list.
    const [[{ round }]] = await ctx.app.db.query(
      `UPDATE campaign_batches SET job_round = job_round + 1 WHERE campaign_id = $1 AND batch = 0 RETURNING job_round AS round`, [id]);
    await ctx.app.db.query(
      `UPDATE campaign_messages SET status = 'unknown' WHERE campaign_id = $1 AND seq = 0 AND status = 'sent'`, [id]);
    await ctx.app.db.query(
      `UPDATE campaign_messages SET status = 'queued', error_code = 'RESENT_NOT_AT_MITTO' WHERE campaign_id = $1 AND seq = 0 AND status = 'unknown'`, [id]);
    expect(round).toBeGreaterThan(0);
    const done = await completed(t, id, 30_000);
    expect(done.metrics).toMatchObject({ total: 10, queued: 0, unknown: 0 });
    expect(ctx.sandbox.stats().accepted).toBe(11);
    const me = await t.api.get('/api/me');
    expect(me.body.credits.reserved).toBe(0);
  }, 60_000);
});

describe('batch leases: recovery from PostgreSQL, not from BullMQ history', () => {
  let api: TestApp;
  let sandbox: MittoSandbox;
  let worker: ChildProcess | undefined;
  let queue: Queue | undefined;
  let saboteur: Worker | undefined;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 1 });
    sandbox = sbx.sandbox;
    // API only: no worker runs until the test starts one.
    api = await startApp({ ...FAST, MITTO_BASE_URL: sbx.url, USE_BULK_SMS: 'true', SMS_BATCH_SIZE: '20', QUEUE_ATTEMPTS: '0' }, 'api');
    queue = new Queue(QUEUES.batches, { connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, prefix: queueKeyPrefix(api.env.QUEUE_PREFIX, QUEUES.batches) });
  });
  afterEach(async () => {
    await saboteur?.close();
    saboteur = undefined;
    if (worker) await stopProcess(worker);
    worker = undefined;
  });
  afterAll(async () => {
    await queue?.close();
    await api?.close();
    await sandbox?.stop();
  });

  /** A campaign enqueued while no app worker runs: its dispatch and batch jobs wait in Redis. */
  async function enqueued(size: number, offset: number) {
    const t = await createTenant(api.url);
    const id = await campaignOf(t, size, offset);
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    return { t, id };
  }

  it('batch jobs that failed for good are given fresh jobs, and every recipient is sent once', async () => {
    const { t, id } = await enqueued(100, 7_200_000);
    // A worker that fails every batch job (as through a database outage longer than the retry budget);
    // with QUEUE_ATTEMPTS=0 each job has one try, so they all end `failed` under their ids.
    const failedIds = new Set<string>();
    saboteur = new Worker(QUEUES.batches, async (job) => {
      failedIds.add(job.id!);
      throw new Error('database unavailable');
    }, { connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, prefix: queueKeyPrefix(api.env.QUEUE_PREFIX, QUEUES.batches) });
    // The app's worker dispatches (control queue) but takes at most one batch job per 10 minutes.
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker', WORKER_CONCURRENCY: '1', QUEUE_RATE_MAX: '1', QUEUE_RATE_DURATION_MS: '600000' });
    await waitFor(async () => (await queue!.getJobCounts('failed')).failed >= 5, 20_000, 50);
    await saboteur.close();
    saboteur = undefined;
    await stopProcess(worker);
    expect(failedIds.size).toBeGreaterThanOrEqual(4);
    // At most the one batch the app's rate-limited worker may have taken went out.
    const sentBefore = sandbox.stats().accepted;
    expect(sentBefore).toBeLessThanOrEqual(20);

    // A healthy worker: the sweep finds the pending batches in PostgreSQL, their jobs failed, and re-adds them.
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
    const done = await completed(t, id);
    expect(done.metrics).toMatchObject({ total: 100, sent: 100 });
    const rounds = await api.db.query(`SELECT max(job_round)::int AS r FROM campaign_batches WHERE campaign_id = $1`, [id]);
    expect(rounds[0].r).toBeGreaterThanOrEqual(1);
    expect(sandbox.stats().duplicateReferences).toBe(0);
  }, 90_000);

  it('batch jobs that vanished from Redis are given fresh jobs', async () => {
    const { t, id } = await enqueued(100, 7_300_000);
    // Let the dispatch job create the batch jobs, without sending (a queue limiter of 1 job per 10 minutes).
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker', QUEUE_RATE_MAX: '1', QUEUE_RATE_DURATION_MS: '600000' });
    await waitFor(async () => {
      const [c] = await api.db.query(`SELECT dispatched_batches, batch_count FROM campaigns WHERE id = $1`, [id]);
      return c.dispatched_batches === c.batch_count;
    }, 20_000, 50);
    await stopProcess(worker);
    worker = undefined;
    // Every job of the queue disappears (Redis lost its data).
    await queue!.obliterate({ force: true });
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
    const done = await completed(t, id);
    expect(done.metrics).toMatchObject({ total: 100, sent: 100 });
    for (let i = 0; i < 100; i++) expect(sandbox.messagesFor(phone(7_300_000 + i))).toHaveLength(1);
    expect(sandbox.stats().duplicateReferences).toBe(0);
  }, 90_000);

  it('a batch job taken by a worker that died before leasing is given a fresh job, not left to BullMQ\'s stall check', async () => {
    const { t, id } = await enqueued(100, 7_700_000);
    const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
    const prefix = queueKeyPrefix(api.env.QUEUE_PREFIX, QUEUES.batches);
    // Let the dispatch job create the batch jobs, without sending (a queue limiter of 1 job per 10 minutes).
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker', QUEUE_RATE_MAX: '1', QUEUE_RATE_DURATION_MS: '600000' });
    await waitFor(async () => {
      const [c] = await api.db.query(`SELECT dispatched_batches, batch_count FROM campaigns WHERE id = $1`, [id]);
      return c.dispatched_batches === c.batch_count;
    }, 20_000, 50);
    await stopProcess(worker);
    worker = undefined;
    // A worker takes a batch job and dies before the lease. Its lock is held for 10 minutes, so nothing but
    // the sweep can free the batch within this test (BullMQ's stall check would after the lock ran out).
    const dying = new Worker(QUEUES.batches, null, { connection, prefix, autorun: false, lockDuration: 600_000 });
    const taken = await dying.getNextJob('a-worker-that-dies');
    expect(taken).toBeDefined();
    await dying.disconnect();
    expect(await queue!.getJobState(taken!.id!)).toBe('active');

    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
    // The campaign idles after the other batches (2 sweeps), then the sweep gives the taken batch a fresh job.
    const done = await completed(t, id, 60_000);
    expect(done.metrics).toMatchObject({ total: 100, sent: 100 });
    const [taken0] = await api.db.query(`SELECT job_round FROM campaign_batches WHERE campaign_id = $1 AND batch = $2`, [id, taken!.data.batch]);
    expect(taken0.job_round).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 100; i++) expect(sandbox.messagesFor(phone(7_700_000 + i))).toHaveLength(1);
    expect(sandbox.stats().duplicateReferences).toBe(0);
  }, 90_000);
});

describe('batch leases: pause → resume while batches are in flight', () => {
  const ctx = appWithSandbox({ latencyMs: 40 }, { USE_BULK_SMS: 'false', SMS_BATCH_SIZE: '20', WORKER_CONCURRENCY: '4' });

  it('no claim is interrupted, no early completion, nothing left queued, no credit left reserved', async () => {
    const t = await createTenant(ctx.app.url, { credits: 1_000 });
    const id = await campaignOf(t, 300, 7_400_000);
    ctx.sandbox.configure({ seed: 5, faults: { error503Ratio: 0.1 } });
    try {
      expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
      let early = false;
      for (let i = 0; i < 8; i++) {
        await waitFor(async () => ctx.sandbox.stats().accepted > i * 20, 20_000, 5);
        expect((await t.api.post(`/api/campaigns/${id}/pause`)).status).toBe(200);
        // Resume at once: the holders of batches in flight still hold their leases.
        const resumed = await t.api.post(`/api/campaigns/${id}/resume`);
        expect(resumed.status).toBe(202);
        const s = await t.api.get(`/api/campaigns/${id}/status`);
        if (s.body.campaign.status === 'completed' && s.body.metrics.queued > 0) early = true;
      }
      const done = await completed(t, id);
      expect(early).toBe(false);
      expect(done.metrics).toMatchObject({ total: 300, sent: 300, queued: 0, unknown: 0, failed: 0 });
      // Nobody marked a live holder's call as interrupted.
      const [interrupted] = await ctx.app.db.query(`SELECT count(*)::int AS n FROM campaign_messages WHERE campaign_id = $1 AND error_code = 'INTERRUPTED'`, [id]);
      expect(interrupted.n).toBe(0);
      expect((ctx.sandbox.stats().requests.byStatusCode['503'] ?? 0)).toBeGreaterThan(0);
      expect(ctx.sandbox.stats().duplicateReferences).toBe(0);
      expect((await t.api.get('/api/me')).body.credits).toEqual({ balance: 700, reserved: 0 });
    } finally {
      ctx.sandbox.configure({ seed: undefined, faults: { error503Ratio: 0 } });
    }
  }, 90_000);
});

describe('batch leases: the last batches end their campaign, however many run at once', () => {
  // Every batch of the campaign is in flight at once (one call each, held 300 ms by the sandbox), twice
  // the 8 other pending batches the end check used to allow; the sweep runs only once a minute, so it
  // cannot be what ends it.
  const ctx = appWithSandbox({ latencyMs: 300 }, { SWEEPER_INTERVAL_MS: '60000', USE_BULK_SMS: 'true', SMS_BATCH_SIZE: '5', WORKER_CONCURRENCY: '16' });

  it('completes within seconds of its last write, not at the next sweep', async () => {
    const t = await createTenant(ctx.app.url);
    const id = await campaignOf(t, 80, 7_500_000); // 16 batches
    const enqueuedAt = Date.now();
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    const done = await completed(t, id, 15_000);
    expect(done.metrics).toMatchObject({ total: 80, sent: 80, queued: 0 });
    // All 16 calls were on the wire together (the sandbox held each 300 ms), so each batch's write saw
    // the other 15 still pending.
    expect(ctx.sandbox.stats().accepted).toBe(80);
    expect(Date.parse(done.campaign.completedAt) - enqueuedAt).toBeLessThan(5_000);
  }, 60_000);
});

describe('batch leases: the end is checked after the last write commits', () => {
  const ctx = appWithSandbox({ latencyMs: 0 }, { SWEEPER_INTERVAL_MS: '60000', USE_BULK_SMS: 'true', SMS_BATCH_SIZE: '5', WORKER_CONCURRENCY: '2' }, async () => {
    await ctx.app.db.query('DROP TRIGGER IF EXISTS test_slow_batches ON campaign_batches').catch(() => undefined);
    await ctx.app.db.query('DROP FUNCTION IF EXISTS test_slow_batches()').catch(() => undefined);
  });

  it('completes when another batch was leased, sent and written while its write was in progress', async () => {
    const t = await createTenant(ctx.app.url);
    const id = await campaignOf(t, 10, 7_600_000); // batches 0 and 1
    // Batch 1's lease takes 0.5 s to commit, so batch 0's write starts while batch 1 is still free; batch
    // 0's write takes 1.5 s to commit, so batch 1 is sent and written (and finds batch 0 not done) meanwhile.
    await ctx.app.db.query(`CREATE FUNCTION test_slow_batches() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.campaign_id = '${id}' AND NEW.batch = 1 AND OLD.lease_token IS NULL AND NEW.lease_token IS NOT NULL THEN PERFORM pg_sleep(0.5); END IF;
        IF NEW.campaign_id = '${id}' AND NEW.batch = 0 AND OLD.state = 'pending' AND NEW.state = 'done' THEN PERFORM pg_sleep(1.5); END IF;
        RETURN NEW;
      END $$`);
    await ctx.app.db.query('CREATE TRIGGER test_slow_batches BEFORE UPDATE ON campaign_batches FOR EACH ROW EXECUTE FUNCTION test_slow_batches()');
    const enqueuedAt = Date.now();
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    const done = await completed(t, id, 15_000);
    expect(done.metrics).toMatchObject({ total: 10, sent: 10, queued: 0 });
    const [order] = await ctx.app.db.query(
      `SELECT max(sent_at) FILTER (WHERE seq >= 5) < max(sent_at) FILTER (WHERE seq < 5) + interval '1 second' AS overlapped FROM campaign_messages WHERE campaign_id = $1`,
      [id],
    );
    expect(order.overlapped).toBe(true); // batch 1 went out while batch 0's write was held
    expect(Date.parse(done.campaign.completedAt) - enqueuedAt).toBeLessThan(5_000);
  }, 60_000);
});

/**
 * Every write of the send path waits for its WAL flush (docs/ARCHITECTURE.md, "Batch leases", rule 8): the
 * lease, the write-ahead marker and the result write. A result write that committed without waiting could
 * be lost in a database crash after the worker had let go of its outcomes, and with it the provider ids and
 * the reports refused during the outage: the evidence rule would then send Mitto's accepted messages again.
 * A row trigger on `campaign_batches` logs the transaction's `synchronous_commit` for every lease, marker and
 * release of a real send, in either flow.
 */
describe.each([
  ['bulk', 'true'],
  ['individual', 'false'],
])('batch leases: which writes wait for their flush (%s flow)', (flow, useBulk) => {
  const ctx = appWithSandbox({}, { USE_BULK_SMS: useBulk, SMS_BATCH_SIZE: '10', WORKER_CONCURRENCY: '2' }, async () => {
    await ctx.app.db.query(`DROP TRIGGER IF EXISTS test_log_commit_setting ON campaign_batches`);
  });

  beforeAll(async () => {
    await ctx.app.db.query(`CREATE TABLE IF NOT EXISTS test_commit_log (campaign_id uuid NOT NULL, kind text NOT NULL, setting text NOT NULL)`);
    await ctx.app.db.query(`
      CREATE OR REPLACE FUNCTION test_log_commit_setting() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        INSERT INTO test_commit_log
        SELECT NEW.campaign_id, kind, current_setting('synchronous_commit') FROM (VALUES
          (CASE WHEN NEW.lease_token IS NOT NULL AND NEW.lease_token IS DISTINCT FROM OLD.lease_token THEN 'lease' END),
          (CASE WHEN NEW.inflight_from IS NOT NULL AND NEW.lease_token = OLD.lease_token
                 AND (NEW.inflight_from, NEW.inflight_to) IS DISTINCT FROM (OLD.inflight_from, OLD.inflight_to) THEN 'marker' END),
          (CASE WHEN NEW.lease_token IS NULL AND OLD.lease_token IS NOT NULL THEN 'release' END)) AS k(kind)
        WHERE kind IS NOT NULL;
        RETURN NULL;
      END $fn$`);
    await ctx.app.db.query(`
      CREATE OR REPLACE TRIGGER test_log_commit_setting AFTER UPDATE ON campaign_batches
      FOR EACH ROW EXECUTE FUNCTION test_log_commit_setting()`);
  });

  it(`lease, marker and result write all wait for their flush (${flow})`, async () => {
    const t = await createTenant(ctx.app.url);
    const id = await campaignOf(t, 30, 7_600_000 + (flow === 'bulk' ? 0 : 1000));
    expect((await t.api.post(`/api/campaigns/${id}/enqueue`)).status).toBe(202);
    const done = await completed(t, id);
    expect(done.metrics).toMatchObject({ total: 30, sent: 30 });

    const rows: Array<{ kind: string; setting: string; n: number }> = await ctx.app.db.query(
      `SELECT kind, setting, count(*)::int AS n FROM test_commit_log WHERE campaign_id = $1 GROUP BY kind, setting ORDER BY kind, setting`,
      [id],
    );
    const calls = flow === 'bulk' ? 3 : 30;
    expect(rows).toEqual([
      { kind: 'lease', setting: 'on', n: 3 },
      { kind: 'marker', setting: 'on', n: calls },
      { kind: 'release', setting: 'on', n: 3 },
    ]);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { startApp, startSandbox, SANDBOX_KEY, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor, type TenantFixture } from './support/api.js';
import { spawnApp, stopProcess } from './support/worker-process.js';
import { PrivatePostgres, PrivateRedis } from './support/private-services.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * The reliability matrix (npm run test:chaos): {bulk, single} × {UNKNOWN_POLICY fail, resend} × four
 * faults, each cell a fresh campaign with delivery reports flowing. Per cell: recipients never reached
 * (Mitto never accepted their message), duplicates (references Mitto accepted twice), messages left
 * non-terminal, credits left reserved — all must be 0 — and proof that the fault really happened.
 * The API runs in this process, the worker as a separate process; PostgreSQL and Redis are private
 * servers of this test (spare ports), so stopping them disturbs nobody. Results: docs/RELIABILITY.md.
 */

const MODES = [
  // Bulk: batches of 100 at 20 requests/s (2,000 msg/s); single: one call per message at 250 requests/s.
  { mode: 'bulk', useBulk: 'true', size: 20_000, rps: 20, progressPerKill: 1_000 },
  { mode: 'single', useBulk: 'false', size: 3_000, rps: 250, progressPerKill: 150 },
] as const;
const POLICIES = ['fail', 'resend'] as const;
const BACKOFF_MS = 300;
/** The batch retry budget of the defaults' schedule (5 retries: 1+2+4+8+16 backoffs). */
const RETRY_BUDGET_MS = BACKOFF_MS * 31;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CellResult {
  mode: string;
  policy: string;
  fault: string;
  messages: number;
  lost: number;
  duplicates: number;
  nonTerminal: number;
  reserved: number;
  states: string;
  evidence: string;
  seconds: number;
  idleSeconds: number;
  /** Where the idle seconds were: each run of seconds without a request, as "length s at second n" of the send. */
  idleGaps: string;
}

/** The runs of seconds without a request between the first and the last second that had one. */
function idleGaps(seconds: number[]): string {
  const sorted = [...seconds].sort((a, b) => a - b);
  const gaps: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const length = sorted[i] - sorted[i - 1] - 1;
    if (length > 0) gaps.push(`${length} s at ${sorted[i - 1] + 1 - sorted[0]}`);
  }
  return gaps.join(', ') || 'none';
}

const results: CellResult[] = [];
const TRACE = process.env.CHAOS_TRACE === '1';
let offset = 0;

describe('reliability matrix', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let sandbox: MittoSandbox;
  let sandboxUrl: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    postgres = await PrivatePostgres.create();
    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE bulk_sms_chaos');
    await admin.end();
    redis = await PrivateRedis.create();
    const sbx = await startSandbox({ latencyMs: 2, reportDelayMs: 200, webhookSecret: WEBHOOK_SECRET });
    sandbox = sbx.sandbox;
    sandboxUrl = sbx.url;
  }, 120_000);

  afterAll(async () => {
    await sandbox?.stop();
    await redis?.destroy();
    await postgres?.destroy();
    process.env = savedEnv;
    writeResults();
  });

  describe.each(MODES.flatMap((m) => POLICIES.map((policy) => ({ ...m, policy }))))('$mode flow, UNKNOWN_POLICY=$policy', (cell) => {
    let api: TestApp;
    let worker: ChildProcess;

    beforeAll(async () => {
      api = await startApp(
        {
          DATABASE_URL: postgres.url('bulk_sms_chaos'),
          REDIS_URL: redis.url,
          MITTO_BASE_URL: sandboxUrl,
          USE_BULK_SMS: cell.useBulk,
          UNKNOWN_POLICY: cell.policy,
          SMS_BATCH_SIZE: '100',
          WORKER_CONCURRENCY: '5',
          RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: String(cell.rps),
          RATE_LIMIT_TENANT_MAX: String(cell.rps),
          QUEUE_RATE_MAX: '100000',
          QUEUE_BACKOFF_MS: String(BACKOFF_MS),
          MITTO_REQUEST_TIMEOUT_MS: '5000',
          SWEEPER_INTERVAL_MS: '1000',
          BATCH_LEASE_MS: '2000',
          UNKNOWN_SETTLE_AFTER_MS: '8000',
          RECONCILE_AFTER_MS: '3000',
          LOG_LEVEL: 'error',
        },
        'api',
      );
      sandbox.configure({ webhookUrl: `${api.url}/api/webhooks/mitto/delivery-reports` });
      worker = await spawnWorker();
    }, 120_000);

    afterAll(async () => {
      if (worker) await stopProcess(worker, 'SIGKILL');
      await api?.close();
    });

    const spawnWorker = () => spawnApp({ ...api.env, APP_ROLE: 'worker' });
    const accepted = () => sandbox.stats().accepted;

    /** Runs one cell: a fresh campaign, the fault while it sends, then the four counts once it has settled. */
    async function run(fault: string, disrupt: (t: TenantFixture, campaignId: string) => Promise<string>): Promise<void> {
      sandbox.reset();
      sandbox.configure({ faults: { error500Ratio: 0, error429Ratio: 0, error503Ratio: 0, acceptThenDropRatio: 0 } });
      const size = cell.size;
      const t = await createTenant(api.url, { credits: size });
      const c = await t.api.post('/api/campaigns', { name: `${cell.mode} ${cell.policy} ${fault}`, text: 'Hello {{n}}, this is a reliability test' });
      const csv = ['phone,n', ...Array.from({ length: size }, (_, i) => `${phone(offset + i)},${i}`)].join('\n');
      offset += size;
      expect((await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' })).body.accepted).toBe(size);
      const started = Date.now();
      expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);

      const evidence = await disrupt(t, c.body.id);

      let lastSeen: unknown;
      const final = await waitFor(async () => {
        const s = await t.api.get(`/api/campaigns/${c.body.id}/status`).catch(() => undefined);
        const me = await t.api.get('/api/me').catch(() => undefined);
        const m = s?.body?.metrics;
        lastSeen = { campaign: s?.body?.campaign?.status, metrics: m, credits: me?.body?.credits };
        if (TRACE) {
          // CHAOS_TRACE=1: a timeline of the settling, to see where idle seconds go.
          const st = sandbox.stats();
          const [checks] = await api.db.query(
            `SELECT count(*) FILTER (WHERE check_at <= now())::int AS due, count(check_at)::int AS scheduled, max(checks)::int AS most,
                    round(extract(epoch FROM min(check_at) - now())::numeric, 1) AS next_in
               FROM campaign_batches WHERE campaign_id = $1`, [c.body.id]).catch(() => [undefined]);
          console.log(`trace ${((Date.now() - started) / 1000).toFixed(1)} s: ${s?.body?.campaign?.status} bulk ${st.requests.byEndpoint.bulk} single ${st.requests.byEndpoint.single} ` +
            `status ${st.requests.byEndpoint.status} accepted ${st.accepted} reports sent ${st.reportsSent} dropped ${st.reportsDropped}; ` +
            `queued ${m?.queued} unknown ${m?.unknown} sent ${m?.sent} delivered ${m?.delivered}; checks ${JSON.stringify(checks)}`);
        }
        const settled = m && ['completed', 'failed'].includes(s.body.campaign.status) && m.queued + m.unknown + m.sent === 0;
        return settled && me?.status === 200 ? { status: s.body, me: me.body } : undefined;
      }, 300_000, 500).catch(async (e: Error) => {
        // What did not settle: the campaign, its messages and batches as the database has them.
        const batches = await api.db.query(
          `SELECT state, count(*)::int AS n, count(lease_token)::int AS leased, count(inflight_from)::int AS marked,
                  count(check_at)::int AS checks_due, count(unknown_at)::int AS with_unknown, min(not_before) AS not_before
             FROM campaign_batches WHERE campaign_id = $1 GROUP BY state`, [c.body.id]);
        const unknown = await api.db.query(
          `SELECT error_code, count(*)::int AS n, count(provider_message_id)::int AS with_provider_id, min(updated_at) AS oldest
             FROM campaign_messages WHERE campaign_id = $1 AND status IN ('unknown', 'queued', 'sent') GROUP BY status, error_code`, [c.body.id]);
        throw new Error(`${e.message}; last status ${JSON.stringify(lastSeen)}; batches ${JSON.stringify(batches)}; unsettled ${JSON.stringify(unknown)}; ` +
          `sandbox accepted ${sandbox.stats().accepted}, duplicates ${sandbox.stats().duplicateReferences}`, { cause: e });
      });
      const stats = sandbox.stats();
      const m = final.status.metrics;
      const perSecond = Object.entries(stats.perSecondByApiKey[SANDBOX_KEY] ?? {}).map(([s]) => Number(s));
      const first = Math.min(...perSecond);
      const last = Math.max(...perSecond);
      const result: CellResult = {
        mode: cell.mode,
        policy: cell.policy,
        fault,
        messages: size,
        lost: size - (stats.accepted - stats.duplicateReferences),
        duplicates: stats.duplicateReferences,
        nonTerminal: m.queued + m.unknown + m.sent,
        reserved: final.me.credits.reserved,
        states: Object.entries(m).filter(([k, v]) => k !== 'total' && v).map(([k, v]) => `${k} ${v}`).join(', '),
        evidence,
        seconds: Math.round((Date.now() - started) / 1000),
        // Seconds between the first and the last request at the sandbox in which it got none.
        idleSeconds: last - first + 1 - perSecond.length,
        idleGaps: idleGaps(perSecond),
      };
      results.push(result);
      console.log(JSON.stringify(result));
      expect(final.status.campaign.status).toBe('completed');
      expect({ lost: result.lost, duplicates: result.duplicates, nonTerminal: result.nonTerminal, reserved: result.reserved }).toEqual({
        lost: 0,
        duplicates: 0,
        nonTerminal: 0,
        reserved: 0,
      });
    }

    it('10 SIGKILLs of the worker process', async () => {
      await run('10 × SIGKILL of the worker', async () => {
        const atKill: number[] = [];
        for (let kill = 0; kill < 10; kill++) {
          const target = accepted() + cell.progressPerKill;
          await waitFor(async () => accepted() >= Math.min(target, cell.size * 0.95), 120_000, 10);
          atKill.push(accepted());
          await stopProcess(worker, 'SIGKILL');
          worker = await spawnWorker();
        }
        // Every kill hit a campaign in progress: it had sent something, and not everything.
        expect(atKill.every((n) => n > 0 && n < cell.size)).toBe(true);
        return `10 kills at ${atKill.join(', ')} accepted`;
      });
    }, 600_000);

    // A crash, not a clean stop: only what was flushed survives. Every write of the send path waits for
    // its flush (docs/ARCHITECTURE.md, "Batch leases", rule 8), so no outcome a worker let go of is lost.
    it('PostgreSQL crashed and down for 3 × the retry budget', async () => {
      await run(`PostgreSQL crashed, down ${Math.round((3 * RETRY_BUDGET_MS) / 1000)} s`, async () => {
        await waitFor(async () => accepted() >= cell.size * 0.3, 120_000, 10);
        const atStop = accepted();
        const logBefore = postgres.log().length;
        await postgres.stop('immediate');
        expect(postgres.isReady()).toBe(false);
        await sleep(3 * RETRY_BUDGET_MS);
        const duringOutage = accepted();
        await postgres.start();
        expect(atStop).toBeLessThan(cell.size);
        // The restart replayed the WAL: the server had been killed, not shut down.
        expect(postgres.log().slice(logBefore)).toMatch(/not properly shut down; automatic recovery in progress/);
        return `crashed at ${atStop} accepted, ${duringOutage - atStop} accepted while down (calls in flight), restarted with crash recovery`;
      });
    }, 600_000);

    it('Redis restarted without persistence', async () => {
      await run('Redis restart, data lost', async () => {
        await waitFor(async () => accepted() >= cell.size * 0.3, 120_000, 10);
        const before = redis.runId();
        const atStop = accepted();
        await redis.stop();
        expect(redis.ping()).toBe(false);
        await sleep(1_000);
        await redis.start();
        expect(redis.runId()).not.toBe(before);
        return `restarted at ${atStop} accepted (run id changed, every job gone)`;
      });
    }, 600_000);

    it('pause/resume every second while the sandbox answers 10 % of sends with HTTP 500', async () => {
      sandbox.configure({ seed: 11 });
      await run('pause/resume every s + 10 % HTTP 500', async (t, id) => {
        sandbox.configure({ faults: { error500Ratio: 0.1 } });
        let pauses = 0;
        let earlyCompletion = false;
        for (;;) {
          const paused = await t.api.post(`/api/campaigns/${id}/pause`);
          if (paused.status === 200) pauses++;
          await sleep(500);
          const s = await t.api.get(`/api/campaigns/${id}/status`);
          if (s.body.campaign.status === 'completed' && s.body.metrics.queued > 0) earlyCompletion = true;
          if (['completed', 'failed'].includes(s.body.campaign.status)) break;
          const resumed = await t.api.post(`/api/campaigns/${id}/resume`);
          expect([202, 409]).toContain(resumed.status);
          await sleep(500);
        }
        const served500 = sandbox.stats().requests.byStatusCode['500'] ?? 0;
        sandbox.configure({ seed: undefined, faults: { error500Ratio: 0 } });
        expect(earlyCompletion).toBe(false);
        expect(pauses).toBeGreaterThanOrEqual(3);
        expect(served500).toBeGreaterThan(0);
        return `${pauses} pauses, ${served500} HTTP 500 served`;
      });
    }, 600_000);
  });
});

/** The faults each cell walks: the four `it`s of the `describe.each` above. */
const FAULTS_PER_CELL = 4;
/** Cells of the whole matrix: {bulk, single} × {fail, resend} × the faults. */
const MATRIX_CELLS = MODES.length * POLICIES.length * FAULTS_PER_CELL;

/**
 * Writes the table into docs/RELIABILITY.md once every cell of the matrix has settled. A run of some
 * cells (`-t`), or one in which a cell never settled, prints its table instead: it must not replace
 * the document's record of a whole run.
 */
function writeResults(): void {
  if (results.length === 0) return;
  const path = 'docs/RELIABILITY.md';
  const table = [
    `Run on ${new Date().toISOString().slice(0, 10)} with \`npm run build && npm run test:chaos -- test/reliability\` (${results.length} cells).`,
    '',
    '| flow | UNKNOWN_POLICY | fault | messages | never reached | duplicates | non-terminal | credits reserved | final states | fault evidence | s | idle s | idle gaps (length at second n of the send) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) =>
      `| ${r.mode} | ${r.policy} | ${r.fault} | ${r.messages} | ${r.lost} | ${r.duplicates} | ${r.nonTerminal} | ${r.reserved} | ${r.states} | ${r.evidence} | ${r.seconds} | ${r.idleSeconds} | ${r.idleGaps} |`),
  ].join('\n');
  if (results.length < MATRIX_CELLS) {
    console.log(`${results.length} of ${MATRIX_CELLS} cells settled (a run with -t, or a cell that never settled); docs/RELIABILITY.md keeps the last whole run.\n${table}`);
    return;
  }
  const doc = readFileSync(path, 'utf8');
  writeFileSync(path, doc.replace(/<!-- results:start -->[\s\S]*<!-- results:end -->/, `<!-- results:start -->\n${table}\n<!-- results:end -->`));
}

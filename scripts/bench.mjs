// Benchmark of the built app (`dist/`): `npm run build && npm run bench`.
//
// Each run starts from scratch: a fresh database `bulk_sms_bench` (dropped, created, migrated), the Mitto
// sandbox and the app as separate processes (real HTTP, real PostgreSQL and Redis). Every figure is the
// median of BENCH_RUNS runs (default 3) with min–max. The result table (with the machine) is printed and
// written into docs/PERFORMANCE.md between <!-- bench:start --> and <!-- bench:end -->.
//
// To fit a few minutes on a small (and possibly busy) machine, the two most expensive figures — the 1M
// enqueue (1M rows seeded) and the CSV import — are measured in the first run only; the rest in every run.
// The built app is copied to a temporary directory first, so a concurrent `npm run build` cannot pull
// `dist/` away in the middle of a run.
//
// Knobs (env): BENCH_RUNS (3), BENCH_CSV_ROWS (200000), BENCH_BIG (1000000: the "1M" size; lower it
// only for a smoke test).
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);

const RUNS = intEnv('BENCH_RUNS', 3);
const BIG = intEnv('BENCH_BIG', 1_000_000);
const CSV_ROWS = intEnv('BENCH_CSV_ROWS', 200_000);
const ENQUEUE_SIZES = [
  { label: '1k', n: 1_000, campaigns: 10 },
  { label: '100k', n: 100_000, campaigns: 1 },
  { label: BIG === 1_000_000 ? '1M' : `${BIG}`, n: BIG, campaigns: 1, firstRunOnly: true },
];
const E2E_SIZE = 100_000;
const LIMITED_BULK_SIZE = 20_000;
const LIMITED_SINGLE_SIZE = 1_000;

const DB_NAME = 'bulk_sms_bench';
const PG_BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE_URL = `${PG_BASE}/${DB_NAME}`;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_KEY = `bench-admin-${randomUUID()}`;
const SANDBOX_KEY = 'bench-sandbox-key';
const QUEUE_PREFIX_BASE = `bench-${randomUUID().slice(0, 8)}`;
const DOC = 'docs/PERFORMANCE.md';
let APP_DIR = ROOT; // replaced by a private copy of dist/ in main()

const HIGH_LIMITS = {
  USE_BULK_SMS: 'true',
  RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000',
  RATE_LIMIT_TENANT_MAX: '100000',
  QUEUE_RATE_MAX: '100000',
};
const LOW_LIMITS = { RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '50', RATE_LIMIT_TENANT_MAX: '50', QUEUE_RATE_MAX: '100000' };

// ---------------------------------------------------------------------------------------------- helpers

function intEnv(name, fallback) {
  const raw = process.env[name];
  return raw && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

const started = Date.now();
function log(msg) {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${s}s] ${msg}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, probe, timeoutMs, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Nearest-rank percentile. */
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ---------------------------------------------------------------------------------------------- processes

const children = new Set();

/** Starts `node <script>` with env; resolves once `readyUrl` answers (200 unless isReady says otherwise). Keeps the output tail for errors. */
async function startProcess(name, script, env, readyUrl, isReady = (status) => status === 200) {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.tail = '';
  const keep = (chunk) => (child.tail = (child.tail + chunk.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!child.stopping) log(`!! ${name} exited unexpectedly (code ${code}, signal ${signal}):\n${child.tail}`);
  });
  child.label = name;
  try {
    await waitFor(`${name} to be ready`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${child.tail}`);
      try {
        return isReady((await fetch(readyUrl)).status);
      } catch {
        return false;
      }
    }, 30_000, 100);
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
  return child;
}

async function stopProcess(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.stopping = true;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function killAllChildren() {
  for (const c of children) {
    c.stopping = true;
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', killAllChildren);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAllChildren();
    process.exit(130);
  });
}

async function startSandbox() {
  const port = await freePort();
  const child = await startProcess('sandbox', path.join(APP_DIR, 'dist/src/mitto-sandbox/main.js'), {
    SANDBOX_PORT: String(port),
    SANDBOX_HOST: '127.0.0.1',
    SANDBOX_API_KEYS: SANDBOX_KEY,
    SANDBOX_LATENCY_MS: '0',
    SANDBOX_WEBHOOK_URL: '',
  }, `http://127.0.0.1:${port}/`, () => true); // any HTTP answer (404 on `/`) means it listens
  return { child, url: `http://127.0.0.1:${port}` };
}

let appCounter = 0;
async function startApp(sandboxUrl, extraEnv) {
  const port = await freePort();
  const env = {
    NODE_ENV: 'production',
    APP_ROLE: 'all',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: `${QUEUE_PREFIX_BASE}-${++appCounter}`,
    ADMIN_API_KEY: ADMIN_KEY,
    MITTO_BASE_URL: sandboxUrl,
    MITTO_API_KEY: SANDBOX_KEY,
    WORKER_CONCURRENCY: '8',
    ...extraEnv,
  };
  const base = `http://127.0.0.1:${port}`;
  const child = await startProcess(`app#${appCounter}`, path.join(APP_DIR, 'dist/src/main.js'), env, `${base}/health/ready`);
  return { child, base, admin: new Api(base, { 'x-admin-api-key': ADMIN_KEY }) };
}

// ---------------------------------------------------------------------------------------------- HTTP

class Api {
  constructor(base, headers) {
    this.base = base;
    this.headers = headers;
  }
  async request(method, p, body, headers = {}) {
    const raw = typeof body === 'string';
    const res = await fetch(this.base + p, {
      method,
      headers: { ...this.headers, ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    return { status: res.status, body: parsed };
  }
  /** Like request(), but throws unless the status is the expected one. */
  async expect(status, method, p, body, headers) {
    const res = await this.request(method, p, body, headers);
    if (res.status !== status) throw new Error(`${method} ${p}: expected ${status}, got ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
    return res.body;
  }
}

async function createTenant(app, { rateLimitPerSecond } = {}) {
  const acct = await app.admin.expect(201, 'POST', '/api/admin/traffic-accounts', {
    name: 'bench account',
    mittoTrafficAccountId: randomUUID(),
    defaultSender: 'BENCH',
  });
  const t = await app.admin.expect(201, 'POST', '/api/admin/tenants', {
    name: `bench ${randomUUID().slice(0, 6)}`,
    trafficAccountId: acct.id,
    credits: 1_000_000_000,
    subscriptionStatus: 'active',
    ...(rateLimitPerSecond ? { rateLimitPerSecond } : {}),
  });
  return { id: t.id, api: new Api(app.base, { authorization: `Bearer ${t.apiKey}` }) };
}

async function createCampaign(tenant, name) {
  const c = await tenant.api.expect(201, 'POST', '/api/campaigns', { name, text: 'Hello from the benchmark' });
  return c.id;
}

/** Starts sending; returns the enqueue request's latency in ms. */
async function enqueue(tenant, id) {
  const t0 = now();
  await tenant.api.expect(202, 'POST', `/api/campaigns/${id}/enqueue`);
  return now() - t0;
}

async function fetchMetrics(app) {
  const res = await fetch(`${app.base}/metrics`);
  return res.status === 200 ? res.text() : undefined;
}

/** Sum of the batch queue's pending jobs from the bulksms_queue_jobs gauge (undefined if not exposed). */
async function pendingJobs(app) {
  const text = await fetchMetrics(app);
  if (!text) return undefined;
  let sum;
  for (const m of text.matchAll(/^bulksms_queue_jobs\{[^}]*state="(waiting|active|delayed|prioritized)"[^}]*\}\s+(\S+)/gm)) {
    sum = (sum ?? 0) + Number(m[2]);
  }
  return sum;
}

async function waitQueueDrained(app, timeoutMs = 120_000) {
  const t0 = now();
  await waitFor('the batch queue to drain', async () => {
    const n = await pendingJobs(app);
    return n === undefined || n === 0;
  }, timeoutMs, 250);
  return now() - t0;
}

/** Polls the status endpoint until the campaign is completed; returns the completion time (epoch ms). */
async function waitCompleted(tenant, id, everyMs, timeoutMs) {
  let last;
  try {
    await waitFor(`campaign ${id} to complete`, async () => {
      last = await tenant.api.expect(200, 'GET', `/api/campaigns/${id}/status`);
      if (['failed', 'cancelled'].includes(last.campaign.status)) throw new Error(`campaign ended ${last.campaign.status}`);
      return last.campaign.status === 'completed';
    }, timeoutMs, everyMs);
  } catch (e) {
    throw new Error(`${e.message}; last status: ${JSON.stringify(last)?.slice(0, 400)}`, { cause: e });
  }
  return last;
}

// ---------------------------------------------------------------------------------------------- SQL

async function resetDatabase() {
  const admin = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await admin.end();
  }
  execFileSync(process.execPath, ['node_modules/typeorm/cli.js', 'migration:run', '-d', path.join(APP_DIR, 'dist/src/database/data-source.js')], {
    env: { ...process.env, DATABASE_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function connectDb() {
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  return db;
}

/** Plain INSERT…SELECT of n recipients (the insert trigger maintains the counters); returns its ms. */
async function seedRecipients(db, campaignId, n) {
  const t0 = now();
  await db.query(
    `INSERT INTO campaign_messages (id, campaign_id, seq, phone, segments)
     SELECT gen_random_uuid(), $1, g, '+4179' || lpad(g::text, 7, '0'), 1 FROM generate_series(0, $2 - 1) g`,
    [campaignId, n],
  );
  const ms = now() - t0;
  await db.query(`UPDATE campaigns SET next_seq = $2 WHERE id = $1`, [campaignId, n]);
  return ms;
}

async function waitAllBatchesDispatched(db, campaignId, timeoutMs) {
  const t0 = now();
  await waitFor(`all batch jobs of ${campaignId}`, async () => {
    const { rows } = await db.query(`SELECT batch_count, dispatched_batches FROM campaigns WHERE id = $1`, [campaignId]);
    return rows[0].batch_count > 0 && rows[0].dispatched_batches === rows[0].batch_count;
  }, timeoutMs, 20);
  return now() - t0;
}

// ---------------------------------------------------------------------------------------------- figures

/**
 * Figure 1: enqueue latency per size. The tenant is limited to 1 Mitto request/s so the campaigns
 * barely send; after each enqueue we wait until `dispatched_batches = batch_count` (all batch jobs
 * exist) and then pause the campaign, whose remaining jobs then end as no-ops.
 */
async function benchEnqueue(app, db, run) {
  const tenant = await createTenant(app, { rateLimitPerSecond: 1 });
  const out = {};
  for (const size of ENQUEUE_SIZES) {
    if (size.firstRunOnly && run > 1) continue;
    const latencies = [];
    const dispatch = [];
    const inserts = [];
    for (let i = 0; i < size.campaigns; i++) {
      const id = await createCampaign(tenant, `enqueue ${size.label} #${i}`);
      inserts.push(await seedRecipients(db, id, size.n));
      latencies.push(await enqueue(tenant, id));
      dispatch.push(await waitAllBatchesDispatched(db, id, 120_000));
      await tenant.api.expect(200, 'POST', `/api/campaigns/${id}/pause`);
    }
    out[size.label] = {
      latencies,
      samples: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      dispatchMs: median(dispatch),
      insertRowsPerSec: size.n / (median(inserts) / 1000),
    };
    log(`  enqueue ${size.label}: p50 ${out[size.label].p50.toFixed(1)} ms, p99 ${out[size.label].p99.toFixed(1)} ms ` +
      `(${latencies.length} samples), all batch jobs after ${out[size.label].dispatchMs.toFixed(0)} ms, ` +
      `INSERT ${Math.round(out[size.label].insertRowsPerSec)} rows/s`);
  }
  const drained = await waitQueueDrained(app);
  log(`  queue drained after the paused campaigns in ${(drained / 1000).toFixed(1)} s`);
  return out;
}

/** Parses cumulative bucket counts of bulksms_batch_seconds{mode="bulk"} from a /metrics text. */
function batchHistogram(text) {
  const buckets = new Map();
  if (!text) return buckets;
  for (const m of text.matchAll(/^bulksms_batch_seconds_bucket\{([^}]*)\}\s+(\S+)/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (labels.mode && labels.mode !== 'bulk') continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/** Bucket upper bound containing the p-th percentile of the difference of two cumulative histograms. */
function histogramPercentile(before, after, p) {
  const les = [...after.keys()].sort((a, b) => a - b);
  const counts = les.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (!total) return { total: 0 };
  const rank = Math.ceil((p / 100) * total);
  const i = counts.findIndex((c) => c >= rank);
  return { total, le: les[i], lower: i > 0 ? les[i - 1] : 0 };
}

/** Figure 2 (+3): 100k bulk campaign end to end, the plain-SQL ceiling of the same writes, batch histogram. */
async function benchEndToEnd(app, db) {
  const tenant = await createTenant(app);
  const id = await createCampaign(tenant, 'e2e 100k');
  await seedRecipients(db, id, E2E_SIZE);
  const hBefore = batchHistogram(await fetchMetrics(app));
  const t0 = Date.now();
  await enqueue(tenant, id);
  const last = await waitCompleted(tenant, id, 200, 300_000);
  const elapsedMs = Date.parse(last.campaign.completedAt) - t0;
  const sent = last.metrics.sent + (last.metrics.delivered ?? 0) + (last.metrics.undelivered ?? 0);
  if (sent !== E2E_SIZE) throw new Error(`e2e: expected ${E2E_SIZE} sent, got ${JSON.stringify(last.metrics)}`);
  const hAfter = batchHistogram(await fetchMetrics(app));
  const msgPerSec = E2E_SIZE / (elapsedMs / 1000);

  // the ceiling: the same two status writes as plain set-based SQL on a separate, never-enqueued campaign
  const ceilingId = await createCampaign(tenant, 'sql ceiling 100k');
  await seedRecipients(db, ceilingId, E2E_SIZE);
  const c0 = now();
  await db.query(`UPDATE campaign_messages SET status = 'sending', claimed_at = now() WHERE campaign_id = $1`, [ceilingId]);
  await db.query(
    `UPDATE campaign_messages SET status = 'sent', provider_message_id = 'pm-' || seq, sent_at = now() WHERE campaign_id = $1`,
    [ceilingId],
  );
  const ceilingRowsPerSec = E2E_SIZE / ((now() - c0) / 1000);

  const batch = hAfter.size
    ? { p50: histogramPercentile(hBefore, hAfter, 50), p99: histogramPercentile(hBefore, hAfter, 99) }
    : undefined;
  log(`  e2e 100k: ${Math.round(msgPerSec)} msg/s (${(elapsedMs / 1000).toFixed(2)} s); SQL ceiling ${Math.round(ceilingRowsPerSec)} rows/s; ` +
    (batch ? `batch p50 ≤ ${batch.p50.le * 1000} ms, p99 ≤ ${batch.p99.le * 1000} ms (${batch.p99.total} batches)` : 'no batch histogram'));
  return { msgPerSec, elapsedMs, ceilingRowsPerSec, ratio: msgPerSec / ceilingRowsPerSec, batch };
}

/** Figure 5: CSV import through the API. */
async function benchCsv(app) {
  const tenant = await createTenant(app);
  const id = await createCampaign(tenant, `csv ${CSV_ROWS}`);
  const lines = ['phone,name'];
  for (let i = 0; i < CSV_ROWS; i++) lines.push(`+4179${String(i).padStart(7, '0')},name${i}`);
  const body = lines.join('\n') + '\n';
  const t0 = now();
  const res = await tenant.api.expect(200, 'POST', `/api/campaigns/${id}/recipients`, body, { 'content-type': 'text/csv' });
  const ms = now() - t0;
  if (res.accepted !== CSV_ROWS) throw new Error(`csv: expected ${CSV_ROWS} accepted, got ${JSON.stringify(res).slice(0, 400)}`);
  const rowsPerSec = CSV_ROWS / (ms / 1000);
  log(`  csv ${CSV_ROWS} rows (${(body.length / 1e6).toFixed(1)} MB): ${Math.round(rowsPerSec)} rows/s (${(ms / 1000).toFixed(2)} s)`);
  return { rowsPerSec, ms };
}

/** Peak resident memory (VmHWM) of a process, in MB, from /proc. */
function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : undefined;
}

/**
 * Figure 6: scaling. A fresh app sends a 10k campaign, another fresh app a BIG (1M) one; per-message
 * time (enqueue → completedAt, divided by the size) and the app's peak RSS are compared.
 */
async function benchScaling(sandbox, db) {
  const out = {};
  for (const n of [10_000, BIG]) {
    const app = await startApp(sandbox.url, HIGH_LIMITS);
    try {
      const tenant = await createTenant(app);
      const id = await createCampaign(tenant, `scaling ${n}`);
      await seedRecipients(db, id, n);
      const t0 = Date.now();
      await enqueue(tenant, id);
      const last = await waitCompleted(tenant, id, 500, 900_000);
      const elapsedMs = Date.parse(last.campaign.completedAt) - t0;
      out[n] = { perMessageMs: elapsedMs / n, peakRssMb: peakRssMb(app.child.pid) };
      log(`  scaling ${n}: ${(elapsedMs / 1000).toFixed(1)} s, ${(out[n].perMessageMs * 1000).toFixed(1)} µs/message, peak RSS ${out[n].peakRssMb?.toFixed(0)} MB`);
    } finally {
      await stopProcess(app.child);
    }
  }
  return { small: out[10_000], big: out[BIG], timeRatio: out[BIG].perMessageMs / out[10_000].perMessageMs, rssGrowthMb: out[BIG].peakRssMb - out[10_000].peakRssMb };
}

/** Figure 4 (one side): a campaign of n recipients under the 50 req/s limits; returns msg/s. */
async function benchLimited(app, db, n, label) {
  const tenant = await createTenant(app);
  const id = await createCampaign(tenant, `${label} ${n}`);
  await seedRecipients(db, id, n);
  const t0 = Date.now();
  await enqueue(tenant, id);
  const last = await waitCompleted(tenant, id, 100, 180_000);
  const elapsedMs = Date.parse(last.campaign.completedAt) - t0;
  const msgPerSec = n / (elapsedMs / 1000);
  log(`  ${label} ${n} at 50 req/s: ${msgPerSec.toFixed(1)} msg/s (${(elapsedMs / 1000).toFixed(2)} s)`);
  return msgPerSec;
}

// ---------------------------------------------------------------------------------------------- a run

async function runOnce(run) {
  log(`run ${run}/${RUNS}: fresh database ${DB_NAME}, sandbox, app`);
  await resetDatabase();
  const db = await connectDb();
  const sandbox = await startSandbox();
  const result = {};
  let app;
  try {
    app = await startApp(sandbox.url, HIGH_LIMITS);
    result.metricsExposed = batchHistogram(await fetchMetrics(app)).size > 0 || /bulksms_batch_seconds/.test((await fetchMetrics(app)) ?? '');
    result.enqueue = await benchEnqueue(app, db, run);
    result.e2e = await benchEndToEnd(app, db);
    if (run === 1) result.csv = await benchCsv(app);
    await stopProcess(app.child);

    if (run === 1 && process.env.BENCH_SCALING !== '0') {
      app = undefined;
      result.scaling = await benchScaling(sandbox, db);
    }

    app = await startApp(sandbox.url, { ...LOW_LIMITS, USE_BULK_SMS: 'true' });
    result.bulk = await benchLimited(app, db, LIMITED_BULK_SIZE, 'bulk');
    await stopProcess(app.child);

    app = await startApp(sandbox.url, { ...LOW_LIMITS, USE_BULK_SMS: 'false' });
    result.single = await benchLimited(app, db, LIMITED_SINGLE_SIZE, 'single');
    result.bulkVsSingle = result.bulk / result.single;
  } finally {
    if (app) await stopProcess(app.child);
    await stopProcess(sandbox.child);
    await db.end();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------- report

function machineInfo(pgVersion) {
  let nproc = String(os.cpus().length);
  try {
    nproc = execFileSync('nproc').toString().trim();
  } catch {
    /* os.cpus() then */
  }
  let redisVersion = 'unknown';
  try {
    redisVersion = /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['-u', REDIS_URL, 'INFO', 'server']).toString())?.[1] ?? 'unknown';
  } catch {
    /* keep unknown */
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    postgres: pgVersion,
    redis: redisVersion,
    node: process.version,
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' / '),
  };
}

async function postgresVersion() {
  const c = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await c.connect();
  const { rows } = await c.query('SELECT version()');
  await c.end();
  return rows[0].version;
}

const fmt = {
  ms: (x) => `${x.toFixed(1)} ms`,
  rate: (x) => `${Math.round(x).toLocaleString('en-US')}`,
  pct: (x) => `${(x * 100).toFixed(0)} %`,
  ratio: (x) => `${x.toFixed(0)}×`,
  sec: (x) => `${(x / 1000).toFixed(2)} s`,
  le: (x) => (x === Infinity ? '> 30 s' : `≤ ${x * 1000} ms`),
};

/** One row: median of the per-run values with min–max. */
function row(label, values, format, note = '') {
  const v = values.filter((x) => x !== undefined && Number.isFinite(x));
  if (!v.length) return `| ${label} | n/a | | ${note} |`;
  return `| ${label} | **${format(median(v))}** | ${format(Math.min(...v))} – ${format(Math.max(...v))} | ${note} |`;
}

function buildReport(results, machine) {
  const pick = (f) => results.map(f);
  const lines = [];
  lines.push(`Run on ${machine.date} — ${RUNS} runs, each figure the median of the runs (min – max across runs).`, '');
  lines.push('| machine | |', '|---|---|');
  lines.push(`| CPU cores (\`nproc\`) | ${machine.nproc} |`);
  lines.push(`| memory | ${machine.memory} |`);
  lines.push(`| PostgreSQL | ${machine.postgres} |`);
  lines.push(`| Redis | ${machine.redis} |`);
  lines.push(`| Node.js | ${machine.node} |`);
  lines.push(`| load average at the end (1/5/15 min) | ${machine.loadavg} |`, '');

  lines.push('| figure | median | min – max | notes |', '|---|---|---|---|');
  for (const size of ENQUEUE_SIZES) {
    const k = size.label;
    const all = results.flatMap((r) => r.enqueue[k]?.latencies ?? []);
    const runs = results.filter((r) => r.enqueue[k]).length;
    const samples = `${all.length} sample${all.length > 1 ? 's' : ''} (${size.campaigns} campaign${size.campaigns > 1 ? 's' : ''} × ${runs} run${runs > 1 ? 's' : ''}), pooled`;
    lines.push(`| enqueue ${k}: p50 | **${fmt.ms(percentile(all, 50))}** | ${fmt.ms(Math.min(...all))} – ${fmt.ms(Math.max(...all))} (all samples) | ${samples} |`);
    lines.push(`| enqueue ${k}: p99 | **${fmt.ms(percentile(all, 99))}** | | nearest-rank p99 of ${all.length} sample${all.length > 1 ? 's' : ''}${all.length < 100 ? ' = the slowest' : ''} |`);
    lines.push(row(`enqueue ${k}: all batch jobs exist after`, pick((r) => r.enqueue[k]?.dispatchMs), fmt.ms,
      `${Math.ceil(size.n / 200)} jobs; polled \`dispatched_batches = batch_count\` every 20 ms`));
    lines.push(row(`reference: plain INSERT…SELECT of ${k} rows`, pick((r) => r.enqueue[k]?.insertRowsPerSec), fmt.rate, 'rows/s (seeding)'));
  }
  lines.push(row('end-to-end bulk send, 100k recipients', pick((r) => r.e2e.msgPerSec), fmt.rate, 'msg/s, enqueue → `completedAt`'));
  lines.push(row('plain-SQL ceiling of the same writes, 100k', pick((r) => r.e2e.ceilingRowsPerSec), fmt.rate,
    'rows/s: `UPDATE … sending` then `UPDATE … sent` (2 × 100k rows)'));
  lines.push(row('end-to-end / ceiling', pick((r) => r.e2e.ratio), fmt.pct));
  if (results.every((r) => r.e2e.batch)) {
    lines.push(row('batch time p50 (bucket bound)', pick((r) => r.e2e.batch.p50.le), fmt.le, '`bulksms_batch_seconds{mode="bulk"}` during the 100k send'));
    lines.push(row('batch time p99 (bucket bound)', pick((r) => r.e2e.batch.p99.le), fmt.le,
      `buckets 10/25/50/100/250 ms…; ${median(pick((r) => r.e2e.batch.p99.total))} batches per run`));
  } else {
    lines.push('| batch time p50 / p99 | not measured | | `/metrics` did not expose `bulksms_batch_seconds` |');
  }
  lines.push(row('bulk mode at 50 req/s, 20k recipients', pick((r) => r.bulk), fmt.rate, 'msg/s'));
  lines.push(row('single mode at 50 req/s, 1,000 messages', pick((r) => r.single), (x) => x.toFixed(1), 'msg/s'));
  lines.push(row('bulk vs single', pick((r) => r.bulkVsSingle), fmt.ratio));
  lines.push(row(`CSV import, ${CSV_ROWS.toLocaleString('en-US')} rows (phone,name)`, pick((r) => r.csv?.rowsPerSec), fmt.rate,
    `rows/s through \`POST /recipients\` (text/csv), run 1 only${CSV_ROWS < 1_000_000 ? '; 200k, not 1M' : ''}`));
  const sc = results.find((r) => r.scaling)?.scaling;
  if (sc) {
    const big = BIG.toLocaleString('en-US');
    lines.push(`| scaling: time per message, 10k / ${big} campaign | **${(sc.small.perMessageMs * 1000).toFixed(1)} / ${(sc.big.perMessageMs * 1000).toFixed(1)} µs** | | run 1 only; fresh app per campaign; enqueue → \`completedAt\` |`);
    lines.push(`| scaling: ratio (${big} / 10k) | **${sc.timeRatio.toFixed(2)}** | | |`);
    lines.push(`| app peak RSS, 10k / ${big} campaign | **${sc.small.peakRssMb.toFixed(0)} / ${sc.big.peakRssMb.toFixed(0)} MB** | | VmHWM of the app process (API + workers) |`);
  }
  lines.push('');

  // goals: judged on the medians
  const m = (f) => median(pick(f).filter((x) => x !== undefined));
  const goals = [];
  for (const size of ENQUEUE_SIZES) {
    const v = percentile(results.flatMap((r) => r.enqueue[size.label]?.latencies ?? []), 99);
    goals.push([`enqueue p99 ≤ 50 ms at ${size.label}`, fmt.ms(v), v <= 50]);
  }
  if (results.every((r) => r.e2e.batch)) {
    const v = m((r) => r.e2e.batch.p99.le);
    goals.push(['batch p99 ≤ 50 ms', fmt.le(v), v <= 0.05]);
  } else goals.push(['batch p99 ≤ 50 ms', 'not measured', undefined]);
  const csv = m((r) => r.csv?.rowsPerSec);
  goals.push([`CSV import ≥ 100k rows/s (${CSV_ROWS.toLocaleString('en-US')} rows)`, `${fmt.rate(csv)} rows/s`, csv >= 100_000]);
  const e2e = m((r) => r.e2e.msgPerSec);
  goals.push(['end-to-end ≥ 20k msg/s', `${fmt.rate(e2e)} msg/s`, e2e >= 20_000]);
  const ratio = m((r) => r.e2e.ratio);
  goals.push(['end-to-end ≥ 50 % of the plain-SQL ceiling', fmt.pct(ratio), ratio >= 0.5]);
  const bvs = m((r) => r.bulkVsSingle);
  goals.push(['bulk vs single ≥ 150× at the same request limit', fmt.ratio(bvs), bvs >= 150]);
  if (sc) {
    goals.push([`peak RSS growth 10k → ${BIG.toLocaleString('en-US')} ≤ 50 MB`, `${sc.rssGrowthMb.toFixed(0)} MB`, sc.rssGrowthMb <= 50]);
    goals.push([`per-message time ratio ${BIG.toLocaleString('en-US')} / 10k ≤ 1.2`, sc.timeRatio.toFixed(2), sc.timeRatio <= 1.2]);
  } else goals.push(['peak RSS growth / per-message time ratio', 'not measured', undefined]);
  lines.push('| goal (from the issue) | this run (median) | |', '|---|---|---|');
  for (const [g, v, ok] of goals) lines.push(`| ${g} | ${v} | ${ok === undefined ? 'not measured' : ok ? 'met' : '**missed**'} |`);
  return lines.join('\n');
}

function writeDoc(report) {
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const block = `${start}\n${report}\n${end}`;
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Performance\n\n${start}\n${end}\n`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  doc = a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOC, doc);
}

/** A private copy of dist/ (node_modules linked) so concurrent rebuilds of dist/ cannot disturb the run. */
function snapshotDist() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-sms-bench-'));
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

async function cleanupRedis() {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${QUEUE_PREFIX_BASE}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  if (!existsSync('dist/src/main.js') || !existsSync('dist/src/mitto-sandbox/main.js')) {
    log('dist/ missing: running `npm run build`');
    execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  }
  APP_DIR = snapshotDist();
  const pgVersion = await postgresVersion();
  const results = [];
  try {
    for (let run = 1; run <= RUNS; run++) results.push(await runOnce(run));
  } finally {
    await cleanupRedis().catch((e) => log(`redis cleanup failed: ${e.message}`));
    rmSync(APP_DIR, { recursive: true, force: true });
  }
  const report = buildReport(results, machineInfo(pgVersion));
  console.log(`\n${report}\n`);
  writeDoc(report);
  log(`written to ${DOC}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench failed: ${err?.stack ?? err}`);
    killAllChildren();
    process.exit(1);
  },
);

// Send figures of the benchmark (see send.mjs): enqueue latency, end-to-end bulk send with its
// plain-SQL ceiling and batch histogram, bulk vs single at the same request limit, scaling 10k → 1M.
import { readdirSync, readFileSync } from 'node:fs';
import {
  createCampaign, createTenant, intEnv, log, median, now, peakRssMb, percentile, startApp, stopProcess, waitFor,
} from './harness.mjs';

/** The "1M" size; lower it only for a smoke test. */
export const BIG = intEnv('BENCH_BIG', 1_000_000);
export const ENQUEUE_SIZES = [
  { label: '1k', n: 1_000, campaigns: 10 },
  { label: '100k', n: 100_000, campaigns: 1 },
  { label: BIG === 1_000_000 ? '1M' : `${BIG}`, n: BIG, campaigns: 1, firstRunOnly: true },
];

export const HIGH_LIMITS = {
  USE_BULK_SMS: 'true',
  RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000',
  RATE_LIMIT_TENANT_MAX: '100000',
  QUEUE_RATE_MAX: '100000',
};
export const LOW_LIMITS = { RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '50', RATE_LIMIT_TENANT_MAX: '50', QUEUE_RATE_MAX: '100000' };
export const E2E_SIZE = 100_000;
export const LIMITED_BULK_SIZE = 20_000;
export const LIMITED_SINGLE_SIZE = 1_000;

/** Starts sending; returns the enqueue request's latency in ms. */
async function enqueue(tenant, id) {
  const t0 = now();
  await tenant.api.expect(202, 'POST', `/api/campaigns/${id}/enqueue`);
  return now() - t0;
}

export async function fetchMetrics(app) {
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
  await waitFor(async () => {
    const n = await pendingJobs(app);
    return n === undefined || n === 0;
  }, timeoutMs, 250, 'the batch queue to drain');
  return now() - t0;
}

/** Polls the status endpoint until the campaign is completed; returns the completion time (epoch ms). */
export async function waitCompleted(tenant, id, everyMs, timeoutMs) {
  let last;
  try {
    await waitFor(async () => {
      last = await tenant.api.expect(200, 'GET', `/api/campaigns/${id}/status`);
      if (['failed', 'cancelled'].includes(last.campaign.status)) throw new Error(`campaign ended ${last.campaign.status}`);
      return last.campaign.status === 'completed';
    }, timeoutMs, everyMs, `campaign ${id} to complete`);
  } catch (e) {
    throw new Error(`${e.message}; last status: ${JSON.stringify(last)?.slice(0, 400)}`, { cause: e });
  }
  return last;
}

/** Plain INSERT…SELECT of n recipients (the insert trigger maintains the counters); returns its ms. */
export async function seedRecipients(db, campaignId, n) {
  const t0 = now();
  await db.query(
    `INSERT INTO campaign_messages (id, campaign_id, seq, phone, segments, variables)
     SELECT gen_random_uuid(), $1, g, '+4179' || lpad(g::text, 7, '0'), 1, jsonb_build_object('n', g::text) FROM generate_series(0, $2 - 1) g`,
    [campaignId, n],
  );
  const ms = now() - t0;
  await db.query(`UPDATE campaigns SET next_seq = $2 WHERE id = $1`, [campaignId, n]);
  return ms;
}

async function waitAllBatchesDispatched(db, campaignId, timeoutMs) {
  const t0 = now();
  await waitFor(async () => {
    const { rows } = await db.query(`SELECT batch_count, dispatched_batches FROM campaigns WHERE id = $1`, [campaignId]);
    return rows[0].batch_count > 0 && rows[0].dispatched_batches === rows[0].batch_count;
  }, timeoutMs, 20, `all batch jobs of ${campaignId}`);
  return now() - t0;
}


/**
 * Figure 1: enqueue latency per size. The tenant is limited to 1 Mitto request/s so the campaigns
 * barely send; after each enqueue we wait until `dispatched_batches = batch_count` (all batch jobs
 * exist) and then pause the campaign, whose remaining jobs then end as no-ops.
 */
export async function benchEnqueue(app, db, run) {
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
export function batchHistogram(text) {
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

/**
 * CPU seconds each process group used while `fn` ran (from /proc): the PostgreSQL backends of the bench
 * database, PostgreSQL's other processes (WAL writer, checkpointer, autovacuum — and anything else on the
 * server), the app, the Mitto sandbox and Redis. Shows where the two cores went.
 */
export async function cpuDuring(db, pids, fn) {
  const dbPids = async () => new Set((await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)).rows.map((r) => String(r.pid)));
  // pids: group name → one pid or several (e.g. the worker processes)
  const groupOf = new Map(Object.entries(pids).flatMap(([k, v]) => [v].flat().filter(Boolean).map((pid) => [String(pid), k])));
  const sample = (ours) => {
    const out = { 'postgres (bench db)': 0, 'postgres (other)': 0, ...Object.fromEntries(Object.keys(pids).map((k) => [k, 0])) };
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let stat;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
      let key;
      if (comm.startsWith('postgres')) key = ours.has(pid) ? 'postgres (bench db)' : 'postgres (other)';
      else key = groupOf.get(pid);
      if (key) out[key] += seconds;
    }
    return out;
  };
  const before = sample(await dbPids());
  const t0 = now();
  const result = await fn();
  const wallMs = now() - t0;
  const after = sample(await dbPids());
  const cpu = Object.fromEntries(Object.keys(after).map((k) => [k, Math.max(0, after[k] - before[k])]));
  return { result, cpu, wallMs };
}
const TICKS_PER_SECOND = 100;

/**
 * The bare reference of a send: the minimal work the machine must do for it — the same number of
 * `UPDATE … FROM unnest(…)` statements of 200 rows, on a table with nothing of ours on it (only a
 * primary key), over one connection. Measured right after the send, in the same run.
 */
export async function bareReference(db, rows) {
  await db.query('DROP TABLE IF EXISTS bench_bare_reference');
  await db.query('CREATE TABLE bench_bare_reference (id int PRIMARY KEY, status text NOT NULL, provider_id text)');
  await db.query(`INSERT INTO bench_bare_reference SELECT g, 'queued', NULL FROM generate_series(0, $1 - 1) g`, [rows]);
  await db.query('VACUUM ANALYZE bench_bare_reference');
  const t0 = now();
  for (let from = 0; from < rows; from += 200) {
    const ids = Array.from({ length: Math.min(200, rows - from) }, (_, i) => from + i);
    await db.query(
      `UPDATE bench_bare_reference r SET status = 'sent', provider_id = u.p FROM unnest($1::int[], $2::text[]) AS u(id, p) WHERE r.id = u.id`,
      [ids, ids.map((i) => `pm-${i}`)],
    );
  }
  const rowsPerSec = rows / ((now() - t0) / 1000);
  await db.query('DROP TABLE bench_bare_reference');
  return rowsPerSec;
}

/** Sends a seeded campaign of n recipients end to end (enqueue → completedAt) and measures it against its bare reference. */
export async function benchEndToEnd(app, db, n, pids) {
  const tenant = await createTenant(app);
  const id = await createCampaign(tenant, `e2e ${n}`, 'Hello {{n}}, this is the benchmark');
  await seedRecipients(db, id, n);
  await db.query('VACUUM ANALYZE campaign_messages');
  const hBefore = batchHistogram(await fetchMetrics(app));
  const { result: last, cpu, wallMs } = await cpuDuring(db, { app: app.child.pid, ...pids }, async () => {
    const t0 = Date.now();
    await enqueue(tenant, id);
    const done = await waitCompleted(tenant, id, 200, 900_000);
    return { ...done, t0 };
  });
  const elapsedMs = Date.parse(last.campaign.completedAt) - last.t0;
  const sent = last.metrics.sent + (last.metrics.delivered ?? 0) + (last.metrics.undelivered ?? 0);
  if (sent !== n) throw new Error(`e2e: expected ${n} sent, got ${JSON.stringify(last.metrics)}`);
  const hAfter = batchHistogram(await fetchMetrics(app));
  const msgPerSec = n / (elapsedMs / 1000);
  const referenceRowsPerSec = await bareReference(db, n);
  const batch = hAfter.size
    ? { p50: histogramPercentile(hBefore, hAfter, 50), p99: histogramPercentile(hBefore, hAfter, 99) }
    : undefined;
  log(`  e2e ${n}: ${Math.round(msgPerSec)} msg/s (${(elapsedMs / 1000).toFixed(2)} s); bare reference ${Math.round(referenceRowsPerSec)} rows/s ` +
    `(ratio ${(msgPerSec / referenceRowsPerSec).toFixed(2)}); CPU s: ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} in ${(wallMs / 1000).toFixed(1)} s`);
  return { msgPerSec, elapsedMs, referenceRowsPerSec, ratio: msgPerSec / referenceRowsPerSec, batch, cpu, cpuWallMs: wallMs };
}

/**
 * Scaling: a fresh app sends a 10k campaign, another fresh app a BIG (1M) one (each through
 * benchEndToEnd, so the 1M send has its own bare reference); per-message time and the app's peak RSS
 * are compared.
 */
export async function benchScaling(sandbox, db, pids) {
  const out = {};
  for (const n of [10_000, BIG]) {
    const app = await startApp(sandbox.url, HIGH_LIMITS);
    try {
      const e2e = await benchEndToEnd(app, db, n, pids);
      out[n] = { ...e2e, perMessageMs: e2e.elapsedMs / n, peakRssMb: peakRssMb(app.child.pid) };
      log(`  scaling ${n}: ${(out[n].perMessageMs * 1000).toFixed(1)} µs/message, peak RSS ${out[n].peakRssMb?.toFixed(0)} MB`);
    } finally {
      await stopProcess(app.child);
    }
  }
  return { small: out[10_000], big: out[BIG], timeRatio: out[BIG].perMessageMs / out[10_000].perMessageMs, rssGrowthMb: out[BIG].peakRssMb - out[10_000].peakRssMb };
}

/** Figure 4 (one side): a campaign of n recipients under the 50 req/s limits; returns msg/s. */
export async function benchLimited(app, db, n, label) {
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

// Send figures of the benchmark (see send.mjs): enqueue latency, end-to-end bulk send with its
// plain-SQL ceiling and batch histogram, bulk vs single at the same request limit, scaling 10k → 1M.
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

/** Figure 2 (+3): 100k bulk campaign end to end, the plain-SQL ceiling of the same writes, batch histogram. */
export async function benchEndToEnd(app, db) {
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

/**
 * Figure 6: scaling. A fresh app sends a 10k campaign, another fresh app a BIG (1M) one; per-message
 * time (enqueue → completedAt, divided by the size) and the app's peak RSS are compared.
 */
export async function benchScaling(sandbox, db) {
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

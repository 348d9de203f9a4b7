// Diagnostic behind docs/PERFORMANCE.md, "Goals" (first send after a start) and the pool setting in
// src/database/data-source-options.ts: one fresh app sends several 100k bulk campaigns one after the other;
// per send, how many messages were written as sent in each 200 ms from the enqueue request (`sent_at`), the
// quantiles of that, msg/s (enqueue → `completedAt`) and the app's pool connections open before it.
// With GAP_MS the app sits idle that long before each send after the first (pool connections idle out
// when the pool lets them).
//   npm run build && node scripts/bench/timeline.mjs [recipients=100000] [sends=3]
//   npm run build && GAP_MS=12000 node scripts/bench/timeline.mjs 100000 3
import { connectDb, createCampaign, createTenant, intEnv, log, resetDatabase, sleep, startApp, startSandbox, stopProcess } from './harness.mjs';
import { HIGH_LIMITS, seedRecipients, waitCompleted } from './send-figures.mjs';

const N = Number(process.argv[2] ?? 100_000);
const SENDS = Number(process.argv[3] ?? 3);
const GAP_MS = intEnv('GAP_MS', 0);
const BUCKET_MS = 200;

await resetDatabase();
const db = await connectDb();
const sandbox = await startSandbox();
const app = await startApp(sandbox.url, HIGH_LIMITS);
try {
  for (let i = 0; i < SENDS; i++) {
    if (GAP_MS > 0 && i > 0) {
      log(`idle ${GAP_MS} ms`);
      await sleep(GAP_MS);
    }
    const [{ n: connections }] = (await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'bulk-sms'`)).rows;
    const tenant = await createTenant(app);
    const id = await createCampaign(tenant, `timeline ${i}`, 'Hello {{n}}, this is the benchmark');
    await seedRecipients(db, id, N);
    await db.query('VACUUM ANALYZE campaign_messages');
    log(`send ${i + 1}: enqueueing`); // scripts/bench/perf-profile.sh starts recording on this line
    const t0 = Date.now();
    await tenant.api.expect(202, 'POST', `/api/campaigns/${id}/enqueue`);
    const done = await waitCompleted(tenant, id, 50, 600_000);
    const end = Date.parse(done.campaign.completedAt);
    const { rows } = await db.query(
      `SELECT floor(extract(epoch FROM sent_at) * 1000 - $2)::int AS ms FROM campaign_messages WHERE campaign_id = $1 ORDER BY 1`,
      [id, t0],
    );
    const ms = rows.map((r) => r.ms);
    const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
    const buckets = Array.from({ length: Math.ceil((end - t0) / BUCKET_MS) }, (_, b) => ms.filter((x) => x >= b * BUCKET_MS && x < (b + 1) * BUCKET_MS).length);
    log(`send ${i + 1}: ${connections} app connections before; first sent_at ${ms[0]} ms, p10 ${q(0.1)}, p50 ${q(0.5)}, p90 ${q(0.9)}, ` +
      `last ${ms.at(-1)}; completedAt ${end - t0} ms; ${Math.round(N / ((end - t0) / 1000))} msg/s`);
    log(`  sent per ${BUCKET_MS} ms: ${buckets.join(' ')}`);
  }
} finally {
  await stopProcess(app.child);
  await stopProcess(sandbox.child);
  await db.end();
}

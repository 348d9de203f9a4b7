// Diagnostic behind docs/PERFORMANCE.md ("A campaign imported into a table without fresh statistics"):
// a fresh database, one campaign imported through the API as CSV (as a user does: no VACUUM ANALYZE
// afterwards, unlike the bench's seeding), then sent in bulk at the bench's high limits. Prints msg/s
// (enqueue → completedAt) and whether PostgreSQL had analysed campaign_messages by the end.
//   npm run build && node scripts/bench/first-import.mjs [recipients=100000]
import { connectDb, createCampaign, createTenant, log, resetDatabase, startApp, startSandbox, stopProcess } from './harness.mjs';
import { HIGH_LIMITS, waitCompleted } from './send-figures.mjs';

const N = Number(process.argv[2] ?? 100_000);
await resetDatabase();
const db = await connectDb();
const sandbox = await startSandbox();
const app = await startApp(sandbox.url, HIGH_LIMITS);
try {
  const tenant = await createTenant(app);
  const id = await createCampaign(tenant, 'first import', 'Hello {{n}}, this is the benchmark');
  const csv = ['phone,n', ...Array.from({ length: N }, (_, i) => `+4179${String(i).padStart(7, '0')},${i}`)].join('\n');
  await tenant.api.expect(200, 'POST', `/api/campaigns/${id}/recipients`, csv, { 'content-type': 'text/csv' });
  const started = Date.now();
  await tenant.api.expect(202, 'POST', `/api/campaigns/${id}/enqueue`);
  await waitCompleted(tenant, id, 100, 600_000);
  const [{ completed_at: completedAt }] = (await db.query('SELECT completed_at FROM campaigns WHERE id = $1', [id])).rows;
  const seconds = (new Date(completedAt).getTime() - started) / 1000;
  const [stats] = (await db.query(
    `SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'campaign_messages'`)).rows;
  log(`${N} recipients imported as CSV into a fresh database: ${Math.round(N / seconds)} msg/s (${seconds.toFixed(2)} s); ` +
    `campaign_messages analysed: ${stats.last_autoanalyze ?? stats.last_analyze ?? 'not yet'}`);
} finally {
  await stopProcess(app.child);
  await stopProcess(sandbox.child);
  await db.end();
}

// Diagnostic behind docs/PERFORMANCE.md, "Goals" (commits that do not wait for their flush): what the app's
// PostgreSQL backends are doing during a send. Polls pg_stat_activity of the bench database as fast as one
// connection can (every ~0.5 ms) for the given time and counts, per statement (its first words), how often
// a backend was on CPU or waiting, and on what (wait_event_type:wait_event). Run it next to a send:
//   npm run build && (node scripts/bench/timeline.mjs 100000 6 &) && sleep 6 && node scripts/bench/waits.mjs 9000
import { connectDb, log } from './harness.mjs';

const DURATION_MS = Number(process.argv[2] ?? 10_000);
const db = await connectDb();
const counts = new Map();
let samples = 0;
const end = Date.now() + DURATION_MS;
while (Date.now() < end) {
  const { rows } = await db.query(
    `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 40) AS statement
       FROM pg_stat_activity WHERE application_name = 'bulk-sms' AND state = 'active'`,
  );
  for (const r of rows) {
    const key = `${r.wait.padEnd(24)} ${r.statement}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  samples++;
}
await db.end();
log(`${samples} samples in ${DURATION_MS} ms; active backends by state and statement:`);
for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${String(n).padStart(7)}  ${key}`);

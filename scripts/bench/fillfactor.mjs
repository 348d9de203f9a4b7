// Diagnostic behind docs/PERFORMANCE.md, "Sending: fill factor": the fill factor of `campaign_messages`
// against what a bulk send costs. Rounds of interleaved variants (the machine's speed drifts, so each
// variant runs next to the others in every round); each variant gets a fresh database, migrated as
// shipped and then set to its fill factor, and a fresh app, which sends two 100k campaigns one after the
// other (the second lands on a table that already holds the first). Per send: msg/s, PostgreSQL's CPU per
// 1,000 messages and the share of the send's row updates that were HOT (`pg_stat_user_tables`).
//   npm run build && node scripts/bench/fillfactor.mjs            # 4 rounds of 40 (shipped) and 50
//   npm run build && node scripts/bench/fillfactor.mjs 3 40 30    # 3 rounds of the fill factors given
import { cleanup, connectDb, fmt, log, median, prepareBuild, resetDatabase, sleep, startApp, startSandbox, stopProcess } from './harness.mjs';
import { HIGH_LIMITS, benchEndToEnd } from './send-figures.mjs';

const [roundsArg, ...factorsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg ?? 4);
const FACTORS = factorsArg.length ? factorsArg.map(Number) : [40, 50];
const SIZE = 100_000;
const SENDS = 2;

async function updateCounts(db) {
  await sleep(1_500); // backends report their table statistics within a second of going idle
  await db.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.query(`SELECT n_tup_upd::bigint AS upd, n_tup_hot_upd::bigint AS hot FROM pg_stat_user_tables WHERE relname = 'campaign_messages'`);
  return { upd: Number(rows[0].upd), hot: Number(rows[0].hot) };
}

/** The fill factor the migrations give `campaign_messages` (read from the fresh database). */
async function shippedFillFactor(db) {
  const [{ reloptions }] = (await db.query(`SELECT reloptions FROM pg_class WHERE relname = 'campaign_messages'`)).rows;
  return Number(/fillfactor=(\d+)/.exec((reloptions ?? []).join(','))?.[1] ?? 100);
}

let shipped;
async function runVariant(factor) {
  await resetDatabase();
  const db = await connectDb();
  const sandbox = await startSandbox();
  let app;
  try {
    shipped = await shippedFillFactor(db);
    if (factor !== shipped) await db.query(`ALTER TABLE campaign_messages SET (fillfactor = ${factor})`);
    app = await startApp(sandbox.url, HIGH_LIMITS);
    const sends = [];
    for (let i = 0; i < SENDS; i++) {
      const before = await updateCounts(db);
      const e2e = await benchEndToEnd(app, db, SIZE, { sandbox: sandbox.child.pid });
      const after = await updateCounts(db);
      const upd = after.upd - before.upd;
      sends.push({ msgPerSec: e2e.msgPerSec, pgMsPer1k: (e2e.cpu['postgres (bench db)'] / SIZE) * 1e6, hotShare: upd ? (after.hot - before.hot) / upd : NaN });
    }
    return sends;
  } finally {
    if (app) await stopProcess(app.child);
    await stopProcess(sandbox.child);
    await db.end();
  }
}

prepareBuild();
const results = new Map(FACTORS.map((f) => [f, []]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const factor of FACTORS) {
      log(`round ${round}/${ROUNDS}: fill factor ${factor}`);
      results.get(factor).push(...(await runVariant(factor)));
    }
  }
} finally {
  await cleanup();
}

const range = (xs, f) => `${f(Math.min(...xs))} – ${f(Math.max(...xs))}`;
const ms = (x) => `${x.toFixed(0)} ms`;
console.log(`\n${ROUNDS} rounds, ${SENDS} sends of ${SIZE.toLocaleString('en-US')} per variant and round; medians (min – max)\n`);
console.log('| fill factor | msg/s | PostgreSQL CPU per 1,000 messages | HOT share of the send\'s updates | sends |');
console.log('|---|---|---|---|---|');
for (const [factor, sends] of results) {
  const col = (k) => sends.map((s) => s[k]);
  const label = `${factor}${factor === shipped ? ' (shipped)' : ''}`;
  console.log(`| ${label} | **${fmt.rate(median(col('msgPerSec')))}** (${range(col('msgPerSec'), fmt.rate)}) | **${ms(median(col('pgMsPer1k')))}** (${range(col('pgMsPer1k'), ms)}) | **${fmt.pct(median(col('hotShare')))}** (${range(col('hotShare'), fmt.pct)}) | ${sends.length} |`);
}

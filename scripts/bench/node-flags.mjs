// Diagnostic behind docs/PERFORMANCE.md, "Node flags and worker concurrency": how the app is started
// against what a bulk send costs. A variant is a string of node flags (`--…`) and app settings
// (`NAME=value`); one without node flags runs with the flags the app ships with. Rounds of interleaved
// variants (the machine's speed drifts, so each variant runs next to the others in every round); each
// variant gets a fresh database and a fresh app, which sends two 100k campaigns one after the other. Per
// send: msg/s, its bare reference (same run), the app's and all processes' CPU per 1,000 messages; per app:
// peak RSS (VmHWM) after both sends.
//   npm run build && node scripts/bench/node-flags.mjs            # 3 rounds: as shipped, semi-space 64 MB, 1024 MB cap
//   npm run build && node scripts/bench/node-flags.mjs 3 WORKER_CONCURRENCY=8 WORKER_CONCURRENCY=4 WORKER_CONCURRENCY=6
import { APP_NODE_ARGS } from '../lib/app-runtime.mjs';
import { cleanup, connectDb, fmt, log, median, peakRssMb, prepareBuild, resetDatabase, startApp, startSandbox, stopProcess } from './harness.mjs';
import { HIGH_LIMITS, benchEndToEnd } from './send-figures.mjs';

const [roundsArg, ...variantsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg ?? 3);
const SHIPPED = APP_NODE_ARGS.join(' ');
const VARIANTS = variantsArg.length
  ? variantsArg
  : [SHIPPED, '--max-old-space-size=512 --max-semi-space-size=64', '--max-old-space-size=1024'];
const SIZE = 100_000;
const SENDS = 2;

async function runVariant(flags) {
  await resetDatabase();
  const db = await connectDb();
  const sandbox = await startSandbox();
  let app;
  try {
    const tokens = flags.split(' ').filter(Boolean);
    const nodeArgs = tokens.filter((t) => t.startsWith('--'));
    const settings = Object.fromEntries(tokens.filter((t) => !t.startsWith('--')).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
    app = await startApp(sandbox.url, { ...HIGH_LIMITS, ...settings }, { nodeArgs: nodeArgs.length ? nodeArgs : APP_NODE_ARGS });
    const sends = [];
    for (let i = 0; i < SENDS; i++) {
      const e2e = await benchEndToEnd(app, db, SIZE, { sandbox: sandbox.child.pid });
      const total = Object.values(e2e.cpu).reduce((a, b) => a + b, 0);
      sends.push({ msgPerSec: e2e.msgPerSec, ratio: e2e.ratio, appMsPer1k: (e2e.cpu.app / SIZE) * 1e6, allMsPer1k: (total / SIZE) * 1e6 });
    }
    const rss = peakRssMb(app.child.pid);
    return sends.map((s) => ({ ...s, rss }));
  } finally {
    if (app) await stopProcess(app.child);
    await stopProcess(sandbox.child);
    await db.end();
  }
}

prepareBuild();
const results = new Map(VARIANTS.map((v) => [v, []]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const flags of VARIANTS) {
      log(`round ${round}/${ROUNDS}: ${flags}`);
      results.get(flags).push(...(await runVariant(flags)));
    }
  }
} finally {
  await cleanup();
}

const range = (xs, f) => `${f(Math.min(...xs))} – ${f(Math.max(...xs))}`;
const ms = (x) => `${x.toFixed(0)} ms`;
const mb = (x) => `${x.toFixed(0)} MB`;
const ratio = (x) => x.toFixed(2);
console.log(`\n${ROUNDS} rounds, ${SENDS} sends of ${SIZE.toLocaleString('en-US')} per variant and round; medians (min – max)\n`);
console.log('| variant | msg/s | ratio to the bare reference | app CPU per 1,000 messages | all processes\' CPU per 1,000 messages | app peak RSS | sends |');
console.log('|---|---|---|---|---|---|---|');
for (const [flags, sends] of results) {
  const col = (k) => sends.map((s) => s[k]);
  const label = `\`${flags}\`${flags === SHIPPED ? ' (shipped)' : ''}`;
  console.log(`| ${label} | **${fmt.rate(median(col('msgPerSec')))}** (${range(col('msgPerSec'), fmt.rate)}) | **${ratio(median(col('ratio')))}** (${range(col('ratio'), ratio)}) | **${ms(median(col('appMsPer1k')))}** (${range(col('appMsPer1k'), ms)}) | **${ms(median(col('allMsPer1k')))}** (${range(col('allMsPer1k'), ms)}) | **${mb(median(col('rss')))}** (${range(col('rss'), mb)}) | ${sends.length} |`);
}

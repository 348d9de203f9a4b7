// Send section of the benchmark (`npm run bench -- send`): enqueue latency, end-to-end bulk send of
// 100k and 1M recipients each next to its bare reference (the same number of 200-row
// `UPDATE … FROM unnest(…)` statements on a table with only a primary key, one connection, measured
// in the same run), where the CPU went, batch time, bulk vs single, scaling 10k → 1M (time, peak RSS).
//
// Every figure is the median of BENCH_RUNS runs (default 3) with min–max; each run starts from a
// fresh database `bulk_sms_bench`, the Mitto sandbox and the app. The most expensive figures — the 1M
// enqueue, the 1M send and the scaling pair — are measured in the first run only.
import { execFileSync } from 'node:child_process';
import {
  DB_NAME, REDIS_URL, connectDb, fmt, intEnv, log, machineTable, median, percentile, resetDatabase, row, startApp, startSandbox, stopProcess,
} from './harness.mjs';
import {
  BIG, E2E_SIZE, ENQUEUE_SIZES, HIGH_LIMITS, LIMITED_BULK_SIZE, LIMITED_SINGLE_SIZE, LOW_LIMITS,
  batchHistogram, benchEndToEnd, benchEnqueue, benchLimited, benchScaling, fetchMetrics,
} from './send-figures.mjs';

const RUNS = intEnv('BENCH_RUNS', 3);

/** Runs the send section; returns its report (markdown). */
export async function runSend(machine) {
  const results = [];
  for (let run = 1; run <= RUNS; run++) results.push(await runOnce(run));
  return buildReport(results, machine);
}

async function runOnce(run) {
  log(`send run ${run}/${RUNS}: fresh database ${DB_NAME}, sandbox, app`);
  await resetDatabase();
  const db = await connectDb();
  const sandbox = await startSandbox();
  const result = {};
  let app;
  try {
    app = await startApp(sandbox.url, HIGH_LIMITS);
    result.metricsExposed = batchHistogram(await fetchMetrics(app)).size > 0 || /bulksms_batch_seconds/.test((await fetchMetrics(app)) ?? '');
    result.enqueue = await benchEnqueue(app, db, run);
    await stopProcess(app.child);
    // The sends get a fresh app (no paused enqueue campaigns around), which sends 100k twice: its first
    // send pays the process's warm-up (V8 compiling the hot paths, the pool's first connections), the
    // second runs as a service that has been sending does. Both are reported; the second is the send.
    const pids = { sandbox: sandbox.child.pid, redis: redisPid() };
    app = await startApp(sandbox.url, HIGH_LIMITS);
    result.e2eFirst = await benchEndToEnd(app, db, E2E_SIZE, pids);
    result.e2e = await benchEndToEnd(app, db, E2E_SIZE, pids);
    await stopProcess(app.child);

    if (run === 1 && process.env.BENCH_SCALING !== '0') {
      app = undefined;
      result.scaling = await benchScaling(sandbox, db, pids);
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

function redisPid() {
  try {
    return Number(/process_id:(\d+)/.exec(execFileSync('redis-cli', ['-u', REDIS_URL, 'INFO', 'server']).toString())?.[1]);
  } catch {
    return undefined;
  }
}

/** CPU per 1,000 messages of the 100k send, by process group: median of the runs (min – max). */
function cpuRows(results) {
  const keys = Object.keys(results[0].e2e.cpu);
  const ms = (x) => `${x.toFixed(0)} ms`;
  const per1k = (r, k) => (r.e2e.cpu[k] / E2E_SIZE) * 1_000_000;
  const lines = ['| process | CPU per 1,000 messages | min – max | |', '|---|---|---|---|'];
  for (const k of keys) lines.push(row(k, results.map((r) => per1k(r, k)), ms));
  lines.push(row('all of them', results.map((r) => keys.reduce((a, k) => a + per1k(r, k), 0)), ms));
  lines.push(row('two cores × the send\'s wall time', results.map((r) => ((2 * r.e2e.cpuWallMs) / E2E_SIZE) * 1000), ms, 'what the machine had'));
  return lines;
}

function buildReport(results, machine) {
  const pick = (f) => results.map(f);
  const lines = [];
  lines.push(`Run on ${machine.date} — ${RUNS} runs, each figure the median of the runs (min – max across runs).`, '');
  lines.push(...machineTable(machine, `${machine.loadavg()} (at the end)`));

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
  lines.push(row('end-to-end bulk send, 100k recipients', pick((r) => r.e2e.msgPerSec), fmt.rate, 'msg/s, enqueue → `completedAt`; the app\'s second 100k send'));
  lines.push(row('bare reference, 100k', pick((r) => r.e2e.referenceRowsPerSec), fmt.rate,
    'rows/s: 500 × `UPDATE … FROM unnest(…)` of 200 rows, table with only a primary key, one connection'));
  lines.push(row('end-to-end / bare reference, 100k', pick((r) => r.e2e.ratio), (x) => x.toFixed(2)));
  lines.push(row('end-to-end bulk send, 100k, first send after the app started', pick((r) => r.e2eFirst.msgPerSec), fmt.rate, 'msg/s; the same app, right before'));
  lines.push(row('bare reference, 100k, after the first send', pick((r) => r.e2eFirst.referenceRowsPerSec), fmt.rate, 'rows/s'));
  lines.push(row('end-to-end / bare reference, 100k, first send', pick((r) => r.e2eFirst.ratio), (x) => x.toFixed(2)));
  const bigSend = results.find((r) => r.scaling)?.scaling?.big;
  if (bigSend) {
    const label = BIG.toLocaleString('en-US');
    lines.push(row(`end-to-end bulk send, ${label} recipients`, [bigSend.msgPerSec], fmt.rate, 'msg/s, run 1 only; the first send of its own fresh app (the 100k row above: a second send)'));
    lines.push(row(`bare reference, ${label}`, [bigSend.referenceRowsPerSec], fmt.rate, `rows/s: ${BIG / 200} statements of 200 rows, same run`));
    lines.push(row(`end-to-end / bare reference, ${label}`, [bigSend.ratio], (x) => x.toFixed(2)));
  }
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
  const sc = results.find((r) => r.scaling)?.scaling;
  if (sc) {
    const big = BIG.toLocaleString('en-US');
    lines.push(`| scaling: time per message, 10k / ${big} campaign | **${(sc.small.perMessageMs * 1000).toFixed(1)} / ${(sc.big.perMessageMs * 1000).toFixed(1)} µs** | | run 1 only; fresh app per campaign; enqueue → \`completedAt\` |`);
    lines.push(`| scaling: ratio (${big} / 10k) | **${sc.timeRatio.toFixed(2)}** | | |`);
    lines.push(`| app peak RSS, 10k / ${big} campaign | **${sc.small.peakRssMb.toFixed(0)} / ${sc.big.peakRssMb.toFixed(0)} MB** | | VmHWM of the app process (API + workers) |`);
  }
  lines.push('');
  lines.push('Where the CPU went during the 100k send (the app\'s second; from `/proc`, the whole send, enqueue → completion):', '');
  lines.push(...cpuRows(results));
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
  const e2e = m((r) => r.e2e.msgPerSec);
  goals.push(['end-to-end ≥ 20,000 msg/s, 100k', `${fmt.rate(e2e)} msg/s`, e2e >= 20_000]);
  const ratio = m((r) => r.e2e.ratio);
  goals.push(['end-to-end ≥ 0.30 of the bare reference, 100k', ratio.toFixed(2), ratio >= 0.3]);
  const e2eFirst = m((r) => r.e2eFirst.msgPerSec);
  goals.push(['end-to-end ≥ 20,000 msg/s, 100k, first send after the app started', `${fmt.rate(e2eFirst)} msg/s`, e2eFirst >= 20_000]);
  const ratioFirst = m((r) => r.e2eFirst.ratio);
  goals.push(['end-to-end ≥ 0.30 of the bare reference, 100k, first send after the app started', ratioFirst.toFixed(2), ratioFirst >= 0.3]);
  if (bigSend) {
    goals.push([`end-to-end ≥ 20,000 msg/s, ${BIG.toLocaleString('en-US')}`, `${fmt.rate(bigSend.msgPerSec)} msg/s`, bigSend.msgPerSec >= 20_000]);
    goals.push([`end-to-end ≥ 0.30 of the bare reference, ${BIG.toLocaleString('en-US')}`, bigSend.ratio.toFixed(2), bigSend.ratio >= 0.3]);
  }
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

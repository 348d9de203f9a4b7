// Latency and accuracy of the rate limiter (docs/RATE_LIMITING.md, "Measured"): the built
// RateLimiterService (run `npm run build` first) against the Redis at REDIS_URL (default the local one),
// under a random key prefix that is deleted afterwards.
//
//   npm run build && node scripts/rate-limiter-bench.mjs
//
// RL_BENCH_CALLS (default 10000) calls per latency scenario after RL_BENCH_WARMUP (2000) warm-up calls.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { ROOT, removeRedisKeys, sleep } from './lib/harness.mjs';

const load = (file) => import(pathToFileURL(path.join(ROOT, 'dist/src', file)).href);
const { RateLimiterService } = await load('rate-limiting/rate-limiter.service.js');
const { MetricsService } = await load('metrics/metrics.service.js');

const intEnv = (name, fallback) => (/^\d+$/.test(process.env[name] ?? '') ? Number(process.env[name]) : fallback);
const CALLS = intEnv('RL_BENCH_CALLS', 10_000);
const WARMUP = intEnv('RL_BENCH_WARMUP', 2_000);
const PREFIX = `rl-bench-${randomUUID().slice(0, 8)}`;

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const metrics = new MetricsService();
// A generous timeout: a fail-open would measure the timeout, not the limiter.
const limiter = new RateLimiterService(redis, metrics, { keyPrefix: PREFIX, commandTimeoutMs: 1_000 });

const keys = (over) => ({
  trafficAccountId: randomUUID(),
  tenantId: randomUUID(),
  accountMax: 100,
  accountWindowMs: 1,
  tenantMax: 100,
  tenantWindowMs: 1,
  ...over,
});

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** `calls` acquires spread over `loops` concurrent loops; latencies in ms. */
async function measure(k, calls, loops) {
  const latencies = [];
  let granted = 0;
  const loop = async (n) => {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const d = await limiter.acquire(k);
      latencies.push(performance.now() - t0);
      if (d.granted) granted++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: loops }, (_, i) => loop(Math.floor(calls / loops) + (i < calls % loops ? 1 : 0))));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSec: calls / seconds, granted };
}

async function scenario(name, k, loops, prepare = async () => undefined) {
  await prepare(k);
  await measure(k, WARMUP, loops);
  const r = await measure(k, CALLS, loops);
  console.log(`| ${name.padEnd(61)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${Math.round(r.perSec)} calls/s | ${r.granted} granted |`);
}

/** Fills the account and tenant logs with `n` grants (so the scenario runs on full logs). */
const fill = (n) => async (k) => {
  for (let i = 0; i < n; i += 1_000) await limiter.acquire(k, Math.min(1_000, n - i));
};

/** The most timestamps (µs) in any half-open interval [s, s + windowMs). */
function maxInAnyWindow(timestampsUs, windowMs) {
  const ts = [...timestampsUs].sort((a, b) => a - b);
  let best = 0;
  for (let hi = 0, lo = 0; hi < ts.length; hi++) {
    while (ts[hi] - ts[lo] >= windowMs * 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** 20 per 1000 ms, 8 callers for 3 s: 4 retry at once, 4 sleep the advised waitMs. */
async function accuracy() {
  // The tenant limit is wide and long, so its log keeps every grant's Redis timestamp for counting.
  const k = keys({ accountMax: 20, accountWindowMs: 1000, tenantMax: 100_000, tenantWindowMs: 60_000 });
  let granted = 0;
  let refused = 0;
  const deadline = Date.now() + 3000;
  const caller = async (polite) => {
    while (Date.now() < deadline) {
      const d = await limiter.acquire(k);
      if (d.granted) granted++;
      else {
        refused++;
        await (polite ? sleep(Math.max(0, Math.min(d.waitMs, deadline - Date.now()))) : new Promise((r) => setImmediate(r)));
      }
    }
  };
  await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => caller(i < 4)));
  const log = (await redis.lrange(limiter.keysFor(k.trafficAccountId, k.tenantId).tenant, 0, -1)).map(Number);
  const first = Math.min(...log);
  const offsets = log.map((t) => Math.round((t - first) / 1000)).sort((a, b) => a - b);
  const failOpens = (await metrics.rateLimitFailOpen.get()).values.reduce((s, v) => s + v.value, 0);
  console.log(`\naccuracy (20 per 1000 ms, 8 callers, 3 s): ${granted} grants, at most ${maxInAnyWindow(log, 1000)} in any sliding 1000 ms window, ` +
    `${refused} refusals, ${failOpens} fail-opens`);
  console.log(`grant offsets (ms from the first): ${offsets.join(' ')}`);
}

try {
  console.log(`${CALLS} calls per scenario after ${WARMUP} warm-up calls, key prefix ${PREFIX}\n`);
  console.log('| Scenario                                                      | p50 | p99 | rate | granted |');
  console.log('| ------------------------------------------------------------- | --- | --- | ---- | ------- |');
  await scenario('sequential, granted, full logs (max 100 per 1 ms window)', keys(), 1, fill(100));
  await scenario('sequential, refused (100/s account, 50/s tenant, saturated)', keys({ accountWindowMs: 1000, tenantMax: 50, tenantWindowMs: 1000 }), 1, fill(100));
  await scenario('8 concurrent loops, refused (100/s, 50/s)', keys({ accountWindowMs: 1000, tenantMax: 50, tenantWindowMs: 1000 }), 8, fill(100));
  await scenario('8 concurrent loops, granted (max 100 per 1 ms)', keys(), 8);
  await scenario('sequential, granted, logs of 10 000 entries (max 100k / 10 s)', keys({ accountMax: 100_000, accountWindowMs: 10_000, tenantMax: 100_000, tenantWindowMs: 10_000 }), 1, fill(10_000));
  await accuracy();
} finally {
  await removeRedisKeys(REDIS_URL, `${PREFIX}:*`);
  await redis.quit();
}

// What one tenant hammering the API costs another, on a running API process (figures in docs/OPERATIONS.md).
//
//   APP_ROLE=api API_RATE_LIMIT=1000 API_RATE_LIMIT_WINDOW_MS=60000 npm run start:prod &   (then:)
//   API_BASE_URL=http://127.0.0.1:3000 ADMIN_API_KEY=<its admin key> node scripts/api-limit-flood.mjs
//
// Creates tenants A and B, times 200 sequential GET /api/me of B on a quiet API, exhausts A's budget, then
// times B again while 20 connections send A's requests as fast as they can (all refused with 429, as
// long as the window is longer than the run). Prints B's latency percentiles and A's answers by status.
import { createTenant } from './lib/harness.mjs';

const base = process.env.API_BASE_URL ?? 'http://127.0.0.1:3000';
const adminKey = process.env.ADMIN_API_KEY ?? 'dev-admin-key-change-me-0000';
const SAMPLES = 200;
const FLOOD_CONNECTIONS = 20;

const me = (key) =>
  fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

async function timeB(key) {
  const ms = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    const status = await me(key);
    if (status !== 200) throw new Error(`B was answered ${status}: its own budget must not be touched`);
    ms.push(performance.now() - start);
  }
  ms.sort((x, y) => x - y);
  const at = (q) => Number(ms[Math.floor(q * (ms.length - 1))].toFixed(1));
  return { p50Ms: at(0.5), p95Ms: at(0.95), maxMs: at(1) };
}

const a = await createTenant(base, adminKey, { name: 'flood A', account: { name: 'flood test', defaultSender: 'ACME' } });
const b = await createTenant(base, adminKey, { name: 'flood B', trafficAccountId: a.trafficAccountId });

const quiet = await timeB(b.apiKey);
let limit = 0;
while ((await me(a.apiKey)) === 200) limit++;
let stop = false;
const answers = {};
const started = performance.now();
const flood = Array.from({ length: FLOOD_CONNECTIONS }, async () => {
  while (!stop) {
    const status = await me(a.apiKey);
    answers[status] = (answers[status] ?? 0) + 1;
  }
});
const underFlood = await timeB(b.apiKey);
stop = true;
await Promise.all(flood);
const seconds = (performance.now() - started) / 1000;
const refused = answers[429] ?? 0;
console.log(
  JSON.stringify(
    { limitOfA: limit, bQuiet: quiet, bWhileAFloods: underFlood, aAnswers: answers, aRefusedPerSecond: Math.round(refused / seconds), floodSeconds: Number(seconds.toFixed(1)) },
    null,
    2,
  ),
);

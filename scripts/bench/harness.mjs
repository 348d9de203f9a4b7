// Shared harness of the benchmark sections: processes (sandbox, app), the bench database, HTTP
// helpers, statistics and the report file. The built app (`dist/`) is copied to a temporary
// directory first, so a concurrent `npm run build` cannot pull `dist/` away in the middle of a run.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  Api, ROOT, answers, createTenant as createTenantThroughAdmin, freePort, killAllProcesses, recreateDatabase, removeRedisKeys, startProcess, tail,
} from '../lib/harness.mjs';
import { APP_NODE_ARGS } from '../lib/app-runtime.mjs';

export { ROOT, sleep, stopProcess, waitFor } from '../lib/harness.mjs';
export const DB_NAME = 'bulk_sms_bench';
export const PG_BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const DATABASE_URL = `${PG_BASE}/${DB_NAME}`;
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_KEY = `bench-admin-${randomUUID()}`;
// The app runs with NODE_ENV=production, which refuses secrets published in this repository: fresh ones per run.
const SANDBOX_KEY = `bench-sandbox-${randomUUID()}`;
const WEBHOOK_SECRET = `bench-webhook-${randomUUID()}`;
const QUEUE_PREFIX_BASE = `bench-${randomUUID().slice(0, 8)}`;
const DOC = 'docs/PERFORMANCE.md';

/** The private copy of the build the processes run from (set by prepareBuild()). */
export let APP_DIR = ROOT;

export function intEnv(name, fallback) {
  const raw = process.env[name];
  return raw && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

const started = Date.now();
export function log(msg) {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${s}s] ${msg}`);
}

export const now = () => performance.now();

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Nearest-rank percentile. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ---------------------------------------------------------------------------------------------- processes

/** Starts `node <script>` with env until `ready` (a probe) says so; reports an exit we did not ask for. */
function start(name, script, env, ready, nodeArgs = []) {
  return startProcess({
    name, script, nodeArgs, env, ready, timeoutMs: 30_000,
    onExit: (child) => log(`!! ${name} exited unexpectedly (code ${child.exitCode}, signal ${child.signalCode}):\n${tail(child)}`),
  });
}

process.on('exit', killAllProcesses);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAllProcesses();
    process.exit(130);
  });
}

export async function startSandbox() {
  const port = await freePort();
  const child = await start('sandbox', path.join(APP_DIR, 'dist/src/mitto-sandbox/main.js'), {
    SANDBOX_PORT: String(port),
    SANDBOX_HOST: '127.0.0.1',
    SANDBOX_API_KEYS: SANDBOX_KEY,
    SANDBOX_LATENCY_MS: '0',
    SANDBOX_WEBHOOK_URL: '',
  }, answers(`http://127.0.0.1:${port}/`, () => true)); // any HTTP answer (404 on `/`) means it listens
  return { child, url: `http://127.0.0.1:${port}` };
}

let appCounter = 0;
/** The app as its own process (APP_ROLE=all). `sandboxUrl` may be undefined when nothing is sent. */
export async function startApp(sandboxUrl, extraEnv, { nodeArgs = APP_NODE_ARGS } = {}) {
  const port = await freePort();
  const env = appEnv(sandboxUrl, { PORT: String(port), ...extraEnv });
  const base = `http://127.0.0.1:${port}`;
  const child = await start(`app#${appCounter}`, path.join(APP_DIR, 'dist/src/main.js'), env, answers(`${base}/health/ready`), nodeArgs);
  return { child, base, env };
}

/**
 * A worker-only process (APP_ROLE=worker: no HTTP) of the app whose env is `appEnv` (same database,
 * Redis and QUEUE_PREFIX); resolves once `isReady()` (e.g. the queue sees one more worker) says so.
 */
export async function startWorker(appEnvironment, isReady) {
  const env = { ...appEnvironment, APP_ROLE: 'worker' };
  delete env.PORT;
  return start(`worker#${++appCounter}`, path.join(APP_DIR, 'dist/src/main.js'), env, isReady, APP_NODE_ARGS);
}

function appEnv(sandboxUrl, extraEnv) {
  const env = {
    NODE_ENV: 'production',
    APP_ROLE: 'all',
    LOG_LEVEL: 'warn',
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: `${QUEUE_PREFIX_BASE}-${++appCounter}`,
    ADMIN_API_KEY: ADMIN_KEY,
    // production refuses to start without MITTO_BASE_URL; an app that sends nothing gets a port nobody serves
    MITTO_BASE_URL: sandboxUrl ?? 'http://127.0.0.1:9',
    MITTO_API_KEY: SANDBOX_KEY,
    MITTO_WEBHOOK_SECRET: WEBHOOK_SECRET,
    WORKER_CONCURRENCY: '8',
    ...extraEnv,
  };
  // `null` in extraEnv means "leave the app's default".
  for (const [k, v] of Object.entries(env)) if (v === null) delete env[k];
  return env;
}

/** Peak resident memory (VmHWM) of a process, in MB, from /proc. */
export function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : undefined;
}

// ---------------------------------------------------------------------------------------------- tenants, campaigns

export async function createTenant(app, { rateLimitPerSecond } = {}) {
  const t = await createTenantThroughAdmin(app.base, ADMIN_KEY, {
    name: `bench ${randomUUID().slice(0, 6)}`,
    account: { name: 'bench account', defaultSender: 'BENCH' },
    credits: 1_000_000_000,
    subscriptionStatus: 'active',
    rateLimitPerSecond,
  });
  return { id: t.tenantId, api: new Api(app.base, { authorization: `Bearer ${t.apiKey}` }) };
}

export async function createCampaign(tenant, name, text = 'Hello from the benchmark') {
  const c = await tenant.api.expect(201, 'POST', '/api/campaigns', { name, text });
  return c.id;
}

// ---------------------------------------------------------------------------------------------- database

export async function resetDatabase() {
  await recreateDatabase(DATABASE_URL, { dataSource: path.join(APP_DIR, 'dist/src/database/data-source.js') });
}

export async function connectDb() {
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  return db;
}

// ---------------------------------------------------------------------------------------------- build, cleanup

/** Builds if needed and takes a private copy of dist/ (node_modules linked). */
export function prepareBuild() {
  if (!existsSync('dist/src/main.js') || !existsSync('dist/src/mitto-sandbox/main.js')) {
    log('dist/ missing: running `npm run build`');
    execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-sms-bench-'));
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  APP_DIR = dir;
}

export async function cleanup() {
  try {
    await removeRedisKeys(REDIS_URL, `*${QUEUE_PREFIX_BASE}*`);
  } catch (e) {
    log(`redis cleanup failed: ${e.message}`);
  }
  if (APP_DIR !== ROOT) rmSync(APP_DIR, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------- report

export async function machineInfo() {
  let nproc = String(os.cpus().length);
  try {
    nproc = execFileSync('nproc').toString().trim();
  } catch {
    /* os.cpus() then */
  }
  let redisVersion = 'unknown';
  try {
    redisVersion = /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['-u', REDIS_URL, 'INFO', 'server']).toString())?.[1] ?? 'unknown';
  } catch {
    /* keep unknown */
  }
  const c = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await c.connect();
  const { rows } = await c.query('SELECT version()');
  await c.end();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    postgres: rows[0].version,
    redis: redisVersion,
    node: process.version,
    loadavg: () => os.loadavg().map((x) => x.toFixed(2)).join(' / '),
  };
}

export function machineTable(machine, loadNote) {
  return [
    '| machine | |', '|---|---|',
    `| CPU cores (\`nproc\`) | ${machine.nproc} |`,
    `| memory | ${machine.memory} |`,
    `| PostgreSQL | ${machine.postgres} |`,
    `| Redis | ${machine.redis} |`,
    `| Node.js | ${machine.node} |`,
    `| load average (1/5/15 min) | ${loadNote} |`,
    '',
  ];
}

export const fmt = {
  ms: (x) => `${x.toFixed(1)} ms`,
  rate: (x) => `${Math.round(x).toLocaleString('en-US')}`,
  pct: (x) => `${(x * 100).toFixed(0)} %`,
  ratio: (x) => `${x.toFixed(0)}×`,
  sec: (x) => `${(x / 1000).toFixed(2)} s`,
  le: (x) => (x === Infinity ? '> 30 s' : `≤ ${x * 1000} ms`),
};

/** One row: median of the per-run values with min–max. */
export function row(label, values, format, note = '') {
  const v = values.filter((x) => x !== undefined && Number.isFinite(x));
  if (!v.length) return `| ${label} | n/a | | ${note} |`;
  return `| ${label} | **${format(median(v))}** | ${format(Math.min(...v))} – ${format(Math.max(...v))} | ${note} |`;
}

/** Replaces the block between `<!-- ${marker}:start -->` and `<!-- ${marker}:end -->` in docs/PERFORMANCE.md. */
export function writeDoc(marker, report) {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const block = `${start}\n${report}\n${end}`;
  const file = path.join(ROOT, DOC);
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  doc = a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
  log(`written to ${DOC} (${marker})`);
}

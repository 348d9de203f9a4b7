// The machinery of `npm run demo` (scripts/demo.mjs): build, the demo database, the sandbox and app
// processes, a small HTTP helper, and cleanup (processes stopped, the demo's Redis keys removed), on the
// shared harness (scripts/lib/harness.mjs).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  ROOT, answers, assertRunning, processExit, recreateDatabase as recreateAndMigrate, removeRedisKeys, sleep, startProcess, stopAllProcesses,
} from './lib/harness.mjs';
import { APP_NODE_ARGS } from './lib/app-runtime.mjs';

export { ROOT, freePort, sleep } from './lib/harness.mjs';
const DB_NAME = 'bulk_sms_demo';
export const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${DB_NAME}`;
const REDIS_URL = 'redis://127.0.0.1:6379';
export const ADMIN_KEY = 'demo-admin-key-0123456789';
const WEBHOOK_SECRET = 'demo-webhook-secret';
/** This run's queue prefix: its Redis keys are removed at the end (a waiting campaign leaves a delayed job). */
const QUEUE_PREFIX = `demo-${randomBytes(4).toString('hex')}`;

let cleaningUp = null;

export class DemoError extends Error {}
export const fmt = (n) => Number(n).toLocaleString('en-US');
export const step = (msg) => console.log(`• ${msg}`);

// ---------------------------------------------------------------------------------------------- build
function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Runs a command with output captured; on failure prints that output and throws. */
function run(cmd, args, env, label) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve(out);
      process.stderr.write(out);
      reject(new DemoError(`${label} failed (exit code ${code})`));
    });
  });
}

export async function buildIfNeeded() {
  const mainJs = path.join(ROOT, 'dist/src/main.js');
  const built = existsSync(mainJs) ? statSync(mainJs).mtimeMs : 0;
  const sources = Math.max(newestMtime(path.join(ROOT, 'src')), newestMtime(path.join(ROOT, 'migrations')));
  if (built && built >= sources) return step('build is up to date');
  const t0 = Date.now();
  process.stdout.write('• building… ');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    await run(npm, ['run', 'build'], {}, 'npm run build');
  } catch (e) {
    process.stdout.write('\n');
    throw e;
  }
  console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

// ------------------------------------------------------------------------------------------- database
export async function recreateDatabase() {
  try {
    await recreateAndMigrate(DATABASE_URL);
  } catch (e) {
    throw new DemoError(`cannot recreate and migrate ${DB_NAME} (PostgreSQL at 127.0.0.1:5432): ${e.message}`);
  }
  step(`database ${DB_NAME} recreated and migrated`);
}

/** One query on the demo database (to show what the app stored, e.g. a waiting batch's row). */
export async function queryDemoDb(sql, params) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

// ------------------------------------------------------------------------------------------ processes
/** Starts `node [nodeArgs] <script>` in the repository, its output in `logFile`; failures as DemoErrors. */
async function start(name, { script, nodeArgs = [] }, env, logFile, ready, timeoutMs, everyMs) {
  rmSync(logFile, { force: true });
  try {
    return await startProcess({ name, script, nodeArgs, cwd: ROOT, env, logFile, ready, timeoutMs, everyMs });
  } catch (e) {
    throw new DemoError(`${e.message}\n(log: ${logFile})`);
  }
}

/** Throws (with the last output) if the process has died. */
function assertAlive(child) {
  try {
    assertRunning(child);
  } catch (e) {
    throw new DemoError(e.message);
  }
}

/** Stops the processes, then removes this run's keys from Redis (its delayed jobs, the sweep's scheduler). */
export function cleanup() {
  const removeKeys = () => removeRedisKeys(REDIS_URL, `*${QUEUE_PREFIX}*`).catch((e) => {
    console.error(`could not remove the demo's Redis keys (*${QUEUE_PREFIX}*): ${e.message}`);
  });
  cleaningUp ??= stopAllProcesses('SIGTERM', 5000).then(removeKeys);
  return cleaningUp;
}

export async function startSandbox(sandboxPort, appPort) {
  const logFile = path.join(os.tmpdir(), `bulk-sms-demo-sandbox-${process.pid}.log`);
  const child = await start('mitto-sandbox', { script: 'dist/src/mitto-sandbox/main.js' }, {
    SANDBOX_PORT: String(sandboxPort),
    SANDBOX_API_KEYS: 'sandbox-key',
    SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${appPort}/api/webhooks/mitto/delivery-reports`,
    SANDBOX_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SANDBOX_REPORT_DELAY_MS: '1500',
    SANDBOX_DELIVERED_RATIO: '0.97',
  }, logFile, 'mitto-sandbox listening', 10_000);
  step(`Mitto sandbox listening on http://127.0.0.1:${sandboxPort}`);
  return child;
}

export async function startApp(appPort, sandboxPort) {
  const logFile = path.join(os.tmpdir(), `bulk-sms-demo-app-${process.pid}.log`);
  step(`app starting on http://127.0.0.1:${appPort} (log: ${logFile})`);
  // the app runs with the node flags it ships with (scripts/lib/app-runtime.mjs)
  const child = await start('app', { script: 'dist/src/main.js', nodeArgs: APP_NODE_ARGS }, {
    PORT: String(appPort),
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX,
    MITTO_BASE_URL: `http://127.0.0.1:${sandboxPort}`,
    MITTO_API_KEY: 'sandbox-key',
    MITTO_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    USE_BULK_SMS: 'true',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '20',
    RATE_LIMIT_TENANT_MAX: '20',
    QUEUE_RATE_MAX: '100',
    // The sweep ends an expired campaign: every 5 s here (default 15 s), so the demo need not wait long.
    SWEEPER_INTERVAL_MS: '5000',
    DEFAULT_TIME_ZONE: 'UTC',
  }, logFile, answers(`http://127.0.0.1:${appPort}/health/ready`), 30_000, 250);
  step('app is ready (GET /health/ready → 200)');
  return child;
}

// ------------------------------------------------------------------------------------------------ API
export function makeApi(base, app) {
  return async function api(method, url, { body, headers = {}, expect, raw, text: asText } = {}) {
    assertAlive(app);
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      if (raw) init.body = body;
      else {
        init.body = JSON.stringify(body);
        init.headers['Content-Type'] = 'application/json';
      }
    }
    let res;
    try {
      res = await fetch(url.startsWith('http') ? url : base + url, init);
    } catch (e) {
      await Promise.race([processExit(app), sleep(1000)]); // a dead app explains the error better
      assertAlive(app);
      throw new DemoError(`${method} ${url}: ${e.cause?.message ?? e.message}`);
    }
    const text = await res.text();
    if (expect !== undefined && res.status !== expect) {
      throw new DemoError(`${method} ${url} → ${res.status} (expected ${expect}): ${text.slice(0, 500)}`);
    }
    if (asText) return text;
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      return text;
    }
  };
}

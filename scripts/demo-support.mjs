// The machinery of `npm run demo` (scripts/demo.mjs): build, the demo database, the sandbox and app
// processes, a small HTTP helper, and cleanup (processes stopped, the demo's Redis keys removed).
/* global AbortSignal */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = 'bulk_sms_demo';
export const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${DB_NAME}`;
const REDIS_URL = 'redis://127.0.0.1:6379';
export const ADMIN_KEY = 'demo-admin-key-0123456789';
const WEBHOOK_SECRET = 'demo-webhook-secret';
/** This run's queue prefix: its Redis keys are removed at the end (a waiting campaign leaves a delayed job). */
const QUEUE_PREFIX = `demo-${randomBytes(4).toString('hex')}`;

const children = [];
let cleaningUp = null;

export class DemoError extends Error {}
export const fmt = (n) => Number(n).toLocaleString('en-US');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
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
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (e) {
    throw new DemoError(`cannot connect to PostgreSQL at ${PG_ADMIN_URL}: ${e.message}`);
  }
  try {
    try {
      await client.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    } catch {
      await client.query(`DROP DATABASE IF EXISTS ${DB_NAME}`); // PostgreSQL < 13
    }
    await client.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await client.end();
  }
  await run(process.execPath, ['node_modules/typeorm/cli.js', 'migration:run', '-d', 'dist/src/database/data-source.js'],
    { DATABASE_URL }, 'migration:run');
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
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function startProcess(name, script, env, logFile) {
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.demo = { name, logFile, exited: false, code: null, signal: null };
  child.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    Object.assign(child.demo, { exited: true, code, signal });
    resolve();
  }));
  child.on('error', (e) => console.error(`${name}: ${e.message}`));
  children.push(child);
  return child;
}

function tail(file, lines = 20) {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(the log is empty)';
  } catch {
    return '(no log)';
  }
}

/** Throws (with the last log lines) if the process has died. */
function assertAlive(child) {
  if (!child.demo.exited || cleaningUp) return;
  const how = child.demo.signal ? `signal ${child.demo.signal}` : `exit code ${child.demo.code}`;
  throw new DemoError(`${child.demo.name} died (${how}); last lines of ${child.demo.logFile}:\n${tail(child.demo.logFile)}`);
}

async function stopProcess(child) {
  if (child.demo.exited) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => !child.demo.exited && child.kill('SIGKILL'), 5000);
  await child.exitPromise;
  clearTimeout(timer);
}

/** Stops the processes, then removes this run's keys from Redis (its delayed jobs, the sweep's scheduler). */
export function cleanup() {
  cleaningUp ??= Promise.all(children.map(stopProcess)).then(removeRedisKeys);
  return cleaningUp;
}

async function removeRedisKeys() {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `*${QUEUE_PREFIX}*`, count: 500 })) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } catch (e) {
    console.error(`could not remove the demo's Redis keys (*${QUEUE_PREFIX}*): ${e.message}`);
  } finally {
    redis.disconnect();
  }
}

export async function startSandbox(sandboxPort, appPort) {
  const logFile = path.join(os.tmpdir(), `bulk-sms-demo-sandbox-${process.pid}.log`);
  const child = startProcess('mitto-sandbox', 'dist/src/mitto-sandbox/main.js', {
    SANDBOX_PORT: String(sandboxPort),
    SANDBOX_API_KEYS: 'sandbox-key',
    SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${appPort}/api/webhooks/mitto/delivery-reports`,
    SANDBOX_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SANDBOX_REPORT_DELAY_MS: '1500',
    SANDBOX_DELIVERED_RATIO: '0.97',
  }, logFile);
  let seen = '';
  const ready = new Promise((resolve) => child.stdout.on('data', (d) => {
    seen += d;
    if (seen.includes('mitto-sandbox listening')) resolve(true);
  }));
  const ok = await Promise.race([ready, child.exitPromise.then(() => false), sleep(10_000).then(() => null)]);
  if (ok === null) throw new DemoError(`mitto-sandbox did not start within 10 s; log: ${logFile}\n${tail(logFile)}`);
  assertAlive(child);
  step(`Mitto sandbox listening on http://127.0.0.1:${sandboxPort}`);
  return child;
}

export async function startApp(appPort, sandboxPort) {
  const logFile = path.join(os.tmpdir(), `bulk-sms-demo-app-${process.pid}.log`);
  const child = startProcess('app', 'dist/src/main.js', {
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
  }, logFile);
  step(`app starting on http://127.0.0.1:${appPort} (log: ${logFile})`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    assertAlive(child);
    try {
      const res = await fetch(`http://127.0.0.1:${appPort}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new DemoError(`app not ready after 30 s; last lines of ${logFile}:\n${tail(logFile)}`);
    await sleep(250);
  }
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
      await Promise.race([app.exitPromise, sleep(1000)]); // a dead app explains the error better
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

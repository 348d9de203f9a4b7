// `npm run demo`: an end-to-end demo of a 20,000-message campaign against the local Mitto sandbox.
// Needs only PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379). It builds if needed,
// recreates the `bulk_sms_demo` database, starts the sandbox and the app on free ports, drives the HTTP API
// and shows a live progress bar, then stops both processes. Exit code 0 on success, 1 on any failure.
/* global AbortSignal */
import { spawn } from 'node:child_process';
import { randomUUID, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = 'bulk_sms_demo';
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${DB_NAME}`;
const ADMIN_KEY = 'demo-admin-key-0123456789';
const WEBHOOK_SECRET = 'demo-webhook-secret';
const INITIAL_CREDITS = 100_000;
const RECIPIENTS = 20_000;

const children = [];
let cleaningUp = null;
let activeBar = null; // stopped on SIGINT/SIGTERM so the terminal gets its cursor back
const fmt = (n) => Number(n).toLocaleString('en-US');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const step = (msg) => console.log(`• ${msg}`);

class DemoError extends Error {}

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

async function buildIfNeeded() {
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
async function recreateDatabase() {
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

// ------------------------------------------------------------------------------------------ processes
function freePort() {
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

function cleanup() {
  cleaningUp ??= Promise.all(children.map(stopProcess));
  return cleaningUp;
}

async function startSandbox(sandboxPort, appPort) {
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

async function startApp(appPort, sandboxPort) {
  const logFile = path.join(os.tmpdir(), `bulk-sms-demo-app-${process.pid}.log`);
  const child = startProcess('app', 'dist/src/main.js', {
    PORT: String(appPort),
    DATABASE_URL,
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `demo-${randomBytes(4).toString('hex')}`,
    MITTO_BASE_URL: `http://127.0.0.1:${sandboxPort}`,
    MITTO_API_KEY: 'sandbox-key',
    MITTO_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    USE_BULK_SMS: 'true',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '20',
    RATE_LIMIT_TENANT_MAX: '20',
    QUEUE_RATE_MAX: '100',
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
function makeApi(base, app) {
  return async function api(method, url, { body, headers = {}, expect, raw } = {}) {
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
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    if (expect !== undefined && res.status !== expect) {
      throw new DemoError(`${method} ${url} → ${res.status} (expected ${expect}): ${text.slice(0, 500)}`);
    }
    return json;
  };
}

function buildCsv(suppressedIndex) {
  const names = ['Anna', 'Luca', 'Sofia', 'Noah', 'Mia', 'Leon', 'Emma', 'Elias', 'Lina', 'Jonas'];
  const phones = [];
  const rows = ['phone,name,code'];
  // Distinct numbers: a random base plus a stride coprime to 10^7, so every number is unique.
  const base = Math.floor(Math.random() * 1e7);
  for (let i = 0; i < RECIPIENTS; i++) {
    const phone = `+4179${String((base + i * 7919) % 1e7).padStart(7, '0')}`;
    phones.push(phone);
    rows.push(`${phone},${names[i % names.length]},BF${String(1000 + ((i * 37) % 9000))}`);
  }
  rows.push('12,Bad,BF0001', 'not-a-number,Bad,BF0002', '+999,Bad,BF0003');
  for (let i = 0; i < 5; i++) rows.push(`${phones[i * 1000 + 1]},Again,BF9999`);
  return { csv: rows.join('\n') + '\n', suppressedPhone: phones[suppressedIndex] };
}

// ----------------------------------------------------------------------------------------------- demo
async function main() {
  const started = Date.now();
  console.log('Bulk SMS demo: one campaign of 20,000 messages through the Mitto sandbox\n');
  await buildIfNeeded();
  await recreateDatabase();

  const [appPort, sandboxPort] = await Promise.all([freePort(), freePort()]);
  await startSandbox(sandboxPort, appPort);
  const app = await startApp(appPort, sandboxPort);
  const api = makeApi(`http://127.0.0.1:${appPort}`, app);
  const admin = { 'X-Admin-Api-Key': ADMIN_KEY };
  console.log();

  const account = await api('POST', '/api/admin/traffic-accounts', {
    headers: admin, expect: 201, body: { name: 'Demo account', mittoTrafficAccountId: randomUUID(), defaultSender: 'DEMO' },
  });
  step(`traffic account created: ${account.id} (sender DEMO)`);
  const tenant = await api('POST', '/api/admin/tenants', {
    headers: admin, expect: 201, body: { name: 'Demo Marketing', trafficAccountId: account.id, credits: INITIAL_CREDITS },
  });
  step(`tenant "Demo Marketing" created with ${fmt(tenant.credits?.balance ?? tenant.credits)} credits; API key ${String(tenant.apiKey).slice(0, 8)}…`);
  const auth = { Authorization: `Bearer ${tenant.apiKey}` };

  const text = 'Hi {{name}}, Black Friday: 30% off everything with code {{code}} until midnight!';
  const campaign = await api('POST', '/api/campaigns', { headers: auth, expect: 201, body: { name: 'Black Friday', text } });
  step(`campaign "Black Friday" created: ${campaign.id}`);

  const { csv, suppressedPhone } = buildCsv(4242);
  await api('POST', '/api/suppressions', { headers: auth, expect: 201, body: { phone: suppressedPhone } });
  step(`suppressed ${suppressedPhone} (opted out)`);

  let t0 = Date.now();
  const imported = await api('POST', `/api/campaigns/${campaign.id}/recipients`, {
    headers: { ...auth, 'Content-Type': 'text/csv' }, body: csv, raw: true, expect: 200,
  });
  step(`CSV imported (${fmt(RECIPIENTS + 8)} rows, ${(Buffer.byteLength(csv) / 1024).toFixed(0)} KB) in ${Date.now() - t0} ms: `
    + `accepted ${fmt(imported.accepted)}, duplicates ${imported.duplicates}, suppressed ${imported.suppressed}, invalid ${imported.invalid}`);
  for (const s of imported.invalidSamples ?? []) console.log(`    invalid row ${s.row}: ${JSON.stringify(s.phone)}: ${s.reason}`);

  const est = await api('GET', `/api/campaigns/${campaign.id}/estimate`, { headers: auth, expect: 200 });
  step(`estimate: ${fmt(est.recipients)} recipients, ${fmt(est.segments)} segments, ${fmt(est.credits)} credits, ${est.encoding}`
    + (est.skipped ? `, ${est.skipped} skipped` : ''));

  t0 = Date.now();
  await api('POST', `/api/campaigns/${campaign.id}/enqueue`, { headers: auth, expect: 202 });
  const enqueuedAt = Date.now();
  step(`enqueued (202) in ${enqueuedAt - t0} ms\n`);

  const final = await followProgress(api, auth, campaign.id, enqueuedAt);

  // ------------------------------------------------------------------------------------------ report
  const { metrics: m, campaign: c } = final.status;
  const me = await api('GET', '/api/me', { headers: auth, expect: 200 });
  const sandbox = await api('GET', `http://127.0.0.1:${sandboxPort}/__sandbox/stats`, { expect: 200 });
  // Enqueue → completion, using the server's completedAt when it has one (same machine, same clock).
  const doneAt = c.completedAt ? Date.parse(c.completedAt) : final.completedAt;
  const sendSeconds = Math.max((doneAt - enqueuedAt) / 1000, 0.001);
  const outcome = m.total - m.queued;
  const used = INITIAL_CREDITS - me.credits.balance - me.credits.reserved;
  const pad = (label) => `  ${label}`.padEnd(26);
  console.log('\nFinal report');
  console.log(`${pad('campaign status')}${c.status}`);
  console.log(`${pad('messages')}${fmt(m.total)}`);
  console.log(`${pad('delivered')}${fmt(m.delivered)}`);
  console.log(`${pad('undelivered')}${fmt(m.undelivered)}`);
  console.log(`${pad('sent, awaiting report')}${fmt(m.sent)}`);
  console.log(`${pad('unknown')}${fmt(m.unknown)}`);
  console.log(`${pad('failed')}${fmt(m.failed)}`);
  console.log(`${pad('skipped / cancelled')}${fmt(m.skipped)} / ${fmt(m.cancelled)}`);
  console.log(`${pad('queued')}${fmt(m.queued)}`);
  console.log(`${pad('send duration')}${sendSeconds.toFixed(1)} s (enqueue → ${c.status})`);
  console.log(`${pad('throughput')}${fmt(Math.round(outcome / sendSeconds))} msg/s`);
  console.log(`${pad('credits')}${fmt(used)} used, ${fmt(me.credits.balance)} left, ${fmt(me.credits.reserved)} reserved`);
  console.log(`${pad('sandbox')}accepted ${fmt(sandbox.accepted)} messages, ${fmt(sandbox.duplicateReferences)} duplicates`
    + ` (${fmt(sandbox.requests?.byEndpoint?.bulk ?? 0)} bulk requests)`);
  console.log(`${pad('demo runtime')}${((Date.now() - started) / 1000).toFixed(1)} s`);

  if (c.status !== 'completed') throw new DemoError(`campaign ended as ${c.status}`);
  if (sandbox.duplicateReferences !== 0) throw new DemoError(`sandbox saw ${sandbox.duplicateReferences} duplicate references`);
}

async function followProgress(api, auth, id, enqueuedAt) {
  const tty = Boolean(process.stdout.isTTY);
  const bar = new cliProgress.SingleBar({
    format: 'Sending |{bar}| {percentage}% | sent {sent} delivered {delivered} undelivered {undelivered} failed {failed} | {rate} msg/s | ETA {eta_formatted}',
    stream: process.stdout,
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    hideCursor: tty,
    noTTYOutput: !tty,
    notTTYSchedule: 1000,
    fps: 10,
    etaBuffer: 20,
  });
  let started = false;
  let completedAt = null;
  let status;
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      status = await api('GET', `/api/campaigns/${id}/status`, { headers: auth, expect: 200 });
      const m = status.metrics;
      const done = m.total - m.queued;
      const elapsed = Math.max(((completedAt ?? Date.now()) - enqueuedAt) / 1000, 0.001);
      const payload = {
        sent: fmt(m.sent + m.unknown + m.delivered + m.undelivered),
        delivered: fmt(m.delivered),
        undelivered: fmt(m.undelivered),
        failed: fmt(m.failed),
        rate: fmt(Math.round(done / elapsed)),
      };
      if (!started) {
        bar.start(m.total, done, payload);
        started = true;
        activeBar = bar;
      } else {
        bar.setTotal(m.total);
        bar.update(done, payload);
      }
      const st = status.campaign.status;
      if (completedAt === null && (st === 'completed' || st === 'failed' || st === 'cancelled')) completedAt = Date.now();
      // After completion, wait (≤ 5 s) for the delivery reports of every accepted message.
      if (completedAt !== null && ((m.sent === 0 && m.unknown === 0) || Date.now() - completedAt > 5000)) break;
      if (Date.now() > deadline) throw new DemoError(`campaign still ${st} after 120 s: ${JSON.stringify(m)}`);
      await sleep(250);
    }
  } finally {
    if (started) bar.stop();
    activeBar = null;
  }
  return { status, completedAt };
}

// ------------------------------------------------------------------------------------ entry / cleanup
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    activeBar?.stop();
    console.error(`\n${sig} received, stopping the app and the sandbox…`);
    cleanup().finally(() => process.exit(1));
  });
}

let exitCode = 0;
try {
  await main();
  console.log('\nDemo finished successfully.');
} catch (e) {
  exitCode = 1;
  console.error(`\nDemo failed: ${e instanceof DemoError ? e.message : (e?.stack ?? e)}`);
} finally {
  await cleanup();
}
process.exit(exitCode);

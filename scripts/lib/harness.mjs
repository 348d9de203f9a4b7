// The one test harness of scripts/ (demo, benchmarks) and test/support/ (e2e tests): free ports, waiting,
// child processes (started until ready, stopped with SIGTERM then SIGKILL), HTTP calls and tenants through
// the admin API, databases (created, dropped, recreated and migrated) and a run's Redis keys.
// Plain JavaScript, so scripts run it without a build; harness.d.mts gives the TypeScript tests its types.
/* global AbortSignal */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The repository's root folder. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nothing listens on right now (for a child process or a server of a test's own). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` every `everyMs` until it returns something truthy (which it returns), or throws after `timeoutMs`. */
export async function waitFor(probe, timeoutMs = 30_000, everyMs = 100, what = 'the condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A probe for waitFor/startProcess: true once `url` answers with a status `accept` likes (by default 200). */
export function answers(url, accept = (status) => status === 200) {
  return async () => {
    try {
      return accept((await fetch(url, { signal: AbortSignal.timeout(2000) })).status);
    } catch {
      return false; // not listening yet
    }
  };
}

// ---------------------------------------------------------------------------------------------- processes

/** What a started process printed (the first KEEP_CHARS characters), its exit, and whether we stop it. */
const KEEP_CHARS = 10_000_000;
const state = new WeakMap();
const running = new Set();

/**
 * Starts `node [nodeArgs] <script>` (env added to this process's; the app's own node flags are
 * APP_NODE_ARGS in app-runtime.mjs) and resolves once `ready` holds: a string is
 * a line the process prints, a function a probe polled like waitFor. Rejects, with the process stopped and
 * its last output, if it exits first or is not ready within `timeoutMs`. `logFile` gets a copy of the
 * output (appended); `onExit` hears of an exit that stopProcess did not ask for.
 */
export async function startProcess({ name = 'process', script, nodeArgs = [], cwd, env = {}, ready, timeoutMs = 30_000, everyMs = 100, logFile, onExit }) {
  const child = spawn(process.execPath, [...nodeArgs, script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const s = { name, output: '', stopping: false };
  const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  s.exit = new Promise((resolve) => child.once('exit', () => {
    running.delete(child);
    if (!s.stopping) onExit?.(child);
    resolve();
  }));
  state.set(child, s);
  running.add(child);
  const collect = (chunk) => {
    log?.write(chunk);
    if (s.output.length < KEEP_CHARS) s.output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  child.once('close', () => log?.end()); // after the last output, which may come after 'exit'
  const spawnFailed = new Promise((_, reject) => child.once('error', reject));
  spawnFailed.catch(() => undefined); // a later 'error' (after ready) is not this function's to report
  const probe = typeof ready === 'string' ? () => s.output.includes(ready) : (ready ?? (() => true));
  try {
    await Promise.race([spawnFailed, waitFor(async () => {
      if (exitedEarly(child)) throw new Error(`${name} exited (${exitOf(child)}) before it was ready; its last output:\n${tail(child)}`);
      try {
        return await probe();
      } catch {
        return false; // e.g. not listening yet
      }
    }, timeoutMs, everyMs, `${name} to be ready`)]);
  } catch (e) {
    if (child.pid !== undefined) await stopProcess(child);
    throw new Error(e.message.startsWith('timed out') ? `${e.message}; its last output:\n${tail(child)}` : e.message, { cause: e });
  }
  return child;
}

const exitedEarly = (child) => child.exitCode !== null || child.signalCode !== null;
const exitOf = (child) => (child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`);

/** Everything the process printed so far (up to 10 million characters). */
export function processOutput(child) {
  return state.get(child)?.output ?? '';
}

/** Resolves once the process has exited. */
export function processExit(child) {
  return state.get(child)?.exit ?? (exitedEarly(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve)));
}

/** The end of what the process printed (for error messages). */
export function tail(child, chars = 4000) {
  return processOutput(child).slice(-chars) || '(no output)';
}

/** Throws, with its last output, if the process has exited (and nobody asked it to). */
export function assertRunning(child) {
  const s = state.get(child);
  if (!exitedEarly(child) || s?.stopping) return;
  throw new Error(`${s?.name ?? 'process'} died (${exitOf(child)}); its last output:\n${tail(child)}`);
}

/**
 * Sends `signal` (SIGTERM: a graceful stop; SIGKILL: a crash) and resolves once the process has exited;
 * a process that is still there after `killAfterMs` is killed.
 */
export async function stopProcess(child, signal = 'SIGTERM', killAfterMs = 15_000) {
  const s = state.get(child);
  if (s) s.stopping = true;
  if (exitedEarly(child)) return;
  const exited = processExit(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every process startProcess started that is still running. */
export function stopAllProcesses(signal = 'SIGTERM', killAfterMs = 15_000) {
  return Promise.all([...running].map((child) => stopProcess(child, signal, killAfterMs)));
}

/** SIGKILLs them at once (for a `process.on('exit')` handler, which cannot wait). */
export function killAllProcesses() {
  for (const child of running) {
    state.get(child).stopping = true;
    child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------- HTTP API

/** A small HTTP client for the app's API (real HTTP); bodies are JSON unless a string or bytes. */
export class Api {
  constructor(baseUrl, headers = {}) {
    this.baseUrl = baseUrl;
    this.headers = headers;
  }

  async request(method, p, body, headers = {}) {
    const raw = typeof body === 'string' || body instanceof Uint8Array;
    const res = await fetch(`${this.baseUrl}${p}`, {
      method,
      headers: { ...this.headers, ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  get(p) { return this.request('GET', p); }
  post(p, body, headers) { return this.request('POST', p, body, headers); }
  patch(p, body) { return this.request('PATCH', p, body); }
  delete(p) { return this.request('DELETE', p); }

  /** Like request(), but throws unless the status is `status`; returns the body. */
  async expect(status, method, p, body, headers) {
    const res = await this.request(method, p, body, headers);
    if (res.status !== status) throw new Error(`${method} ${p}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)?.slice(0, 400)}`);
    return res.body;
  }
}

/**
 * Creates a tenant through the admin API, and first a traffic account for it unless `trafficAccountId` is
 * given. Only the fields given are sent (the API's defaults apply to the others).
 */
export async function createTenant(baseUrl, adminKey, opts = {}) {
  const admin = new Api(baseUrl, { 'x-admin-api-key': adminKey });
  let trafficAccountId = opts.trafficAccountId;
  if (!trafficAccountId) {
    const { name = 'test account', defaultSender = 'ACME', rateLimitPerSecond } = opts.account ?? {};
    const account = await admin.expect(201, 'POST', '/api/admin/traffic-accounts', {
      name,
      mittoTrafficAccountId: randomUUID(),
      defaultSender,
      ...(rateLimitPerSecond ? { rateLimitPerSecond } : {}),
    });
    trafficAccountId = account.id;
  }
  const { credits, subscriptionStatus, rateLimitPerSecond } = opts;
  const body = await admin.expect(201, 'POST', '/api/admin/tenants', {
    name: opts.name ?? `tenant ${randomUUID().slice(0, 6)}`,
    trafficAccountId,
    ...(credits !== undefined ? { credits } : {}),
    ...(subscriptionStatus ? { subscriptionStatus } : {}),
    ...(rateLimitPerSecond ? { rateLimitPerSecond } : {}),
  });
  return { tenantId: body.id, apiKey: body.apiKey, trafficAccountId, body };
}

// ---------------------------------------------------------------------------------------------- databases

function databaseName(url) {
  const name = new URL(url).pathname.slice(1);
  if (!/^\w+$/.test(name)) throw new Error(`unexpected database name: ${name}`);
  return name;
}

/** Runs `sql` on the server of `url`, connected to its `postgres` database (or to `adminUrl`). */
export async function adminQuery(url, sql, params, adminUrl) {
  const target = new URL(adminUrl ?? url);
  if (!adminUrl) target.pathname = '/postgres';
  const client = new pg.Client({ connectionString: target.toString() });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** Creates the (empty, or `template`'s copy) database `url` names. */
export async function createDatabase(url, { template, adminUrl } = {}) {
  await adminQuery(url, `CREATE DATABASE ${databaseName(url)}${template ? ` TEMPLATE ${databaseName(template)}` : ''}`, undefined, adminUrl);
}

/** Drops the database `url` names, if it exists, disconnecting its sessions. */
export async function dropDatabase(url, { adminUrl } = {}) {
  const name = databaseName(url);
  try {
    await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, undefined, adminUrl);
  } catch (e) {
    if (e.code !== '42601') throw e; // a syntax error: PostgreSQL < 13 has no FORCE
    await adminQuery(url, `DROP DATABASE IF EXISTS ${name}`, undefined, adminUrl);
  }
}

/**
 * Drops and creates the database `url` names, then runs the migrations of the built app (`dataSource`:
 * its compiled data-source.js) with TypeORM's CLI. A failed migration throws with the CLI's output.
 */
export async function recreateDatabase(url, { dataSource = path.join(ROOT, 'dist/src/database/data-source.js') } = {}) {
  await dropDatabase(url);
  await createDatabase(url);
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/typeorm/cli.js'), 'migration:run', '-d', dataSource], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`migration:run failed (exit code ${code}):\n${output}`);
}

// ---------------------------------------------------------------------------------------------- Redis

/** Deletes every key of the Redis at `url` that matches `pattern` (a run's queue prefix, say). */
export async function removeRedisKeys(url, pattern) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: pattern, count: 1000 })) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

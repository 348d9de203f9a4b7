// Worker-process section of the benchmark (`npm run bench -- workers`): end-to-end bulk send of one
// campaign with 1, 2 and 4 worker processes (APP_ROLE=worker) behind one API process (APP_ROLE=api),
// all on this machine's cores, each next to the bare reference of the same run (see bareReference()).
// Shows what scales with processes and what does not (PostgreSQL and the processes share the cores).
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  REDIS_URL, connectDb, createCampaign, createTenant, fmt, intEnv, log, machineTable, now, resetDatabase, startApp, startSandbox,
  startWorker, stopProcess,
} from './harness.mjs';
import { HIGH_LIMITS, bareReference, cpuDuring, seedRecipients, waitCompleted } from './send-figures.mjs';

const SIZE = intEnv('BENCH_WORKERS_SIZE', 100_000);
const COUNTS = (process.env.BENCH_WORKER_COUNTS ?? '1,2,4').split(',').map(Number);
/**
 * Connections per worker process: WORKER_CONCURRENCY (8) batches at a time need about that many. With the
 * default DATABASE_POOL_SIZE of 20, four workers and the API ask for 100 connections, PostgreSQL's default
 * max_connections: refused connections then stall the send (a first run measured 1,923 msg/s).
 */
const WORKER_POOL = 12;

export async function runWorkers(machine) {
  const results = [];
  for (const count of COUNTS) results.push(await runOnce(count));
  return buildReport(results, machine);
}

async function runOnce(count) {
  log(`workers: ${count} worker process(es), fresh database, sandbox, API process`);
  await resetDatabase();
  const db = await connectDb();
  const sandbox = await startSandbox();
  const workers = [];
  let api;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    api = await startApp(sandbox.url, { ...HIGH_LIMITS, APP_ROLE: 'api' });
    const batches = new Queue('sms-batches', { connection, prefix: `{${api.env.QUEUE_PREFIX}:sms-batches}` });
    for (let i = 1; i <= count; i++) {
      workers.push(await startWorker({ ...api.env, DATABASE_POOL_SIZE: String(WORKER_POOL) }, async () => (await batches.getWorkersCount()) >= i));
    }
    const tenant = await createTenant(api);
    const id = await createCampaign(tenant, `workers ${count}`, 'Hello {{n}}, this is the benchmark');
    await seedRecipients(db, id, SIZE);
    await db.query('VACUUM ANALYZE campaign_messages');
    const pids = { api: api.child.pid, workers: workers.map((w) => w.pid), sandbox: sandbox.child.pid };
    const redisCommands = async () => Number(/total_commands_processed:(\d+)/.exec(await connection.info('stats'))?.[1]);
    const commandsBefore = await redisCommands();
    const { result: last, cpu, wallMs } = await cpuDuring(db, pids, async () => {
      const t0 = Date.now();
      await tenant.api.expect(202, 'POST', `/api/campaigns/${id}/enqueue`);
      return { ...(await waitCompleted(tenant, id, 200, 900_000)), t0 };
    });
    const m = last.metrics;
    const sent = m.sent + (m.delivered ?? 0) + (m.undelivered ?? 0);
    if (sent !== SIZE) throw new Error(`workers ${count}: expected ${SIZE} sent, got ${JSON.stringify(m)}`);
    const stats = await (await fetch(`${sandbox.url}/__sandbox/stats`)).json();
    if (stats.accepted !== SIZE || stats.duplicateReferences !== 0) throw new Error(`workers ${count}: sandbox saw ${JSON.stringify(stats).slice(0, 300)}`);
    // every client's commands on this Redis (the bench is alone on it), including BullMQ's and our polling's
    const redisPerMessage = ((await redisCommands()) - commandsBefore) / SIZE;
    const msgPerSec = SIZE / ((Date.parse(last.campaign.completedAt) - last.t0) / 1000);
    const t0 = now();
    const reference = await bareReference(db, SIZE);
    log(`  ${count} worker(s): ${Math.round(msgPerSec)} msg/s; bare reference ${Math.round(reference)} rows/s (${((now() - t0) / 1000).toFixed(1)} s); ` +
      `CPU s: ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} in ${(wallMs / 1000).toFixed(1)} s`);
    await batches.close();
    return { count, msgPerSec, reference, cpu, wallMs, redisPerMessage };
  } finally {
    for (const w of workers) await stopProcess(w);
    if (api) await stopProcess(api.child);
    await stopProcess(sandbox.child);
    connection.disconnect();
    await db.end();
  }
}

function buildReport(results, machine) {
  const lines = [`Run on ${machine.date}: one ${SIZE.toLocaleString('en-US')}-recipient bulk campaign per row, one run each, ` +
    `one API process (APP_ROLE=api) and N worker processes (APP_ROLE=worker, WORKER_CONCURRENCY=8 and DATABASE_POOL_SIZE=${WORKER_POOL} each), fresh database per row.`, ''];
  lines.push(...machineTable(machine, `${machine.loadavg()} (at the end)`));
  const base = results[0].msgPerSec;
  const groups = Object.keys(results[0].cpu);
  lines.push(`| worker processes | end-to-end msg/s | vs 1 process | bare reference (rows/s) | ratio | ${groups.map((g) => `CPU s: ${g}`).join(' | ')} | wall s | Redis commands per message |`);
  lines.push(`|---|---|---|---|---|${groups.map(() => '---').join('|')}|---|---|`);
  for (const r of results) {
    lines.push(`| ${r.count} | **${fmt.rate(r.msgPerSec)}** | ${(r.msgPerSec / base).toFixed(2)}× | ${fmt.rate(r.reference)} | ${(r.msgPerSec / r.reference).toFixed(2)} | ` +
      `${groups.map((g) => r.cpu[g].toFixed(1)).join(' | ')} | ${(r.wallMs / 1000).toFixed(1)} | ${r.redisPerMessage.toFixed(3)} |`);
  }
  return lines.join('\n');
}

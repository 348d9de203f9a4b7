import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { startApp, startSandbox, WEBHOOK_SECRET, type TestApp } from './support/test-app.js';
import { createTenant, phone, waitFor } from './support/api.js';
import { spawnApp, stopProcess } from './support/worker-process.js';
import type { MittoSandbox } from '../src/mitto-sandbox/sandbox-server.js';

/**
 * The reliability suite (npm run test:chaos): a campaign runs while a worker is SIGKILLed, Redis or
 * PostgreSQL restarts, or the sandbox injects faults. For each: lost (recipients whose message Mitto
 * never accepted), duplicates (references Mitto accepted twice), final states, campaign end state.
 * Results are written to docs/RELIABILITY.md. Restarts the machine's PostgreSQL and Redis: run alone.
 */
interface Result {
  scenario: string;
  messages: number;
  lost: number;
  duplicates: number;
  states: string;
  campaign: string;
  seconds: number;
}

const results: Result[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reliability', () => {
  let api: TestApp;
  let sandbox: MittoSandbox;
  let worker: ChildProcess;
  let offset = 0;

  beforeAll(async () => {
    const sbx = await startSandbox({ latencyMs: 2, reportDelayMs: 200, webhookSecret: WEBHOOK_SECRET });
    sandbox = sbx.sandbox;
    api = await startApp(
      {
        MITTO_BASE_URL: sbx.url,
        USE_BULK_SMS: 'true',
        SMS_BATCH_SIZE: '200',
        WORKER_CONCURRENCY: '5',
        RATE_LIMIT_TRAFFIC_ACCOUNT_MAX: '100000',
        RATE_LIMIT_TENANT_MAX: '100000',
        QUEUE_RATE_MAX: '100000',
        QUEUE_BACKOFF_MS: '500',
        MITTO_REQUEST_TIMEOUT_MS: '5000',
        SWEEPER_INTERVAL_MS: '2000',
        BATCH_LEASE_MS: '5000',
        UNKNOWN_POLICY: 'resend',
        UNKNOWN_SETTLE_AFTER_MS: '15000',
        RECONCILE_AFTER_MS: '5000',
      },
      'api',
    );
    sandbox.configure({ webhookUrl: `${api.url}/api/webhooks/mitto/delivery-reports` });
    worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
  }, 60_000);

  afterAll(async () => {
    if (worker) await stopProcess(worker, 'SIGKILL');
    await api?.close();
    await sandbox?.stop();
    writeResults();
  });

  async function run(name: string, size: number, disrupt: (campaignId: string) => Promise<void>): Promise<void> {
    sandbox.reset();
    const t = await createTenant(api.url, { credits: size });
    const c = await t.api.post('/api/campaigns', { name, text: 'Hello {{n}}, this is a reliability test' });
    const csv = ['phone,n', ...Array.from({ length: size }, (_, i) => `${phone(offset + i)},${i}`)].join('\n');
    offset += size;
    const imported = await t.api.post(`/api/campaigns/${c.body.id}/recipients`, csv, { 'content-type': 'text/csv' });
    expect(imported.body.accepted).toBe(size);
    const started = Date.now();
    expect((await t.api.post(`/api/campaigns/${c.body.id}/enqueue`)).status).toBe(202);
    await disrupt(c.body.id);
    const final = await waitFor(async () => {
      const s = await t.api.get(`/api/campaigns/${c.body.id}/status`).catch(() => undefined);
      const m = s?.body?.metrics;
      return m && ['completed', 'failed'].includes(s.body.campaign.status) && m.queued + m.unknown + m.sent === 0 ? s.body : undefined;
    }, 600_000, 500);
    const stats = sandbox.stats();
    const m = final.metrics;
    const result: Result = {
      scenario: name,
      messages: size,
      lost: size - (stats.accepted - stats.duplicateReferences),
      duplicates: stats.duplicateReferences,
      states: Object.entries(m).filter(([k, v]) => k !== 'total' && v).map(([k, v]) => `${k} ${v}`).join(', '),
      campaign: final.campaign.status,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    results.push(result);
    console.log(JSON.stringify(result));
    expect(result.duplicates).toBe(0);
    expect(result.lost).toBe(0);
  }

  const accepted = () => sandbox.stats().accepted;

  it('10 SIGKILLs of the worker at random points of a 100,000-message campaign', async () => {
    await run('10 × SIGKILL of the worker process', 100_000, async () => {
      for (let kill = 0; kill < 10; kill++) {
        const target = accepted() + 2_000 + Math.floor(Math.random() * 6_000);
        await waitFor(async () => accepted() >= Math.min(target, 95_000), 300_000, 20);
        await stopProcess(worker, 'SIGKILL');
        worker = await spawnApp({ ...api.env, APP_ROLE: 'worker' });
      }
    });
  }, 900_000);

  it('a Redis restart (all its data lost) mid-campaign', async () => {
    await run('Redis restart, no persistence', 20_000, async () => {
      await waitFor(async () => accepted() >= 6_000, 120_000, 20);
      execSync('redis-cli -h 127.0.0.1 -p 6379 shutdown nosave || true');
      await sleep(2_000);
      execSync('redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no');
    });
  }, 900_000);

  it('a PostgreSQL restart mid-campaign', async () => {
    await run('PostgreSQL restart', 20_000, async () => {
      await waitFor(async () => accepted() >= 6_000, 120_000, 20);
      execSync('pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart');
    });
  }, 900_000);

  it('Mitto faults: 10 % 500s, 5 % 429s, 1 % accepted-then-dropped', async () => {
    sandbox.configure({ faults: { error500Ratio: 0.1, error429Ratio: 0.05, retryAfterSeconds: 1, acceptThenDropRatio: 0.01 } });
    try {
      await run('Mitto 10 % 500, 5 % 429, 1 % accepted-then-dropped', 20_000, async () => undefined);
    } finally {
      sandbox.configure({ faults: { error500Ratio: 0, error429Ratio: 0, acceptThenDropRatio: 0 } });
    }
  }, 900_000);
});

function writeResults(): void {
  if (results.length === 0) return;
  const path = 'docs/RELIABILITY.md';
  const table = [
    `Run on ${new Date().toISOString().slice(0, 10)} with \`npm run build && npm run test:chaos -- test/reliability\`.`,
    '',
    '| scenario | messages | lost | duplicates | messages per final state | campaign | seconds |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.scenario} | ${r.messages} | ${r.lost} | ${r.duplicates} | ${r.states} | ${r.campaign} | ${r.seconds} |`),
  ].join('\n');
  const doc = readFileSync(path, 'utf8');
  writeFileSync(path, doc.replace(/<!-- results:start -->[\s\S]*<!-- results:end -->/, `<!-- results:start -->\n${table}\n<!-- results:end -->`));
}

import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { migrateTestDatabase } from './support/test-database.js';
import { freePort, spawnApp, stopProcess } from './support/worker-process.js';

/** The built app as an operator starts it: `NODE_ENV=production node dist/src/main.js`. */
function start(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/main.js'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 40 s:\n${output}`));
    }, 40_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const PRIVATE = {
  NODE_ENV: 'production',
  ADMIN_API_KEY: `prod-admin-${randomUUID()}`,
  MITTO_WEBHOOK_SECRET: `prod-webhook-${randomUUID()}`,
  MITTO_BASE_URL: 'http://127.0.0.1:9',
};

describe('production refuses unsafe settings (contract: Deployment settings)', () => {
  let running: ChildProcess | undefined;
  afterAll(async () => {
    if (running) await stopProcess(running);
  });

  it.each(['ADMIN_API_KEY', 'MITTO_WEBHOOK_SECRET', 'MITTO_BASE_URL'])('exits at start, naming %s, while it is unset', async (name) => {
    const env: Record<string, string | undefined> = { ...PRIVATE, [name]: undefined };
    const { code, output } = await start(env);
    expect(code).toBe(1);
    expect(output).toContain(`${name}: must be set when NODE_ENV=production`);
  }, 60_000);

  it.each([
    ['ADMIN_API_KEY', 'dev-admin-key-change-me-0000'],
    ['MITTO_WEBHOOK_SECRET', 'dev-webhook-secret'],
    ['MITTO_API_KEY', 'sandbox-key'],
  ])('exits at start while %s holds the value published in .env.example', async (name, value) => {
    const { code, output } = await start({ ...PRIVATE, [name]: value });
    expect(code).toBe(1);
    expect(output).toContain(`${name}: holds a value published in this repository`);
    expect(output).not.toContain(value);
  }, 60_000);

  it('starts with private values, and the published development admin key opens nothing', async () => {
    await migrateTestDatabase(process.env.DATABASE_URL!);
    const port = await freePort();
    running = await spawnApp({ ...PRIVATE, APP_ROLE: 'api', PORT: String(port), QUEUE_PREFIX: `t-${randomUUID().slice(0, 8)}` });
    const published = await fetch(`http://127.0.0.1:${port}/api/admin/tenants`, { headers: { 'x-admin-api-key': 'dev-admin-key-change-me-0000' } });
    expect(published.status).toBe(401);
    const own = await fetch(`http://127.0.0.1:${port}/api/admin/tenants`, { headers: { 'x-admin-api-key': PRIVATE.ADMIN_API_KEY } });
    expect(own.status).toBe(200);
  }, 90_000);
});

import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { buildConfig } from '../../src/config/app.config.js';
import type { AppRole } from '../../src/config/env.schema.js';
import { configureHttpApp } from '../../src/http-app.js';
import { MittoSandbox } from '../../src/mitto-sandbox/sandbox-server.js';
import { createOwnDatabase, dropOwnDatabase, migrateTestDatabase } from './test-database.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const WEBHOOK_SECRET = 'test-webhook-secret';
export const SANDBOX_KEY = 'sandbox-key';

export interface TestApp {
  app: NestExpressApplication;
  url: string;
  db: DataSource;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Boots the real application in this process (real PostgreSQL, Redis and the given Mitto base URL)
 * on a random port, with its own BullMQ prefix so parallel test files never share queues.
 */
export async function startApp(
  overrides: Record<string, string> = {},
  role: AppRole = 'all',
  options: { ownDatabase?: boolean } = {},
): Promise<TestApp> {
  // Each test file has a database of its own; an app whose subject spans every campaign may get one more.
  const ownDatabase = options.ownDatabase ? await createOwnDatabase() : undefined;
  const env: Record<string, string> = {
    APP_ROLE: role,
    ADMIN_API_KEY: ADMIN_KEY,
    MITTO_WEBHOOK_SECRET: WEBHOOK_SECRET,
    MITTO_API_KEY: SANDBOX_KEY,
    QUEUE_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    QUEUE_BACKOFF_MS: '50',
    SWEEPER_INTERVAL_MS: '1000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // this test file's database (test-database.ts), or one of the app's own; processes spawned with env use it too
    DATABASE_URL: ownDatabase ?? process.env.DATABASE_URL!,
    ...overrides,
  };
  // The app reads its configuration from process.env while it boots; put it back afterwards, so one
  // test's settings (say QUEUE_ATTEMPTS=0) never leak into the next app started in this process.
  const saved = { ...process.env };
  const restoreEnv = () => {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  };
  Object.assign(process.env, env);
  let app: NestExpressApplication;
  try {
    await migrateTestDatabase(process.env.DATABASE_URL!);
    const config = buildConfig(process.env);
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRole(role), { bodyParser: false, bufferLogs: true, abortOnError: false });
    configureHttpApp(app, config);
    app.enableShutdownHooks();
    await app.listen(0, '127.0.0.1');
  } finally {
    restoreEnv();
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  const close = async () => {
    await app.close();
    if (ownDatabase) await dropOwnDatabase(ownDatabase);
  };
  return { app, url: `http://127.0.0.1:${port}`, db: app.get(DataSource), env, close };
}

export async function startSandbox(options: Record<string, unknown> = {}): Promise<{ sandbox: MittoSandbox; url: string }> {
  const sandbox = new MittoSandbox({ apiKeys: [SANDBOX_KEY], reportDelayMs: 50, ...options });
  const { url } = await sandbox.start(0);
  return { sandbox, url };
}

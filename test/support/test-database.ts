import { afterAll, beforeAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDatabase, dropDatabase, sleep } from '../../scripts/lib/harness.mjs';
import { dataSourceOptions } from '../../src/database/data-source-options.js';

/** Migrates the run's database once (advisory lock: test files may start in parallel). */
export async function migrateTestDatabase(url: string): Promise<void> {
  const ds = new DataSource(dataSourceOptions(url, 1));
  await ds.initialize();
  try {
    await ds.query('SELECT pg_advisory_lock(4242)');
    await ds.runMigrations();
    await ds.query('SELECT pg_advisory_unlock(4242)');
  } finally {
    await ds.destroy();
  }
}

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The run's database (global-setup): migrated once, then only a template that test files copy. */
const TEMPLATE_URL = process.env.TEST_TEMPLATE_DATABASE_URL ?? process.env.DATABASE_URL;
/** PostgreSQL: "source database is being accessed by other users" (a closing session of the template). */
const OBJECT_IN_USE = '55006';

/**
 * A migrated database of its own, copied from the run's template (a copy takes about a second; running
 * the migrations takes several).
 */
export async function createOwnDatabase(): Promise<string> {
  if (!TEMPLATE_URL) throw new Error('no template database: run e2e tests through jest (test/support/global-setup.mjs)');
  await migrateTestDatabase(TEMPLATE_URL);
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/bulk_sms_own_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  for (let attempt = 1; ; attempt++) {
    try {
      await createDatabase(url, { template: TEMPLATE_URL, adminUrl: ADMIN_URL });
      break;
    } catch (e) {
      // the migration's own session may still be closing on the server
      if ((e as { code?: string }).code !== OBJECT_IN_USE || attempt >= 50) throw e;
      await sleep(200);
    }
  }
  return url;
}

export async function dropOwnDatabase(url: string): Promise<void> {
  await dropDatabase(url, { adminUrl: ADMIN_URL });
}

/**
 * Every test file that uses the database gets one of its own (set as DATABASE_URL before its first hook,
 * dropped after its last): apps of one file never see another file's campaigns. (A campaign a test left
 * `sending` is recovered from PostgreSQL by the next app's sweep, which would send it to that app's
 * sandbox and spoil its counts.)
 */
let fileDatabase: string | undefined;
beforeAll(async () => {
  fileDatabase = await createOwnDatabase();
  process.env.DATABASE_URL = fileDatabase;
}, 120_000);
afterAll(async () => {
  if (fileDatabase && !process.env.KEEP_TEST_DATABASE) await dropOwnDatabase(fileDatabase);
}, 60_000);

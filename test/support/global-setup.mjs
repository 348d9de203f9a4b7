// One fresh database per e2e run (parallel runs never share one). The first test file migrates it, and
// from then on it is a template: every test file works on a copy of its own (test/support/test-database.ts).
import pg from 'pg';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function globalSetup() {
  const name = `bulk_sms_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  process.env.DATABASE_URL = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  process.env.TEST_TEMPLATE_DATABASE_URL = process.env.DATABASE_URL;
  process.env.NODE_ENV = 'test';
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';
}

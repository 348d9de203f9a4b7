// One fresh database per e2e run (parallel runs never share one). The first test file migrates it, and
// from then on it is a template: every test file works on a copy of its own (test/support/test-database.ts).
import { createDatabase } from '../../scripts/lib/harness.mjs';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function globalSetup() {
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/bulk_sms_test_${process.pid}_${Date.now().toString(36)}`);
  await createDatabase(url, { adminUrl: ADMIN_URL });
  process.env.DATABASE_URL = url;
  process.env.TEST_TEMPLATE_DATABASE_URL = process.env.DATABASE_URL;
  process.env.NODE_ENV = 'test';
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';
}

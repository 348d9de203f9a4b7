import { dropDatabase } from '../../scripts/lib/harness.mjs';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function globalTeardown() {
  const url = process.env.TEST_TEMPLATE_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url || process.env.KEEP_TEST_DATABASE) return;
  await dropDatabase(url, { adminUrl: ADMIN_URL });
}

// Creates the database named in DATABASE_URL if it does not exist (PostgreSQL must be running).
import { adminQuery, createDatabase } from './lib/harness.mjs';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bulk_sms';
const name = new URL(url).pathname.slice(1);
const { rowCount } = await adminQuery(url, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
if (!rowCount) {
  await createDatabase(url);
  console.log(`created database ${name}`);
}

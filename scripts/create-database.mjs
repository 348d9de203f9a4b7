// Creates the database named in DATABASE_URL if it does not exist (PostgreSQL must be running).
import pg from 'pg';

const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bulk_sms');
const name = url.pathname.slice(1);
if (!/^\w+$/.test(name)) throw new Error(`unexpected database name: ${name}`);
const adminUrl = new URL(url);
adminUrl.pathname = '/postgres';
const client = new pg.Client({ connectionString: adminUrl.toString() });
await client.connect();
const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
if (!rowCount) {
  await client.query(`CREATE DATABASE ${name}`);
  console.log(`created database ${name}`);
}
await client.end();

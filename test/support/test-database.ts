import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
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

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A database of its own for a test file whose subject is deployment-wide (e.g. reconciliation). */
export async function createOwnDatabase(): Promise<string> {
  const name = `bulk_sms_own_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await admin(`CREATE DATABASE ${name}`);
  return ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

export async function dropOwnDatabase(url: string): Promise<void> {
  await admin(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
}

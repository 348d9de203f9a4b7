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

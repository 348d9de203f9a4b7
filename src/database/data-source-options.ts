import 'reflect-metadata';
import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from '../../migrations/index.js';

/**
 * The one definition of how we talk to PostgreSQL, shared by the Nest app (TypeOrmModule) and the
 * TypeORM CLI (`npm run migration:*`). `synchronize` is never on: the schema is the migrations.
 */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    extra: { max: poolSize, application_name: 'bulk-sms' },
  };
}

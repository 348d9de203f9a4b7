import 'reflect-metadata';
import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { SafeTypeOrmLogger } from './safe-typeorm-logger.js';

/**
 * A pool connect that takes longer than this fails (503 for a request) instead of waiting forever on a
 * database that does not answer.
 */
const CONNECT_TIMEOUT_MS = 5_000;

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
    logger: new SafeTypeOrmLogger(),
    extra: { max: poolSize, application_name: 'bulk-sms', connectionTimeoutMillis: CONNECT_TIMEOUT_MS },
  };
}

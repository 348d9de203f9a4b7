import 'reflect-metadata';
import pg from 'pg';
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
 * Session settings sent at connect. `jit=off`: our statements are short and planned once (prepared), but
 * the generic plan of a batch lease estimates a seq range as a third of a large campaign, which passes
 * `jit_above_cost`; PostgreSQL then JIT-compiled ~90 functions on every execution, ~390 ms each, and a
 * 1M-recipient send fell from ~20k to ~2-5k msg/s (auto_explain of the bench, docs/PERFORMANCE.md).
 */
const SESSION_OPTIONS = '-c jit=off';

/**
 * A pg client that always has an 'error' listener. pg-pool removes its own listener when it hands a client
 * out, and TypeORM adds its listener a few microtasks later; when the server ends a connection right after
 * the handshake (pg_terminate_backend, a failover), the FATAL message can arrive in the same socket read as
 * the handshake's end, inside that gap, and an 'error' event without a listener kills the process. With this
 * listener the client is only marked unusable (pg does that before emitting): the query TypeORM then runs
 * on it fails ("not queryable", a 503) and the pool discards it on release.
 */
class GuardedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {
      /* handled by whoever holds the client: its next query fails, the pool drops it */
    });
  }
}

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
    extra: {
      max: poolSize,
      // A connection, once opened, stays open (pg-pool closes idle ones only above `min`). With its default
      // an idle 10 s closed them all, and the next campaign's first batches paid for new backends (a fork
      // each, cold catalog caches, statements prepared again): a 100k send after 12 s of quiet went
      // 60.7-61.0k msg/s, 63.4-64.5k with this (scripts/bench/timeline.mjs). One the server ends while idle
      // is dropped and reopened on demand.
      min: poolSize,
      // ...which is why TCP keepalives are on: a NAT or firewall between us and the server that drops a
      // quiet connection without a word would otherwise leave the next statement on it hanging until the
      // kernel gives up retransmitting (minutes); with probes after 10 s idle the drop is noticed early.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'bulk-sms',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      Client: GuardedClient,
      options: SESSION_OPTIONS,
    },
  };
}

import { validateEnvironment, type AppRole, type UnknownPolicy } from './env.schema.js';
import { parseHostPortList, type HostPort } from './host-port-list.js';

/** Where Redis lives: one server (standalone, Sentinel-fronted or a proxy) or a Redis Cluster. */
export type RedisServer = { kind: 'single'; url: string } | { kind: 'cluster'; nodes: HostPort[] };

/** Typed configuration, built once from the validated environment. Nothing else reads `process.env`. */
export interface AppConfig {
  env: 'development' | 'production' | 'test';
  role: AppRole;
  http: {
    port: number;
    bodyLimitBytes: number;
    csvLimitBytes: number;
    /** Idle keep-alive sockets live this long; header timeout is one second more (Node requires it larger). */
    keepAliveTimeoutMs: number;
    /** Express `trust proxy` value. */
    trustProxy: boolean | number | string;
    /** Browser origins allowed to call the API (CORS); empty = none. */
    corsOrigins: string[];
  };
  /** The API's own request limit per key (tenant or admin) or, without a key, per client address. */
  apiRateLimit: { max: number; windowMs: number };
  logLevel: string;
  database: { url: string; poolSize: number };
  redis: { server: RedisServer; queuePrefix: string };
  adminApiKey: string;
  mitto: {
    baseUrl: string;
    defaultApiKey: string | undefined;
    webhookSecret: string;
    connectTimeoutMs: number;
    requestTimeoutMs: number;
    maxConnections: number;
  };
  recipients: { defaultRegion: string; phoneValidation: 'fast' | 'library'; defaultTimeZone: string };
  sending: {
    useBulk: boolean;
    batchSize: number;
    workerConcurrency: number;
    creditsPerSegment: number;
    /** Retries after the first try; BullMQ `attempts` = retries + 1 (see docs/ARCHITECTURE.md). */
    retries: number;
    backoffMs: number;
  };
  rateLimits: {
    trafficAccount: { max: number; windowMs: number };
    tenant: { max: number; windowMs: number };
    queue: { max: number; durationMs: number };
  };
  recovery: {
    sweeperIntervalMs: number;
    /** How long a batch lease lasts without renewal (a crashed holder's batch is taken over after it). */
    batchLeaseMs: number;
    unknownSettleAfterMs: number;
    unknownPolicy: UnknownPolicy;
    reconcileAfterMs: number;
    /** Sent messages still without a final status this long after sending are no longer looked up. */
    reconcileHorizonMs: number;
  };
  /** Message retention (MESSAGE_RETENTION_DAYS; docs/OPERATIONS.md, "Retention"). */
  retention: { retentionDays: number; chunkRows: number; rowsPerRun: number };
}

export function buildConfig(raw: Record<string, unknown>): AppConfig {
  const e = validateEnvironment(raw);
  return {
    env: e.NODE_ENV as AppConfig['env'],
    role: e.APP_ROLE,
    http: {
      port: e.PORT,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      csvLimitBytes: e.CSV_LIMIT_BYTES,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      trustProxy: trustProxy(e.TRUST_PROXY),
      corsOrigins: e.CORS_ORIGINS,
    },
    apiRateLimit: { max: e.API_RATE_LIMIT, windowMs: e.API_RATE_LIMIT_WINDOW_MS },
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    redis: {
      server: e.REDIS_CLUSTER_NODES
        ? { kind: 'cluster', nodes: parseHostPortList(e.REDIS_CLUSTER_NODES)! }
        : { kind: 'single', url: e.REDIS_URL },
      queuePrefix: e.QUEUE_PREFIX,
    },
    adminApiKey: e.ADMIN_API_KEY,
    mitto: {
      baseUrl: e.MITTO_BASE_URL.replace(/\/+$/, ''),
      defaultApiKey: e.MITTO_API_KEY || undefined,
      webhookSecret: e.MITTO_WEBHOOK_SECRET,
      connectTimeoutMs: e.MITTO_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: e.MITTO_REQUEST_TIMEOUT_MS,
      maxConnections: e.MITTO_MAX_CONNECTIONS,
    },
    recipients: { defaultRegion: e.DEFAULT_PHONE_REGION, phoneValidation: e.PHONE_VALIDATION, defaultTimeZone: e.DEFAULT_TIME_ZONE },
    sending: {
      useBulk: e.USE_BULK_SMS,
      batchSize: e.SMS_BATCH_SIZE,
      workerConcurrency: e.WORKER_CONCURRENCY,
      creditsPerSegment: e.CREDITS_PER_SEGMENT,
      retries: e.QUEUE_ATTEMPTS,
      backoffMs: e.QUEUE_BACKOFF_MS,
    },
    rateLimits: {
      trafficAccount: { max: e.RATE_LIMIT_TRAFFIC_ACCOUNT_MAX, windowMs: e.RATE_LIMIT_TRAFFIC_ACCOUNT_WINDOW_MS },
      tenant: { max: e.RATE_LIMIT_TENANT_MAX, windowMs: e.RATE_LIMIT_TENANT_WINDOW_MS },
      queue: { max: e.QUEUE_RATE_MAX, durationMs: e.QUEUE_RATE_DURATION_MS },
    },
    recovery: {
      sweeperIntervalMs: e.SWEEPER_INTERVAL_MS,
      batchLeaseMs: e.BATCH_LEASE_MS,
      unknownSettleAfterMs: e.UNKNOWN_SETTLE_AFTER_MS,
      unknownPolicy: e.UNKNOWN_POLICY,
      reconcileAfterMs: e.RECONCILE_AFTER_MS,
      reconcileHorizonMs: e.RECONCILE_HORIZON_MS,
    },
    retention: { retentionDays: e.MESSAGE_RETENTION_DAYS, chunkRows: e.MESSAGE_PURGE_CHUNK_ROWS, rowsPerRun: e.MESSAGE_PURGE_ROWS_PER_RUN },
  };
}

function trustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

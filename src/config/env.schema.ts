import { Transform, plainToInstance } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDivisibleBy,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { productionProblems } from './production-safety.js';
import { isValidTimeZone } from '../guard-rails/time-zone.js';
import { IsHostPortList } from './host-port-list.js';

/**
 * Every environment variable the service reads, with its default. This class is the only place that
 * knows variable names; `app.config.ts` turns a validated instance into typed config namespaces.
 * Defaults let the app start on a developer machine (local PostgreSQL and Redis) with no `.env`.
 */
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : value;
};
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : value;

/** A browser origin: scheme, host and optional port; no path, no trailing slash, no wildcard. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?$/;

@ValidatorConstraint({ name: 'ianaTimeZone' })
class IanaTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isValidTimeZone(value);
  }
  defaultMessage(): string {
    return 'must be an IANA time zone such as "Europe/Zurich" or "UTC"';
  }
}

export const APP_ROLES = ['all', 'api', 'worker'] as const;
export type AppRole = (typeof APP_ROLES)[number];
export const UNKNOWN_POLICIES = ['fail', 'resend'] as const;
export type UnknownPolicy = (typeof UNKNOWN_POLICIES)[number];

export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test']) NODE_ENV = 'development';
  @IsIn(APP_ROLES) APP_ROLE: AppRole = 'all';
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';
  @Transform(toInt) @IsInt() @Min(1024) BODY_LIMIT_BYTES = 2 * 1024 * 1024;
  @Transform(toInt) @IsInt() @Min(1024) CSV_LIMIT_BYTES = 100 * 1024 * 1024;
  /** Longer than a load balancer's idle timeout (AWS ALB 60 s), so the balancer, not us, closes idle sockets. */
  @Transform(toInt) @IsInt() @Min(1000) HTTP_KEEP_ALIVE_TIMEOUT_MS = 75_000;
  /** Express `trust proxy`: whose X-Forwarded-For to believe; the default trusts private networks only. */
  @IsString() @Matches(/^(true|false|\d+|[0-9A-Za-z.:/, -]+)$/) TRUST_PROXY = 'loopback, linklocal, uniquelocal';
  @Transform(toList) @IsArray() @Matches(ORIGIN, { each: true, message: 'each origin must look like https://dashboard.example.com' })
  CORS_ORIGINS: string[] = [];
  @Transform(toInt) @IsInt() @Min(1) API_RATE_LIMIT = 600;
  @Transform(toInt) @IsInt() @Min(1000) @IsDivisibleBy(1000, { message: 'API_RATE_LIMIT_WINDOW_MS must be whole seconds (a multiple of 1000)' })
  API_RATE_LIMIT_WINDOW_MS = 10_000;

  @IsString() @Matches(/^postgres(ql)?:\/\//) DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/bulk_sms';
  @Transform(toInt) @IsInt() @Min(1) @Max(200) DATABASE_POOL_SIZE = 20;
  @IsString() @Matches(/^rediss?:\/\//) REDIS_URL = 'redis://127.0.0.1:6379';
  /** Seeds of a Redis Cluster; when set, every Redis user connects to the cluster and REDIS_URL is unused. */
  @ValidateIf((e: EnvironmentVariables) => e.REDIS_CLUSTER_NODES !== '') @IsHostPortList() REDIS_CLUSTER_NODES = '';
  // Braces are refused because the app wraps the prefix in Redis Cluster hash tags itself (queues.module.ts).
  @IsString() @Matches(/^[^{}]*$/, { message: 'must not contain { or } (the app adds Redis Cluster hash tags itself)' })
  QUEUE_PREFIX = 'bulk-sms';

  @IsString() @MinLength(16) ADMIN_API_KEY = 'dev-admin-key-change-me-0000';

  @IsUrl({ require_tld: false, require_protocol: true }) MITTO_BASE_URL = 'http://127.0.0.1:4010';
  @IsOptional() @IsString() MITTO_API_KEY = 'sandbox-key';
  @IsString() @MinLength(8) MITTO_WEBHOOK_SECRET = 'dev-webhook-secret';
  @Transform(toInt) @IsInt() @Min(100) MITTO_CONNECT_TIMEOUT_MS = 5_000;
  @Transform(toInt) @IsInt() @Min(100) MITTO_REQUEST_TIMEOUT_MS = 30_000;
  @Transform(toInt) @IsInt() @Min(1) @Max(1024) MITTO_MAX_CONNECTIONS = 64;
  @IsString() @Matches(/^[A-Z]{2}$/) DEFAULT_PHONE_REGION = 'CH';
  @IsIn(['fast', 'library']) PHONE_VALIDATION: 'fast' | 'library' = 'fast';
  /** IANA zone of a recipient whose zone cannot be told from the number (send windows). */
  @IsString() @Validate(IanaTimeZone) DEFAULT_TIME_ZONE = 'UTC';

  @Transform(toBool) @IsBoolean() USE_BULK_SMS = false;
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) SMS_BATCH_SIZE = 200;
  @Transform(toInt) @IsInt() @Min(1) @Max(256) WORKER_CONCURRENCY = 5;
  @Transform(toInt) @IsInt() @Min(1) CREDITS_PER_SEGMENT = 1;

  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_TRAFFIC_ACCOUNT_MAX = 100;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_TRAFFIC_ACCOUNT_WINDOW_MS = 1000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_TENANT_MAX = 50;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_TENANT_WINDOW_MS = 1000;

  @Transform(toInt) @IsInt() @Min(1) QUEUE_RATE_MAX = 50;
  @Transform(toInt) @IsInt() @Min(1) QUEUE_RATE_DURATION_MS = 1000;
  @Transform(toInt) @IsInt() @Min(0) @Max(20) QUEUE_ATTEMPTS = 5;
  @Transform(toInt) @IsInt() @Min(1) QUEUE_BACKOFF_MS = 3000;

  @Transform(toInt) @IsInt() @Min(1000) SWEEPER_INTERVAL_MS = 15_000;
  @Transform(toInt) @IsInt() @Min(500) BATCH_LEASE_MS = 30_000;
  @Transform(toInt) @IsInt() @Min(1000) UNKNOWN_SETTLE_AFTER_MS = 15 * 60_000;
  @IsIn(UNKNOWN_POLICIES) UNKNOWN_POLICY: UnknownPolicy = 'fail';
  @Transform(toInt) @IsInt() @Min(1000) RECONCILE_AFTER_MS = 10 * 60_000;
  @Transform(toInt) @IsInt() @Min(60_000) RECONCILE_HORIZON_MS = 48 * 3600_000;

  /** Days after a campaign settled before its message rows are deleted; 0 keeps them forever. */
  @Transform(toInt) @IsInt() @Min(0) @Max(36_500) MESSAGE_RETENTION_DAYS = 90;
  /** Rows per DELETE statement of the purge (one short transaction each). */
  @Transform(toInt) @IsInt() @Min(1) @Max(50_000) MESSAGE_PURGE_CHUNK_ROWS = 2_000;
  /** Rows the purge deletes per run at most (a run every SWEEPER_INTERVAL_MS); a backlog takes several runs. */
  @Transform(toInt) @IsInt() @Min(1) MESSAGE_PURGE_ROWS_PER_RUN = 20_000;
}

/**
 * Validates `process.env`-like input; throws one error naming every bad variable. With
 * NODE_ENV=production it also refuses unset or published secrets (production-safety.ts).
 */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const known = new EnvironmentVariables();
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(known)) {
    const value = raw[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const env = plainToInstance(EnvironmentVariables, input, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  ${e.property}=${JSON.stringify(input[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid environment configuration:\n${lines.join('\n')}`);
  }
  const unsafe = productionProblems(env.NODE_ENV, input);
  if (unsafe.length > 0) throw new Error(`Refusing to start with NODE_ENV=production:\n${unsafe.join('\n')}`);
  // The sandbox key is a development convenience; production traffic accounts bring their own or MITTO_API_KEY.
  if (env.NODE_ENV === 'production' && input.MITTO_API_KEY === undefined) env.MITTO_API_KEY = '';
  return env;
}

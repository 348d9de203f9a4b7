import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BullModule } from '@nestjs/bullmq';
import type { ConnectionOptions } from 'bullmq';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildConfig, type AppConfig } from './config/app.config.js';
import { safeError, safeRequest, safeResponse, scrubText } from './common/safe-log.js';
import type { AppRole } from './config/env.schema.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { BULL_CONNECTION, RedisModule } from './redis/redis.module.js';
import { HealthModule } from './health/health.module.js';
import { QueuesModule } from './queues/queues.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { CampaignsModule } from './campaigns/campaigns.module.js';
import { MessagingModule } from './messaging/messaging.module.js';
import { StatusModule } from './status/status.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { EventsModule } from './events/events.module.js';
import { SuppressionsModule } from './suppressions/suppressions.module.js';
import { WorkersModule } from './workers/workers.module.js';
import { RequestLimitsModule } from './request-limits/request-limits.module.js';

/**
 * The level of a request's log line. 429: a client knocking past its request limit would write a line per
 * refusal; the counter bulksms_api_requests_limited_total tells the same at no cost. 503: a dependency is
 * down, already logged as a warning by the exception filter; 500 is a bug.
 */
export function requestLogLevel(status: number): 'debug' | 'info' | 'warn' | 'error' {
  if (status === 429) return 'debug';
  if (status === 503) return 'warn';
  return status >= 500 ? 'error' : 'info';
}

/**
 * The one deployable. `APP_ROLE` decides what runs in this process: `api` serves HTTP only,
 * `worker` runs the BullMQ processors only (no HTTP listener), `all` does both.
 */
@Module({})
export class AppModule {
  static forRole(role: AppRole): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, cache: true, ignoreEnvFile: true, validate: buildConfig }),
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<AppConfig, true>) => ({
            pinoHttp: {
              level: config.get('logLevel', { infer: true }),
              genReqId: (req: IncomingMessage) => {
                const given = req.headers['x-request-id'];
                return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
              },
              // Whitelists, not redaction lists: no headers, no bodies, no SQL or parameters (safe-log.ts).
              serializers: { err: safeError, req: safeRequest, res: safeResponse },
              wrapSerializers: false,
              // Free-text messages too (`${message}: ${reason}`): numbers, keys and hashes scrubbed.
              hooks: {
                logMethod(args: unknown[], method: (...a: unknown[]) => void) {
                  method.apply(this, args.map((a) => (typeof a === 'string' ? scrubText(a) : a)));
                },
              },
              autoLogging: { ignore: (req: IncomingMessage) => /^\/(health|metrics)/.test(req.url ?? '') },
              customLogLevel: (_req: IncomingMessage, res: ServerResponse) => requestLogLevel(res.statusCode),
              customProps: () => ({ role }),
            },
          }),
        }),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<AppConfig, true>) => {
            const db = config.get('database', { infer: true });
            return dataSourceOptions(db.url, db.poolSize);
          },
        }),
        // Each queue adds its own hash-tagged prefix (QueuesModule); the connection comes from RedisModule.
        BullModule.forRootAsync({
          inject: [ConfigService, BULL_CONNECTION],
          useFactory: (config: ConfigService<AppConfig, true>, connection: ConnectionOptions) => ({
            connection,
            prefix: config.get('redis', { infer: true }).queuePrefix,
          }),
        }),
        RedisModule,
        MetricsModule,
        EventsModule,
        QueuesModule,
        HealthModule,
        TenantsModule,
        CampaignsModule,
        SuppressionsModule,
        MessagingModule,
        StatusModule,
        ...(role === 'worker' ? [] : [RequestLimitsModule]),
        ...(role === 'api' ? [] : [WorkersModule]),
      ],
    };
  }
}

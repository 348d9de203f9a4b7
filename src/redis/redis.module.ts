import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ConnectionOptions } from 'bullmq';
import type { AppConfig } from '../config/app.config.js';
import { closeRedis, createAppClient, createBullConnection, type RedisClient } from './redis-clients.js';

/** The app's own client (`RedisClient`: a single Redis or a Cluster). */
export const REDIS = Symbol('REDIS');
export const InjectRedis = () => Inject(REDIS);
/** BullMQ's `connection` (options for a single Redis, a Cluster instance otherwise); used by app.module. */
export const BULL_CONNECTION = Symbol('BULL_CONNECTION');

/**
 * The one place that connects to Redis (see redis-clients.ts): the app's shared client and BullMQ's
 * connection, both from `AppConfig.redis.server`. Closes what it opened at shutdown; by then the
 * workers have stopped (they close in onModuleDestroy) and BullMQ never closes a client it was given.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => createAppClient(config.get('redis', { infer: true }).server),
    },
    {
      provide: BULL_CONNECTION,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => createBullConnection(config.get('redis', { infer: true }).server),
    },
  ],
  exports: [REDIS, BULL_CONNECTION],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(BULL_CONNECTION) private readonly bullConnection: ConnectionOptions,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([closeRedis(this.redis), closeRedis(this.bullConnection)]);
  }
}

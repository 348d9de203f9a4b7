import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { MittoClient } from './mitto.client.js';
import { MITTO_CLIENT_OPTIONS, type MittoClientOptions } from './mitto.types.js';

/**
 * The one Mitto client (one connection pool for the process), shared by sending (`messaging/`) and delivery
 * status (`status/`). What Mitto's answers mean is read by the pure functions next to it.
 */
@Module({
  providers: [
    {
      provide: MITTO_CLIENT_OPTIONS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>): MittoClientOptions => {
        const m = config.get('mitto', { infer: true });
        return { baseUrl: m.baseUrl, connectTimeoutMs: m.connectTimeoutMs, requestTimeoutMs: m.requestTimeoutMs, maxConnections: m.maxConnections };
      },
    },
    MittoClient,
  ],
  exports: [MittoClient],
})
export class MittoModule {}

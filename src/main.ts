import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { buildConfig } from './config/app.config.js';
import { AppModule } from './app.module.js';
import { configureHttpApp } from './http-app.js';

/**
 * Entry point. Validates the environment before anything starts (a bad value exits 1 naming the
 * variable), then boots the role chosen by APP_ROLE. SIGTERM/SIGINT close the app gracefully:
 * workers finish their in-flight batches before the process exits.
 */
async function bootstrap(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = buildConfig(process.env);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }

  let app: INestApplicationContext;
  if (config.role === 'worker') {
    app = await NestFactory.createApplicationContext(AppModule.forRole('worker'), { bufferLogs: true });
    app.useLogger(app.get(Logger));
  } else {
    const http = await NestFactory.create<NestExpressApplication>(AppModule.forRole(config.role), {
      bodyParser: false,
      bufferLogs: true,
    });
    configureHttpApp(http, config);
    await http.listen(config.http.port, '0.0.0.0');
    app = http;
  }
  app.enableShutdownHooks();
  app.get(Logger).log(`bulk-sms started (role=${config.role}, bulk=${config.sending.useBulk})`, 'Bootstrap');
}

void bootstrap();

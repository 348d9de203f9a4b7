import { Logger as NestLogger } from '@nestjs/common';
import type { Logger } from 'typeorm';
import { safeError, scrubText } from '../common/safe-log.js';

/**
 * TypeORM's logging without data. Its own loggers print a failed query with every parameter (phone
 * numbers, message texts, variables, key hashes); this one never sees SQL text or parameters through to
 * the log. Query errors go at debug level: the code that ran the query decides whether the failure
 * matters and logs it (the exception filter does for requests), so they are not reported twice.
 */
export class SafeTypeOrmLogger implements Logger {
  private readonly logger = new NestLogger('TypeORM');

  logQuery(): void {
    /* queries are never logged: their parameters are customer data */
  }

  logQueryError(error: string | Error): void {
    this.logger.debug({ err: safeError(error) }, 'query failed');
  }

  logQuerySlow(time: number): void {
    this.logger.warn({ durationMs: time }, 'slow query');
  }

  logSchemaBuild(): void {
    /* synchronize is never on */
  }

  logMigration(message: string): void {
    this.logger.log(scrubText(message));
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = scrubText(String(message));
    if (level === 'warn') this.logger.warn(text);
    else this.logger.log(text);
  }
}

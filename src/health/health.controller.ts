import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectRedis } from '../redis/redis.module.js';
import { checkRedis, type RedisClient } from '../redis/redis-clients.js';

/** Liveness (the process answers) and readiness (PostgreSQL and Redis, every cluster master, really answer). */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @InjectRedis() private readonly redis: RedisClient,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      async () => {
        const indicator = this.indicators.check('redis');
        try {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            checkRedis(this.redis),
            new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 2000))),
          ]).finally(() => clearTimeout(timer));
          return indicator.up();
        } catch (e) {
          return indicator.down({ message: e instanceof Error ? e.message : 'unreachable' });
        }
      },
    ]);
  }
}

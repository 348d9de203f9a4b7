import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { InjectRedis } from '../redis/redis.module.js';

const READY = { status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } }, error: {}, details: { database: { status: 'up' }, redis: { status: 'up' } } };
const NOT_READY = {
  status: 'error',
  info: { redis: { status: 'up' } },
  error: { database: { status: 'down', message: 'timeout' } },
  details: { database: { status: 'down', message: 'timeout' }, redis: { status: 'up' } },
};

/**
 * Liveness (the process answers) and readiness (PostgreSQL and Redis really answer). Public and never
 * under the API request limit: load balancers and orchestrators call them.
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness', description: 'The process answers HTTP. No dependency is checked: restart the process only when this fails.', security: [] })
  @ApiOkResponse({ description: 'Alive', schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } }, example: { status: 'ok' } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness',
    description: 'PostgreSQL and Redis really answer (each within 2 s). A load balancer sends traffic only while this is 200.',
    security: [],
  })
  @ApiOkResponse({ description: 'Ready to serve', schema: { type: 'object' }, example: READY })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down; `error` names it', schema: { type: 'object' }, example: NOT_READY })
  @HealthCheck({ swaggerDocumentation: false })
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      async () => {
        const indicator = this.indicators.check('redis');
        try {
          const pong = await Promise.race([
            this.redis.ping(),
            new Promise<string>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000)),
          ]);
          return pong === 'PONG' ? indicator.up() : indicator.down({ message: 'unexpected reply' });
        } catch (e) {
          return indicator.down({ message: e instanceof Error ? e.message : 'unreachable' });
        }
      },
    ]);
  }
}

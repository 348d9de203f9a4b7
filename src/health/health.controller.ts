import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import { ErrorBodyView } from '../common/api-errors.decorator.js';
import { AppError } from '../common/app-error.js';
import { InjectRedis } from '../redis/redis.module.js';
import { checkRedis, type RedisClient } from '../redis/redis-clients.js';

const READY = { status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } }, error: {}, details: { database: { status: 'up' }, redis: { status: 'up' } } };
const NOT_READY = {
  error: { code: 'SERVICE_UNAVAILABLE', message: 'Not ready: database unavailable', details: { unavailable: ['database'] } },
};

/**
 * Liveness (the process answers) and readiness (PostgreSQL and Redis, every cluster master, really answer).
 * Public and never under the API request limit: load balancers and orchestrators call them.
 */
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
  @ApiOperation({ summary: 'Liveness', description: 'The process answers HTTP. No dependency is checked: restart the process only when this fails.', security: [] })
  @ApiOkResponse({ description: 'Alive', schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } }, example: { status: 'ok' } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness',
    description: 'PostgreSQL and Redis (every master of a Redis Cluster) really answer, each within 2 s. A load balancer sends traffic only while this is 200.',
    security: [],
  })
  @ApiOkResponse({ description: 'Ready to serve', schema: { type: 'object' }, example: READY })
  @ApiServiceUnavailableResponse({
    description: '`SERVICE_UNAVAILABLE`: a dependency is down; `details.unavailable` names it',
    type: ErrorBodyView,
    example: NOT_READY,
  })
  @HealthCheck({ swaggerDocumentation: false })
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.check();
    } catch (e) {
      // terminus answers 503 with its own body; the contract's body names the dependencies that are down.
      if (!(e instanceof ServiceUnavailableException)) throw e;
      const down = Object.keys((e.getResponse() as Partial<HealthCheckResult>).error ?? {});
      throw new AppError('SERVICE_UNAVAILABLE', `Not ready: ${down.join(', ') || 'a dependency'} unavailable`, { unavailable: down });
    }
  }

  private check(): Promise<HealthCheckResult> {
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

import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { OperationsMetricsService } from './operations-metrics.service.js';

const SCRAPE_EXAMPLE =
  '# HELP bulksms_messages Messages of active campaigns (sending, paused) by status\n# TYPE bulksms_messages gauge\n' +
  'bulksms_messages{status="queued"} 6200\nbulksms_messages{status="delivered"} 12300\n';

/**
 * Prometheus scrape endpoint. No authentication and no request limit: operators keep it on the internal
 * network (docs/STATUS.md).
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: OperationsMetricsService) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description: 'Messages by status, queue depth, Mitto latency, limiter and webhook counters, and the Node process metrics (docs/STATUS.md). Keep it on the internal network.',
    security: [],
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' }, example: SCRAPE_EXAMPLE })
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.scrape();
    res.status(200).type(this.metrics.contentType).send(body);
  }
}

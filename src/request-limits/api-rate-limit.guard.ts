import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppError } from '../common/app-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { API_RATE_LIMIT, type LimitedBy } from './api-rate-limit.decorator.js';
import { requestLimitKey } from './request-limit-key.js';
import { RequestLimiter } from './request-limiter.service.js';

/**
 * Global guard, so it runs before the authentication guards: a refused request costs one Redis call and
 * never reaches PostgreSQL. Only operations marked with @ApiRateLimit are counted (the webhook, health,
 * metrics and docs are not). Every counted answer tells the client its budget (RateLimit-* headers).
 */
@Injectable()
export class ApiRateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RequestLimiter,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const by = this.reflector.getAllAndOverride<LimitedBy | undefined>(API_RATE_LIMIT, [context.getHandler(), context.getClass()]);
    if (!by) return true;
    const http = context.switchToHttp();
    const key = requestLimitKey(by, http.getRequest<Request>());
    const verdict = await this.limiter.consume(key.id);
    const res = http.getResponse<Response>();
    res.setHeader('RateLimit-Limit', String(verdict.limit));
    res.setHeader('RateLimit-Remaining', String(verdict.remaining));
    res.setHeader('RateLimit-Reset', String(verdict.resetSeconds));
    if (verdict.allowed) return true;
    this.metrics.apiRequestsLimited.inc({ by: key.kind });
    throw new AppError('RATE_LIMITED', `Too many requests; try again in ${verdict.resetSeconds} s`, {
      retryAfterSeconds: verdict.resetSeconds,
      limit: verdict.limit,
      windowSeconds: this.limiter.windowSeconds,
    });
  }
}

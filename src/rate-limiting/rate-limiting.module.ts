import { Module } from '@nestjs/common';
import { RateLimiterService } from './rate-limiter.service.js';

/** The Redis client (RedisModule) and MetricsService (MetricsModule) come from global modules. */
@Module({ providers: [RateLimiterService], exports: [RateLimiterService] })
export class RateLimitingModule {}

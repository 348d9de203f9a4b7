import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiRateLimitGuard } from './api-rate-limit.guard.js';
import { RequestLimiter } from './request-limiter.service.js';

/** The API's own request limit (api-contract.md, 429 RATE_LIMITED). Not the Mitto limiter: see rate-limiting/. */
@Module({
  providers: [RequestLimiter, { provide: APP_GUARD, useClass: ApiRateLimitGuard }],
})
export class RequestLimitsModule {}
